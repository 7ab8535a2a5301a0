//! Shared by the integration tests: the real default model, and a blocking way to drive the engine.
#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use refrain::engine::{
    EngineError, EngineEvent, EngineHandle, GenerateRequest, LoadOptions, ModelInfo, Preflight,
    Prompt, RequestId, RunFinished, RunStarted, SamplerParams,
};
use tokio::sync::mpsc::UnboundedReceiver;

/// The default model, or `None` (test skipped) outside CI. Under `CI=true` a missing model fails.
pub fn model_path() -> Option<PathBuf> {
    let path = std::env::var_os("REFRAIN_TEST_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/SmolLM2-135M-Instruct.Q4_1.gguf")
        });
    required(path, "the test model", "make models")
}

/// `path` if it is a file. Otherwise the test is skipped, except under `CI=true`, where a
/// missing part fails (CI must never skip these tests).
pub fn required(path: PathBuf, what: &str, how: &str) -> Option<PathBuf> {
    if path.is_file() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what} {} is missing; run `{how}`", path.display());
    }
    eprintln!("skipping: {what} {} missing (run `{how}`)", path.display());
    None
}

/// The refrain binary with every place it keeps things inside `dir` (`config/`, `cache/`,
/// `state/`, `data/`) and none of the user's `REFRAIN_*` settings (the test harness's own,
/// `REFRAIN_TEST_*` and `REFRAIN_LLAMA_SERVER`, are not the binary's).
pub fn refrain_in(dir: &std::path::Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_refrain"));
    for (name, _) in std::env::vars() {
        if name.starts_with("REFRAIN_") {
            command.env_remove(name);
        }
    }
    command
        .env("REFRAIN_CONFIG_DIR", dir.join("config"))
        .env("REFRAIN_CACHE_DIR", dir.join("cache"))
        .env("REFRAIN_STATE_DIR", dir.join("state"))
        .env("REFRAIN_DATA_DIR", dir.join("data"));
    command
}

/// Everything a finished generation sent.
pub struct Outcome {
    pub started: Option<RunStarted>,
    pub pieces: Vec<String>,
    pub result: Result<RunFinished, EngineError>,
}

impl Outcome {
    pub fn finished(&self) -> &RunFinished {
        match &self.result {
            Ok(finished) => finished,
            Err(error) => panic!("generation failed: {error}"),
        }
    }

    pub fn streamed_text(&self) -> String {
        self.pieces.concat()
    }
}

pub struct TestEngine {
    pub handle: EngineHandle,
    pub events: UnboundedReceiver<EngineEvent>,
    pub info: ModelInfo,
}

impl TestEngine {
    /// Loads the default model with a context of `context_size`; `None` when the model is missing.
    pub fn start(context_size: u32) -> Option<Self> {
        Self::start_with(|options| options.context_size = context_size)
    }

    pub fn start_with(configure: impl FnOnce(&mut LoadOptions)) -> Option<Self> {
        let mut options = LoadOptions::new(model_path()?);
        options.threads = Some(2);
        options.preflight = Preflight::ChildProcess {
            program: PathBuf::from(env!("CARGO_BIN_EXE_refrain")),
        };
        configure(&mut options);
        let (handle, mut events) = EngineHandle::spawn();
        let id = handle.load(options);
        loop {
            match recv(&mut events) {
                EngineEvent::Loaded { id: got, info } if got == id => {
                    return Some(Self {
                        handle,
                        events,
                        info,
                    })
                }
                EngineEvent::Failed { id: got, error } if got == id => {
                    panic!("model failed to load: {error}")
                }
                _ => {}
            }
        }
    }

    pub fn generate(&mut self, prompt: Prompt, sampler: SamplerParams) -> Outcome {
        let id = self.handle.generate(GenerateRequest { prompt, sampler });
        self.collect(id, |_, _| {})
    }

    /// Collects the events of `id`; `on_token` sees each token event's count as it arrives.
    pub fn collect(
        &mut self,
        id: RequestId,
        mut on_token: impl FnMut(&EngineHandle, u32),
    ) -> Outcome {
        let mut outcome = Outcome {
            started: None,
            pieces: Vec::new(),
            result: Err(EngineError::WorkerGone),
        };
        loop {
            let event = recv(&mut self.events);
            if event.id() != id {
                continue;
            }
            match event {
                EngineEvent::Started { started, .. } => outcome.started = Some(started),
                EngineEvent::Token {
                    text, generated, ..
                } => {
                    outcome.pieces.push(text);
                    on_token(&self.handle, generated);
                }
                EngineEvent::Finished { finished, .. } => {
                    outcome.result = Ok(finished);
                    return outcome;
                }
                EngineEvent::Failed { error, .. } => {
                    outcome.result = Err(error);
                    return outcome;
                }
                _ => {}
            }
        }
    }
}

/// Receives with a generous deadline so a broken engine fails the test instead of hanging it.
pub fn recv(events: &mut UnboundedReceiver<EngineEvent>) -> EngineEvent {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        match events.try_recv() {
            Ok(event) => return event,
            Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => {
                panic!("engine event channel closed")
            }
            Err(tokio::sync::mpsc::error::TryRecvError::Empty) => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "no engine event for 120 s"
                );
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

pub fn chat(user: &str) -> Prompt {
    Prompt::Chat {
        system: None,
        user: user.to_owned(),
        template: None,
    }
}

pub fn greedy(max_tokens: u32) -> SamplerParams {
    SamplerParams {
        temperature: 0.0,
        max_tokens,
        seed: Some(1),
        ..SamplerParams::default()
    }
}

pub fn seeded(temperature: f32, seed: u32, max_tokens: u32) -> SamplerParams {
    SamplerParams {
        temperature,
        seed: Some(seed),
        max_tokens,
        ..SamplerParams::default()
    }
}

/// Everything a finished sweep sent.
pub struct SweepOutcome {
    pub seeds: Vec<u32>,
    /// Streamed text per variant.
    pub streamed: Vec<String>,
    pub finished: Vec<Option<RunFinished>>,
    pub summary: Result<refrain::engine::SweepSummary, EngineError>,
}

impl TestEngine {
    /// Runs a sweep; `on_token` sees (handle, sweep id, variant, generated) per token event.
    pub fn sweep(
        &mut self,
        prompt: Prompt,
        variants: Vec<SamplerParams>,
        mut on_token: impl FnMut(&EngineHandle, RequestId, usize, u32),
    ) -> SweepOutcome {
        let count = variants.len();
        let id = self
            .handle
            .sweep(refrain::engine::SweepRequest { prompt, variants });
        let mut outcome = SweepOutcome {
            seeds: Vec::new(),
            streamed: vec![String::new(); count],
            finished: vec![None; count],
            summary: Err(EngineError::WorkerGone),
        };
        loop {
            let event = recv(&mut self.events);
            if event.id() != id {
                continue;
            }
            match event {
                EngineEvent::SweepStarted { seeds, .. } => outcome.seeds = seeds,
                EngineEvent::SweepToken {
                    variant,
                    text,
                    generated,
                    ..
                } => {
                    outcome.streamed[variant].push_str(&text);
                    on_token(&self.handle, id, variant, generated);
                }
                EngineEvent::SweepVariantFinished {
                    variant, finished, ..
                } => outcome.finished[variant] = Some(finished),
                EngineEvent::SweepFinished { summary, .. } => {
                    outcome.summary = Ok(summary);
                    return outcome;
                }
                EngineEvent::Failed { error, .. } => {
                    outcome.summary = Err(error);
                    return outcome;
                }
                _ => {}
            }
        }
    }
}
