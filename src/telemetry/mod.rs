//! Telemetry: OpenTelemetry spans and metrics (stdout or OTLP over HTTP or gRPC) and the
//! summary printed at exit — all subscribers of the engine's events.

pub mod ids;
pub mod metrics;
pub mod spans;
pub mod summary;

use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry_otlp::{Protocol as OtlpProtocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;

/// Where spans go (`--trace`, else `OTEL_TRACES_EXPORTER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    None,
    Stdout,
    Otlp,
}

/// How OTLP is carried (`OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Grpc,
    HttpProtobuf,
}

/// Telemetry settings after flags and the standard environment variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub target: Target,
    pub protocol: Protocol,
}

/// How long an export may take before it is abandoned: an unreachable collector must not
/// hold the command's exit for long.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(3);

/// How long the exit waits for spans and metrics to be sent, whatever the export timeout:
/// `flush_timeout`, `TASKER_FLUSH_TIMEOUT`.
pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Settings {
    /// `flag` (`--trace`) wins over `OTEL_TRACES_EXPORTER` (`otlp`, `console`, `none`).
    pub fn resolve(flag: Option<Target>) -> Result<Settings, String> {
        let target = match flag {
            Some(t) => t,
            None => match env("OTEL_TRACES_EXPORTER").as_deref() {
                None | Some("none") => Target::None,
                Some("otlp") => Target::Otlp,
                Some("console" | "stdout") => Target::Stdout,
                Some(other) => {
                    return Err(format!(
                        "OTEL_TRACES_EXPORTER=`{other}` is not supported (use otlp, console or none)"
                    ));
                }
            },
        };
        let protocol = match env("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
            .or_else(|| env("OTEL_EXPORTER_OTLP_PROTOCOL"))
            .as_deref()
        {
            None | Some("http/protobuf") => Protocol::HttpProtobuf,
            Some("grpc") => Protocol::Grpc,
            Some(other) => {
                return Err(format!(
                    "OTEL_EXPORTER_OTLP_PROTOCOL=`{other}` is not supported (use grpc or http/protobuf)"
                ));
            }
        };
        Ok(Settings { target, protocol })
    }
}

/// The providers in use; [`Telemetry::shutdown`] flushes them.
#[derive(Debug, Default)]
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
    metrics: Option<SdkMeterProvider>,
}

/// The resource: `service.name` from `OTEL_SERVICE_NAME` (default `tasker`), plus
/// `OTEL_RESOURCE_ATTRIBUTES`.
fn resource() -> Resource {
    let builder = Resource::builder();
    if env("OTEL_SERVICE_NAME").is_some() {
        builder.build()
    } else {
        builder.with_service_name("tasker").build()
    }
}

/// The tonic exporters need a Tokio reactor; the SDK exports from plain threads. Each
/// exporter gets a small runtime of its own to export on.
#[derive(Debug)]
struct OnRuntime<E> {
    inner: E,
    runtime: Arc<tokio::runtime::Runtime>,
}

impl<E: opentelemetry_sdk::trace::SpanExporter> opentelemetry_sdk::trace::SpanExporter
    for OnRuntime<E>
{
    async fn export(
        &self,
        batch: Vec<opentelemetry_sdk::trace::SpanData>,
    ) -> opentelemetry_sdk::error::OTelSdkResult {
        self.runtime.block_on(self.inner.export(batch))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

impl<E: opentelemetry_sdk::metrics::exporter::PushMetricExporter>
    opentelemetry_sdk::metrics::exporter::PushMetricExporter for OnRuntime<E>
{
    async fn export(
        &self,
        metrics: &opentelemetry_sdk::metrics::data::ResourceMetrics,
    ) -> opentelemetry_sdk::error::OTelSdkResult {
        self.runtime.block_on(self.inner.export(metrics))
    }

    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> opentelemetry_sdk::metrics::Temporality {
        self.inner.temporality()
    }
}

fn small_runtime() -> Result<Arc<tokio::runtime::Runtime>, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map(Arc::new)
        .map_err(|e| format!("cannot start the telemetry runtime: {e}"))
}

fn timeout() -> Duration {
    env("OTEL_EXPORTER_OTLP_TIMEOUT")
        .and_then(|ms| ms.parse().ok())
        .map_or(EXPORT_TIMEOUT, Duration::from_millis)
}

impl Telemetry {
    /// Start the providers `settings` ask for.
    pub fn start(settings: Settings) -> Result<Telemetry, String> {
        crate::install_tls_provider();
        let ids = ids::Preset::default();
        let telemetry = match (settings.target, settings.protocol) {
            (Target::None, _) => Telemetry::default(),
            (Target::Stdout, _) => Telemetry {
                traces: Some(
                    SdkTracerProvider::builder()
                        .with_id_generator(ids)
                        .with_resource(resource())
                        .with_simple_exporter(opentelemetry_stdout::SpanExporter::default())
                        .build(),
                ),
                metrics: None,
            },
            (Target::Otlp, Protocol::HttpProtobuf) => {
                let spans = opentelemetry_otlp::SpanExporter::builder()
                    .with_http()
                    .with_protocol(OtlpProtocol::HttpBinary)
                    .with_timeout(timeout())
                    .build()
                    .map_err(|e| format!("cannot create the OTLP span exporter: {e}"))?;
                let metrics = opentelemetry_otlp::MetricExporter::builder()
                    .with_http()
                    .with_protocol(OtlpProtocol::HttpBinary)
                    .with_timeout(timeout())
                    .build()
                    .map_err(|e| format!("cannot create the OTLP metric exporter: {e}"))?;
                Telemetry {
                    traces: Some(
                        SdkTracerProvider::builder()
                            .with_id_generator(ids)
                            .with_resource(resource())
                            .with_batch_exporter(spans)
                            .build(),
                    ),
                    metrics: Some(
                        SdkMeterProvider::builder()
                            .with_resource(resource())
                            .with_periodic_exporter(metrics)
                            .build(),
                    ),
                }
            }
            (Target::Otlp, Protocol::Grpc) => {
                let runtime = small_runtime()?;
                let (spans, metrics) = runtime.block_on(async {
                    let spans = opentelemetry_otlp::SpanExporter::builder()
                        .with_tonic()
                        .with_timeout(timeout())
                        .build()
                        .map_err(|e| format!("cannot create the OTLP span exporter: {e}"))?;
                    let metrics = opentelemetry_otlp::MetricExporter::builder()
                        .with_tonic()
                        .with_timeout(timeout())
                        .build()
                        .map_err(|e| format!("cannot create the OTLP metric exporter: {e}"))?;
                    Ok::<_, String>((spans, metrics))
                })?;
                Telemetry {
                    traces: Some(
                        SdkTracerProvider::builder()
                            .with_id_generator(ids)
                            .with_resource(resource())
                            .with_batch_exporter(OnRuntime {
                                inner: spans,
                                runtime: Arc::clone(&runtime),
                            })
                            .build(),
                    ),
                    metrics: Some(
                        SdkMeterProvider::builder()
                            .with_resource(resource())
                            .with_periodic_exporter(OnRuntime {
                                inner: metrics,
                                runtime,
                            })
                            .build(),
                    ),
                }
            }
        };
        Ok(telemetry)
    }

    pub fn tracer(&self) -> Option<opentelemetry_sdk::trace::SdkTracer> {
        use opentelemetry::trace::TracerProvider;
        self.traces.as_ref().map(|p| p.tracer("tasker"))
    }

    pub fn meter(&self) -> Option<opentelemetry::metrics::Meter> {
        use opentelemetry::metrics::MeterProvider;
        self.metrics.as_ref().map(|p| p.meter("tasker"))
    }

    /// Flush and stop both providers, side by side, for at most `wait` or until
    /// `interrupted` says a signal came; what is not sent by then is given up, and said so.
    pub fn shutdown(self, wait: Duration, interrupted: &dyn Fn() -> bool) {
        let deadline = Instant::now() + wait;
        let traces = self.traces.map(|p| {
            std::thread::spawn(move || {
                if let Err(e) = p.shutdown_with_timeout(timeout()) {
                    tracing::warn!("exporting spans failed: {e}");
                }
            })
        });
        let metrics = self.metrics.map(|p| {
            std::thread::spawn(move || {
                if let Err(e) = p.shutdown_with_timeout(timeout()) {
                    tracing::warn!("exporting metrics failed: {e}");
                }
            })
        });
        let threads: Vec<_> = [("spans", traces), ("metrics", metrics)]
            .into_iter()
            .filter_map(|(what, t)| t.map(|t| (what, t)))
            .collect();
        loop {
            let left: Vec<&str> = threads
                .iter()
                .filter(|(_, t)| !t.is_finished())
                .map(|(what, _)| *what)
                .collect();
            if left.is_empty() {
                return;
            }
            let cut = if interrupted() {
                Some("interrupted".to_owned())
            } else if Instant::now() >= deadline {
                Some(format!(
                    "the collector did not take them within {}",
                    crate::templates::duration::human(wait)
                ))
            } else {
                None
            };
            if let Some(why) = cut {
                // The threads are left behind: the process is about to exit.
                tracing::warn!(
                    "telemetry not sent: {} of this run ({why}; `flush_timeout` or TASKER_FLUSH_TIMEOUT sets the wait)",
                    left.join(" and ")
                );
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
