//! The engine's thread: it owns the llama.cpp backend, the model and its context, and answers
//! [`Command`]s with [`EngineEvent`]s. `LlamaContext` borrows the model and is not `Send`, so
//! both live and die here.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;
use tokio::sync::mpsc::UnboundedSender;

use super::classify::{Classifier, ModelSentiment};
use super::error::EngineError;
use super::events::{EngineEvent, ModelInfo};
use super::model_info::{describe, LoadFacts};
use super::request::{LoadOptions, RequestId};
use super::{bench, generate, preflight, sweep, Command};

/// Shared with the handle: every request with an id at or below this is cancelled.
#[derive(Debug, Default, Clone)]
pub struct CancelFlag {
    through: Arc<AtomicU64>,
    /// Single sweep variants cancelled while their sweep goes on: (request, variant).
    variants: Arc<std::sync::Mutex<Vec<(RequestId, usize)>>>,
}

impl CancelFlag {
    pub fn cancel_through(&self, id: RequestId) {
        self.through.fetch_max(id, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self, id: RequestId) -> bool {
        self.through.load(Ordering::Relaxed) >= id
    }

    pub fn cancel_variant(&self, id: RequestId, variant: usize) {
        if let Ok(mut variants) = self.variants.lock() {
            // Old sweeps' entries are of no use any more.
            variants.retain(|(other, _)| *other >= id);
            variants.push((id, variant));
        }
    }

    pub fn is_variant_cancelled(&self, id: RequestId, variant: usize) -> bool {
        self.is_cancelled(id)
            || self
                .variants
                .lock()
                .is_ok_and(|v| v.contains(&(id, variant)))
    }
}

/// The process-wide llama.cpp backend. llama.cpp allows one initialisation per process, and
/// its logs must be redirected before it first speaks.
pub fn backend() -> Result<&'static LlamaBackend, EngineError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
            crate::fatal::install_ggml_abort_callback();
            LlamaBackend::init().map_err(|error| error.to_string())
        })
        .as_ref()
        .map_err(|reason| EngineError::ModelLoad {
            path: Default::default(),
            reason: format!("llama.cpp backend failed to start: {reason}"),
        })
}

/// The GPUs llama.cpp will offload to, with their free memory now: discrete GPUs, else
/// integrated ones (as llama.cpp picks its default devices).
pub fn gpu_free_memory() -> Vec<(String, u64)> {
    let Ok(devices) = super::devices() else {
        return Vec::new();
    };
    let of_kind = |kind: &str| -> Vec<(String, u64)> {
        devices
            .iter()
            .filter(|d| d.kind == kind)
            .map(|d| (d.name.clone(), d.memory_free))
            .collect()
    };
    let gpus = of_kind("GPU");
    if gpus.is_empty() {
        of_kind("integrated GPU")
    } else {
        gpus
    }
}

/// `--gpu-layers auto` becomes a count: what fits in the GPUs' free memory, estimated from the
/// GGUF header (0 without a GPU, or when the header cannot be read).
fn resolve_auto_offload(mut options: LoadOptions, gpus: &[(String, u64)]) -> LoadOptions {
    if options.gpu_layers != super::GpuLayers::Auto {
        return options;
    }
    let free: Vec<u64> = gpus.iter().map(|(_, f)| *f).collect();
    let layers = if free.is_empty() {
        0
    } else {
        crate::models::gguf::read_summary(&options.model_path)
            .map(|summary| super::offload::auto_layers(&summary, options.context_size, &free))
            .unwrap_or(0)
    };
    tracing::info!(
        layers,
        gpus = gpus.len(),
        "--gpu-layers auto: offloading what fits in free device memory"
    );
    options.gpu_layers = super::GpuLayers::Count(layers);
    options
}

pub struct Worker {
    pub commands: Receiver<Command>,
    pub events: UnboundedSender<EngineEvent>,
    pub cancel: CancelFlag,
}

impl Worker {
    fn send(&self, event: EngineEvent) {
        // The receiver is gone only when the program is shutting down.
        let _ = self.events.send(event);
    }

    pub fn run(self) {
        let mut next = self.commands.recv().ok();
        while let Some(command) = next.take() {
            next = match command {
                Command::Load { id, options } => {
                    let gpus = gpu_free_memory();
                    let options = resolve_auto_offload(options, &gpus);
                    match self.load(id, &options) {
                        Ok((model, load_time)) => {
                            self.serve(id, &options, &model, load_time, &gpus)
                        }
                        Err(error) => {
                            self.send(EngineEvent::Failed { id, error });
                            self.commands.recv().ok()
                        }
                    }
                }
                Command::Generate { id, .. }
                | Command::Fork { id, .. }
                | Command::Sweep { id, .. }
                | Command::Bench { id, .. }
                | Command::Classify { id, .. } => {
                    self.send(EngineEvent::Failed {
                        id,
                        error: EngineError::NoModel,
                    });
                    self.commands.recv().ok()
                }
                Command::Shutdown => None,
            };
        }
    }

    fn load(
        &self,
        id: RequestId,
        options: &LoadOptions,
    ) -> Result<(LlamaModel, std::time::Duration), EngineError> {
        let path = &options.model_path;
        let started = Instant::now();
        self.send(EngineEvent::LoadProgress { id, fraction: 0.0 });
        preflight::vet_model_file(path, &options.preflight)?;
        if self.cancel.is_cancelled(id) {
            return Err(EngineError::LoadCancelled { path: path.clone() });
        }
        let backend = backend()?;
        let events = self.events.clone();
        let cancel = self.cancel.clone();
        let params = LlamaModelParams::default()
            .with_n_gpu_layers(options.gpu_layers.as_llama_count())
            .with_progress_callback(move |fraction| {
                let _ = events.send(EngineEvent::LoadProgress { id, fraction });
                !cancel.is_cancelled(id)
            });
        crate::logging::take_last_llama_error();
        let model = LlamaModel::load_from_file(backend, path, &params).map_err(|error| {
            if self.cancel.is_cancelled(id) {
                return EngineError::LoadCancelled { path: path.clone() };
            }
            let reason = crate::logging::take_last_llama_error()
                .unwrap_or_else(|| format!("{error} (details in the log file {})", log_hint()));
            EngineError::ModelLoad {
                path: path.clone(),
                reason,
            }
        })?;
        Ok((model, started.elapsed()))
    }

    /// Creates the context and answers commands until the next load (returned) or shutdown.
    fn serve(
        &self,
        load_id: RequestId,
        options: &LoadOptions,
        model: &LlamaModel,
        load_time: std::time::Duration,
        gpus: &[(String, u64)],
    ) -> Option<Command> {
        let mut session = match Session::new(model, options, load_time, gpus) {
            Ok(session) => session,
            Err(error) => {
                self.send(EngineEvent::Failed { id: load_id, error });
                return self.commands.recv().ok();
            }
        };
        self.send(EngineEvent::Loaded {
            id: load_id,
            info: session.info.clone(),
        });
        loop {
            match self.commands.recv().ok()? {
                Command::Generate { id, request } => {
                    let outcome =
                        generate::run(&mut session, id, &request, &self.events, &self.cancel);
                    match outcome {
                        Ok(finished) => self.send(EngineEvent::Finished { id, finished }),
                        Err(error) => self.send(EngineEvent::Failed { id, error }),
                    }
                }
                Command::Fork { id, request } => {
                    match generate::fork(&mut session, id, &request, &self.events, &self.cancel) {
                        Ok(finished) => self.send(EngineEvent::Finished { id, finished }),
                        Err(error) => self.send(EngineEvent::Failed { id, error }),
                    }
                }
                Command::Sweep { id, request } => {
                    match sweep::run(&mut session, id, &request, &self.events, &self.cancel) {
                        Ok(summary) => self.send(EngineEvent::SweepFinished { id, summary }),
                        Err(error) => self.send(EngineEvent::Failed { id, error }),
                    }
                }
                Command::Bench { id, spec } => {
                    match bench::run(&mut session, id, spec, &self.events, &self.cancel) {
                        Ok(()) => self.send(EngineEvent::BenchDone { id }),
                        Err(error) => self.send(EngineEvent::Failed { id, error }),
                    }
                }
                Command::Classify { id, texts } => {
                    match session.classify(&texts, || self.cancel.is_cancelled(id)) {
                        Ok(results) => self.send(EngineEvent::Classified { id, results }),
                        Err(error) => self.send(EngineEvent::Failed { id, error }),
                    }
                }
                load @ Command::Load { .. } => return Some(load),
                Command::Shutdown => return None,
            }
        }
    }
}

fn log_hint() -> String {
    crate::paths::log_file()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "refrain.log".into())
}

/// A loaded model with its one context, reused by every request.
pub struct Session<'model> {
    pub model: &'model LlamaModel,
    pub context: LlamaContext<'model>,
    pub batch: LlamaBatch<'static>,
    pub info: ModelInfo,
    /// The tokens sequence 0 of the cache holds (prompt and response of the last run), so a
    /// fork can reuse them; empty when unknown.
    pub cached: Vec<llama_cpp_2::token::LlamaToken>,
    /// Created on first use: most sessions never classify.
    classifier: Option<Classifier<'model>>,
}

impl<'model> Session<'model> {
    fn new(
        model: &'model LlamaModel,
        options: &LoadOptions,
        load_time: std::time::Duration,
        gpus: &[(String, u64)],
    ) -> Result<Self, EngineError> {
        let backend = backend()?;
        let threads = options.threads.unwrap_or_else(default_threads).max(1);
        let context_size = options.context_size.clamp(16, 1 << 20);
        let batch_size = options.batch_size.clamp(1, context_size);
        let create_error = |reason: String| EngineError::ContextCreate {
            context_size,
            reason,
        };
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(context_size))
            .with_n_batch(batch_size)
            .with_n_ubatch(batch_size.min(512))
            .with_n_threads(threads as i32)
            .with_n_threads_batch(threads as i32)
            // Room for a sweep's variants as sequences of their own, all sharing the one cache
            // (unified: a single run still has the whole context).
            .with_n_seq_max(super::MAX_SWEEP_VARIANTS as u32)
            .with_kv_unified(true);
        let context = model
            .new_context(backend, params)
            .map_err(|error| create_error(error.to_string()))?;
        let info = describe(
            model,
            options,
            LoadFacts {
                load_time,
                context_size: context.n_ctx(),
                threads,
                gpu_offload_supported: backend.supports_gpu_offload(),
                gpus: gpus.to_vec(),
            },
        );
        let batch = LlamaBatch::new(context.n_batch() as usize, 1);
        Ok(Self {
            model,
            context,
            batch,
            info,
            cached: Vec::new(),
            classifier: None,
        })
    }

    /// Classifies each text; `cancelled` is checked between texts.
    fn classify(
        &mut self,
        texts: &[String],
        cancelled: impl Fn() -> bool,
    ) -> Result<Vec<ModelSentiment>, EngineError> {
        if self.classifier.is_none() {
            self.classifier = Some(Classifier::new(self.model, backend()?, self.info.threads)?);
        }
        let classifier = self.classifier.as_mut().ok_or(EngineError::NoModel)?;
        texts
            .iter()
            .map(|text| {
                if cancelled() {
                    return Err(EngineError::Cancelled);
                }
                classifier.classify(text)
            })
            .collect()
    }
}

/// One thread per available core: more than the idle cores slows generation sharply.
pub fn default_threads() -> u32 {
    std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(4)
        .clamp(1, 16)
}
