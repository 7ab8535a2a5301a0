//! Logs, llama.cpp's included, go to a file and never to the terminal (unless `--verbose`).

use std::fs::OpenOptions;
use std::path::PathBuf;
use std::sync::Mutex;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

static LAST_LLAMA_ERROR: Mutex<Option<String>> = Mutex::new(None);

/// The first error llama.cpp logged since the previous call (the root cause; later ones only
/// repeat "failed to load model"), for error messages.
pub fn take_last_llama_error() -> Option<String> {
    LAST_LLAMA_ERROR
        .lock()
        .ok()
        .and_then(|mut slot| slot.take())
}

/// Keeps llama.cpp's last complaint so a failed load can say why.
struct LlamaErrorCapture;

struct MessageVisitor(String);

impl Visit for MessageVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0 = value.to_owned();
        }
    }
}

impl<S: Subscriber> Layer<S> for LlamaErrorCapture {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let metadata = event.metadata();
        if metadata.target() != "llama-cpp-2" || *metadata.level() > Level::ERROR {
            return;
        }
        let mut visitor = MessageVisitor(String::new());
        event.record(&mut visitor);
        let message = visitor.0.trim().to_owned();
        if !message.is_empty() {
            if let Ok(mut slot) = LAST_LLAMA_ERROR.lock() {
                slot.get_or_insert(message);
            }
        }
    }
}

/// Installs the global subscriber: the log file (filter from `REFRAIN_LOG`, default `info`),
/// stderr too when `verbose`. Returns the log file's path when one could be opened.
pub fn init(verbose: bool) -> Option<PathBuf> {
    let path = crate::paths::log_file();
    let file = path.as_ref().and_then(|path| {
        std::fs::create_dir_all(path.parent()?).ok()?;
        OpenOptions::new().create(true).append(true).open(path).ok()
    });
    let filter =
        || EnvFilter::try_from_env("REFRAIN_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let file_layer = file.map(|file| {
        tracing_subscriber::fmt::layer()
            .with_writer(Mutex::new(file))
            .with_ansi(false)
            .with_filter(filter())
    });
    let stderr_layer = verbose.then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_filter(filter())
    });
    let capture = LlamaErrorCapture.with_filter(tracing_subscriber::filter::LevelFilter::ERROR);
    let _ = tracing_subscriber::registry()
        .with(file_layer)
        .with(stderr_layer)
        .with(capture)
        .try_init();
    path
}
