//! Reaching the database: the URL and libpq's `PG*` variables, TLS, and the connection's
//! own thread.

use std::sync::Arc;
use std::time::Duration;

use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::{Client, Config, NoTls};

use super::StoreError;

/// A PostgreSQL store as the user named it: the connection settings, and how messages
/// show it (never with its password).
#[derive(Clone)]
pub struct PgUrl {
    config: Config,
    /// `postgres://user@host:port/database`.
    pub shown: String,
}

impl std::fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl PartialEq for PgUrl {
    fn eq(&self, other: &PgUrl) -> bool {
        self.shown == other.shown
    }
}

impl Eq for PgUrl {}

/// Read a `postgres://` (or `postgresql://`) URL, filling what it leaves out from libpq's
/// variables (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`, `PGSSLMODE`) and
/// libpq's defaults (the local socket directory, port 5432, the login name). The error
/// never repeats the password.
pub fn parse_url(text: &str) -> Result<PgUrl, String> {
    let mut config: Config = text.parse().map_err(|e: tokio_postgres::Error| {
        format!(
            "`{}` is not a PostgreSQL URL: {e}\n  hint: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require]",
            without_password(text)
        )
    })?;
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if config.get_hosts().is_empty() {
        match var("PGHOST") {
            Some(hosts) => {
                for h in hosts.split(',') {
                    config.host(h);
                }
            }
            None if std::path::Path::new("/var/run/postgresql").is_dir() => {
                config.host_path("/var/run/postgresql");
            }
            None => {
                config.host("localhost");
            }
        }
    }
    if config.get_ports().is_empty()
        && let Some(port) = var("PGPORT")
    {
        let port: u16 = port
            .parse()
            .map_err(|_| format!("PGPORT `{port}` is not a port number"))?;
        config.port(port);
    }
    if config.get_user().is_none() {
        let user = var("PGUSER")
            .or_else(|| var("USER"))
            .or_else(|| var("LOGNAME"))
            .ok_or("no PostgreSQL user: put one in the URL (postgres://USER@…) or set PGUSER")?;
        config.user(user);
    }
    if config.get_password().is_none()
        && let Some(password) = var("PGPASSWORD")
    {
        config.password(password);
    }
    if config.get_dbname().is_none()
        && let Some(db) = var("PGDATABASE")
    {
        config.dbname(db);
    }
    if !text.contains("sslmode")
        && let Some(mode) = var("PGSSLMODE")
    {
        config.ssl_mode(match mode.as_str() {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            other => {
                return Err(format!(
                    "PGSSLMODE `{other}` is not supported (disable, prefer or require)"
                ));
            }
        });
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    config.application_name("tasker");
    let shown = show(&config);
    Ok(PgUrl { config, shown })
}

/// `postgres://user@host:port/database`, as messages name the store.
fn show(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("");
    let db = config.get_dbname().unwrap_or(user);
    format!("postgres://{user}@{host}:{port}/{db}")
}

/// `text` with the password of its authority (`user:PASSWORD@`) and any `password=`
/// parameter replaced.
pub fn without_password(text: &str) -> String {
    let mut out = text.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest = &out[scheme_end + 3..];
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@')
            && let Some(colon) = rest[..at].find(':')
        {
            let start = scheme_end + 3 + colon + 1;
            let end = scheme_end + 3 + at;
            out.replace_range(start..end, "***");
        }
    }
    if let Some(i) = out.find("password=") {
        let start = i + "password=".len();
        let end = out[start..]
            .find(['&', ' '])
            .map_or(out.len(), |e| start + e);
        out.replace_range(start..end, "***");
    }
    out
}

/// What a connection does with the notifications it receives (`LISTEN`).
pub(crate) type OnNotify = Box<dyn Fn() + Send>;

/// Drive `connection` until the client is dropped, handing each notification to `on`.
async fn drive<S, T>(mut connection: tokio_postgres::Connection<S, T>, on: Option<OnNotify>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            Some(Ok(tokio_postgres::AsyncMessage::Notification(_))) => {
                if let Some(on) = &on {
                    on();
                }
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return,
        }
    }
}

/// Connect, and drive the connection on a thread of its own until the client is dropped;
/// notifications go to `on_notify`.
pub(super) fn connect(url: &PgUrl, on_notify: Option<OnNotify>) -> Result<Client, StoreError> {
    let config = url.config.clone();
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("tasker-postgres".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            };
            runtime.block_on(async move {
                if config.get_ssl_mode() == SslMode::Disable {
                    match config.connect(NoTls).await {
                        Ok((client, connection)) => {
                            let _ = tx.send(Ok(client));
                            drive(connection, on_notify).await;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(reason(&e)));
                        }
                    }
                } else {
                    match config.connect(tls()).await {
                        Ok((client, connection)) => {
                            let _ = tx.send(Ok(client));
                            drive(connection, on_notify).await;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(reason(&e)));
                        }
                    }
                }
            });
        });
    let failed = |message: String| StoreError::Open {
        path: url.shown.clone(),
        message,
    };
    spawned.map_err(|e| failed(format!("cannot start its connection thread: {e}")))?;
    rx.recv()
        .map_err(|_| failed("the connection thread ended".into()))?
        .map_err(failed)
}

/// Why connecting failed, in words.
fn reason(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("the server refused the connection: {}", db.message());
    }
    let text = e.to_string();
    let source = std::error::Error::source(e).map(ToString::to_string);
    match source {
        Some(s) if !text.contains(&s) => format!("cannot reach PostgreSQL: {text}: {s}"),
        _ => format!("cannot reach PostgreSQL: {text}"),
    }
}

/// TLS as libpq's `prefer` and `require` mean it: the connection is encrypted; the
/// server's certificate is not checked against an authority.
fn tls() -> tokio_postgres_rustls::MakeRustlsConnect {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map(|b| {
            b.dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
                .with_no_client_auth()
        })
        .unwrap_or_else(|_| {
            rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .expect("TLS 1.3 is supported by ring")
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth()
        });
    tokio_postgres_rustls::MakeRustlsConnect::new(config)
}

/// Accepts the server's certificate, still checking that the handshake is signed by it.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_never_shown() {
        assert_eq!(
            without_password("postgres://ada:s3cret@db:5432/t"),
            "postgres://ada:***@db:5432/t"
        );
        assert_eq!(
            without_password("postgres://db/t?password=s3cret&sslmode=require"),
            "postgres://db/t?password=***&sslmode=require"
        );
        let url = parse_url("postgres://ada:s3cret@db.example:6543/orders").expect("url");
        assert_eq!(url.shown, "postgres://ada@db.example:6543/orders");
        let bad = parse_url("postgres://ada:s3cret@db:notaport/t").expect_err("bad port");
        assert!(!bad.contains("s3cret"), "{bad}");
    }
}
