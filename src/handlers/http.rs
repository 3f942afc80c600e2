//! HTTP steps, with Tasker's API handler rules: 2xx succeeds; 429 and 503 are retried,
//! honouring `Retry-After`; 400, 401, 403, 404 and 422 are permanent; anything else, and
//! transport errors, are retried.

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Map, Value as Json, json};

use super::process::Captured;
use super::{BoxFuture, Failure, Handler, Outcome, Request};
use crate::model::FailureClass;
use crate::templates::duration::human;
use crate::templates::{Action, HttpBody};

/// Responses larger than this fail the step rather than exhaust memory.
/// A response body is kept as the step's result, so it may be as big as a result.
const MAX_BODY: usize = crate::limits::RESULT as usize;

/// How long a call past its deadline is given to read what had come by then.
const LATE_LOOK: Duration = Duration::from_millis(20);

/// Runs `http:` steps.
#[derive(Debug)]
pub struct HttpStep;

impl Handler for HttpStep {
    fn execute(&self, req: Request) -> BoxFuture<Outcome> {
        Box::pin(run(req))
    }
}

/// One client for the whole run: connections are reused between steps.
fn client() -> Result<&'static reqwest::Client, String> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            crate::install_tls_provider();
            reqwest::Client::builder()
                .user_agent(concat!("tasker/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| format!("cannot create the HTTP client: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

async fn run(req: Request) -> Outcome {
    let Action::Http(http) = &req.action else {
        return Outcome::failed(Failure::permanent(FailureClass::Http, "not an HTTP step"));
    };
    let client = match client() {
        Ok(c) => c,
        Err(e) => return Outcome::failed(Failure::permanent(FailureClass::Http, e)),
    };
    let method = match reqwest::Method::from_bytes(http.method.as_bytes()) {
        Ok(m) => m,
        Err(_) => {
            return Outcome::failed(Failure::permanent(
                FailureClass::Http,
                format!("invalid method `{}`", http.method),
            ));
        }
    };
    let url = match reqwest::Url::parse(&http.url) {
        Ok(u) => u,
        Err(e) => {
            return Outcome::failed(Failure::permanent(
                FailureClass::Http,
                format!("invalid URL `{}`: {e}", http.url),
            ));
        }
    };
    let mut request = client.request(method, url.clone());
    for (k, v) in &http.headers {
        request = request.header(k, v);
    }
    let has_content_type = http
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    match &http.body {
        HttpBody::None => {}
        HttpBody::Text(t) => request = request.body(t.clone()),
        HttpBody::Json(j) => {
            if !has_content_type {
                request = request.header("content-type", "application/json");
            }
            request = request.body(j.to_string());
        }
    }
    // The deadline is kept here, not by the client: on a runtime of one thread a reply can
    // come while the thread is busy (a commit held by another writer) and be noticed only
    // after the deadline, and a reply that came in time is the call's reply.
    let timeout = http.timeout.or(req.timeout);

    let aborted = super::process::reaches(req.abort.clone(), super::Abort::Stop);
    let exchange = async {
        let mut response = request.send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        let mut oversized = false;
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_BODY {
                oversized = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok::<_, reqwest::Error>((status, headers, body, oversized))
    };
    let mut exchange = std::pin::pin!(exchange);
    let deadline = super::process::expires(timeout);
    let ended = tokio::select! {
        biased;
        r = &mut exchange => Some(r),
        () = aborted => {
            return Outcome::failed(Failure::retryable(
                FailureClass::Interrupted, "stopped: the run was interrupted"));
        }
        () = deadline => None,
    };
    // At the deadline, what had already come is read (the connection's task may not have
    // run since): a look, not more waiting.
    let ended = match ended {
        Some(r) => Some(r),
        None => tokio::time::timeout(LATE_LOOK, &mut exchange).await.ok(),
    };
    let (status, headers, body, oversized) = match ended {
        Some(Ok(parts)) => parts,
        Some(Err(e)) => return Outcome::failed(transport_failure(&e, &url, timeout)),
        None => return Outcome::failed(timed_out(&url, timeout)),
    };

    if oversized {
        let mut f = super::shell::too_large(&format!("the response from {}", shown(&url)));
        f.message = f.message.replace(
            "write big data to a file and return its path",
            "ask for less, or fetch it in a command step that writes it to a file",
        );
        return Outcome::failed(f);
    }
    let mut header_map = Map::new();
    for (name, value) in &headers {
        let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match header_map.get_mut(name.as_str()) {
            Some(Json::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&v);
            }
            _ => {
                header_map.insert(name.as_str().to_owned(), Json::String(v));
            }
        }
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    let parsed: Json = serde_json::from_slice(&body).unwrap_or_else(|_| Json::String(text.clone()));
    let kept = body.len().min(req.output_limit);
    let mut outcome = Outcome {
        stdout: Captured {
            bytes: body[body.len() - kept..].to_vec(),
            dropped: (body.len() - kept) as u64,
        },
        ..Outcome::default()
    };
    let code = status.as_u16();
    let success = match &http.expect_status {
        Some(codes) => codes.contains(&code),
        None => status.is_success(),
    };
    if success {
        outcome.result = Some(json!({"status": code, "headers": header_map, "body": parsed}));
        return outcome;
    }
    let reason = status.canonical_reason().unwrap_or("");
    let snippet: String = text.trim().chars().take(200).collect();
    let mut message = format!("HTTP {code} {reason}").trim_end().to_owned();
    if !snippet.is_empty() {
        message.push_str(": ");
        message.push_str(&snippet);
    }
    let mut failure = match code {
        400 | 401 | 403 | 404 | 422 => Failure::permanent(FailureClass::Http, message),
        _ => Failure::retryable(FailureClass::Http, message),
    };
    if matches!(code, 429 | 503) {
        failure.retry_after = headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after(v, chrono::Utc::now()));
    }
    outcome.failure = Some(failure);
    outcome
}

/// `url` as messages show it: a password in it, and query values under secret-looking
/// names, masked — messages are kept and shown, the request got the real values.
fn shown(url: &reqwest::Url) -> String {
    let mut url = url.clone();
    if url.password().is_some() {
        let _ = url.set_password(Some(crate::secrets::FILTERED));
    }
    if url
        .query_pairs()
        .any(|(k, _)| crate::secrets::is_secret(&k))
    {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if crate::secrets::is_secret(&k) {
                    crate::secrets::FILTERED.to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

fn transport_failure(e: &reqwest::Error, url: &reqwest::Url, timeout: Option<Duration>) -> Failure {
    if e.is_timeout() {
        return timed_out(url, timeout);
    }
    let url = shown(url);
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    let what = if e.is_connect() {
        "cannot connect to"
    } else {
        "request failed:"
    };
    let mut message = format!("{what} {url}");
    if !cause.is_empty() {
        message.push_str(&format!(": {cause}"));
    }
    Failure::retryable(FailureClass::Http, message)
}

/// No whole reply from `url` within the step's `timeout`.
fn timed_out(url: &reqwest::Url, timeout: Option<Duration>) -> Failure {
    let after = timeout.map(human).unwrap_or_default();
    Failure::retryable(
        FailureClass::Timeout,
        format!("no response from {} within {after}", shown(url)),
    )
}

/// `Retry-After` as seconds or as an HTTP date (RFC 9110), relative to `now`.
fn retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - now;
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_messages_hide_secrets() {
        let url = reqwest::Url::parse(
            "https://bot:hunter2@api.example.com/charge?order=7&api_key=sk_live_1&Token=t",
        )
        .expect("url");
        let text = shown(&url);
        assert!(
            !text.contains("hunter2") && !text.contains("sk_live_1"),
            "{text}"
        );
        assert!(text.contains("order=7") && text.contains("bot:"), "{text}");
        assert!(
            !text.contains("Token=t&") && !text.ends_with("Token=t"),
            "{text}"
        );
        let plain = reqwest::Url::parse("http://127.0.0.1:8080/orders?id=3").expect("url");
        assert_eq!(shown(&plain), "http://127.0.0.1:8080/orders?id=3");
    }

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-27T10:00:00Z")
            .expect("date")
            .with_timezone(&chrono::Utc);
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after("Fri, 27 Nov 2026 10:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after("Fri, 27 Nov 2026 09:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon", now), None);
    }
}
