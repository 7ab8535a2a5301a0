//! The inference engine: llama.cpp on its own thread, reached only through [`EngineHandle`].
//!
//! Callers send commands (load, generate, bench, cancel) and receive [`EngineEvent`]s on a
//! channel. Every command gets a [`RequestId`]; events carry it so a caller can drop the events
//! of requests it no longer cares about. Nothing here knows about terminals.

mod bench;
mod classify;
mod error;
mod events;
mod generate;
pub mod inspect;
mod model_info;
pub mod offload;
pub mod preflight;
pub mod remote;
mod request;
mod sweep;
pub mod sweep_plan;
mod template;
mod text_stream;
mod worker;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::thread::JoinHandle;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

pub use classify::ModelSentiment;
pub use error::EngineError;
pub use events::{
    BenchRow, EngineEvent, ModelInfo, RunFinished, RunStarted, RunStats, StopReason, SweepSummary,
};
pub use generate::random_seed;
pub use model_info::quantization_name;
pub use request::{
    BenchSpec, ForkRequest, GenerateRequest, GpuLayers, LoadOptions, Preflight, Prompt, RequestId,
    SamplerParams, SweepRequest, MAX_SWEEP_VARIANTS,
};
pub use template::KNOWN_TEMPLATES;
pub use text_stream::{StopMatcher, StopScan, Utf8Stream};
pub use worker::{default_threads, gpu_free_memory};

use worker::{CancelFlag, Worker};

/// What the handle sends to the worker.
#[derive(Debug)]
pub enum Command {
    Load {
        id: RequestId,
        options: LoadOptions,
    },
    Generate {
        id: RequestId,
        request: GenerateRequest,
    },
    Bench {
        id: RequestId,
        spec: BenchSpec,
    },
    Sweep {
        id: RequestId,
        request: SweepRequest,
    },
    Fork {
        id: RequestId,
        request: ForkRequest,
    },
    /// Sentiment of each text with the loaded model, in a context of its own.
    Classify {
        id: RequestId,
        texts: Vec<String>,
    },
    Shutdown,
}

/// The one way into the engine. Dropping it cancels whatever runs and stops the worker.
pub struct EngineHandle {
    commands: Sender<Command>,
    cancel: CancelFlag,
    next_id: AtomicU64,
    thread: Option<JoinHandle<()>>,
}

impl EngineHandle {
    /// Starts the worker thread; events arrive on the returned receiver.
    pub fn spawn() -> (Self, UnboundedReceiver<EngineEvent>) {
        Self::spawn_worker("refrain-engine", |commands, events, cancel| {
            let worker = Worker {
                commands,
                events,
                cancel,
            };
            move || worker.run()
        })
    }

    /// Starts a worker that serves the same commands from an OpenAI-compatible server.
    pub fn spawn_remote(endpoint: remote::Endpoint) -> (Self, UnboundedReceiver<EngineEvent>) {
        Self::spawn_worker("refrain-remote", |commands, events, cancel| {
            let worker = remote::RemoteWorker {
                commands,
                events,
                cancel,
                endpoint,
            };
            move || worker.run()
        })
    }

    /// The channels and cancel flag every worker gets, and its thread.
    fn spawn_worker<W: FnOnce() + Send + 'static>(
        name: &str,
        make: impl FnOnce(
            std::sync::mpsc::Receiver<Command>,
            tokio::sync::mpsc::UnboundedSender<EngineEvent>,
            CancelFlag,
        ) -> W,
    ) -> (Self, UnboundedReceiver<EngineEvent>) {
        let (command_sender, command_receiver) = std::sync::mpsc::channel();
        let (event_sender, event_receiver) = unbounded_channel();
        let cancel = CancelFlag::default();
        let work = make(command_receiver, event_sender, cancel.clone());
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(work)
            .ok();
        let handle = Self {
            commands: command_sender,
            cancel,
            next_id: AtomicU64::new(1),
            thread,
        };
        (handle, event_receiver)
    }

    fn send(&self, make: impl FnOnce(RequestId) -> Command) -> RequestId {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        // A dead worker shows up as the event channel closing; the caller handles that.
        let _ = self.commands.send(make(id));
        id
    }

    /// Loads a model, replacing the current one once the new one is asked for.
    pub fn load(&self, options: LoadOptions) -> RequestId {
        self.send(|id| Command::Load { id, options })
    }

    pub fn generate(&self, request: GenerateRequest) -> RequestId {
        self.send(|id| Command::Generate { id, request })
    }

    /// Classifies each text's sentiment with the model; answered by one `Classified` event.
    pub fn classify(&self, texts: Vec<String>) -> RequestId {
        self.send(|id| Command::Classify { id, texts })
    }

    /// Runs one prompt with several sampler settings at once (see [`SweepRequest`]).
    pub fn sweep(&self, request: SweepRequest) -> RequestId {
        self.send(|id| Command::Sweep { id, request })
    }

    /// Continues an earlier response from one of its tokens with another token; answered like
    /// a generation (Started, Token…, Finished with the whole text).
    pub fn fork(&self, request: ForkRequest) -> RequestId {
        self.send(|id| Command::Fork { id, request })
    }

    /// Stops one variant of sweep `id`; the others go on.
    pub fn cancel_variant(&self, id: RequestId, variant: usize) {
        self.cancel.cancel_variant(id, variant);
    }

    pub fn bench(&self, spec: BenchSpec) -> RequestId {
        self.send(|id| Command::Bench { id, spec })
    }

    /// A cancel switch that can move to another thread (a signal handler, say).
    pub fn canceller(&self) -> Canceller {
        Canceller(self.cancel.clone())
    }

    /// Cancels request `id` and any older one still queued or running. The decode loop checks
    /// before every token, so a generation stops within one token.
    pub fn cancel(&self, id: RequestId) {
        self.cancel.cancel_through(id);
    }
}

impl Drop for EngineHandle {
    fn drop(&mut self) {
        self.cancel.cancel_through(u64::MAX);
        let _ = self.commands.send(Command::Shutdown);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Cancels requests from any thread; see [`EngineHandle::cancel`].
#[derive(Debug, Clone)]
pub struct Canceller(CancelFlag);

impl Canceller {
    pub fn cancel(&self, id: RequestId) {
        self.0.cancel_through(id);
    }

    pub fn cancel_variant(&self, id: RequestId, variant: usize) {
        self.0.cancel_variant(id, variant);
    }
}

/// A compute device llama.cpp sees (the CPU, and GPUs in a GPU build).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Device {
    pub name: String,
    pub description: String,
    pub backend: String,
    pub kind: &'static str,
    pub memory_total: u64,
    pub memory_free: u64,
}

/// The devices llama.cpp's backends report.
pub fn devices() -> Result<Vec<Device>, EngineError> {
    use llama_cpp_2::LlamaBackendDeviceType as Kind;
    worker::backend()?;
    Ok(llama_cpp_2::list_llama_ggml_backend_devices()
        .into_iter()
        .map(|d| Device {
            name: d.name,
            description: d.description,
            backend: d.backend,
            kind: match d.device_type {
                Kind::Cpu => "CPU",
                Kind::Gpu => "GPU",
                Kind::IntegratedGpu => "integrated GPU",
                Kind::Accelerator => "accelerator",
                Kind::Unknown => "unknown",
            },
            memory_total: d.memory_total as u64,
            memory_free: d.memory_free as u64,
        })
        .collect())
}

/// The one-line hint for `--gpu-layers` when nothing could be offloaded: a CPU-only build, or a
/// GPU build whose backend sees no device.
pub fn no_gpu_hint() -> &'static str {
    if cfg!(any(
        feature = "cuda",
        feature = "vulkan",
        feature = "metal",
        feature = "rocm"
    )) {
        "this GPU build's backend sees no GPU device, so no layers were offloaded; check the \
         driver (`refrain models --devices` lists what llama.cpp sees; Mesa's software Vulkan \
         device needs GGML_VK_VISIBLE_DEVICES=0)"
    } else {
        "this build has no GPU backend, so no layers were offloaded; rebuild with \
         `cargo build --release --features cuda` (or vulkan, metal, rocm) — see the README"
    }
}

/// Reads a model's vocabulary in this process; for the `check-model` child process, where an
/// abort inside llama.cpp only ends the child.
pub fn check_model_here(path: &std::path::Path) -> Result<(), EngineError> {
    preflight::check_header(path)?;
    let backend = worker::backend()?;
    let params = llama_cpp_2::model::params::LlamaModelParams::default()
        .with_vocab_only(true)
        .with_n_gpu_layers(0);
    llama_cpp_2::model::LlamaModel::load_from_file(backend, path, &params)
        .map(drop)
        .map_err(|_| EngineError::ModelInvalid {
            path: path.to_path_buf(),
            reason: crate::logging::take_last_llama_error()
                .unwrap_or_else(|| "llama.cpp could not read its vocabulary".into()),
        })
}
