//! The studio: a full-screen terminal UI over the engine.
//!
//! Terminal input, engine events and signals become [`update::Msg`]s; `update` changes the
//! [`state::State`] and returns [`update::Effect`]s, which this runtime carries out. Frames are
//! drawn from the state only when something changed, at most ~60 times a second, so a fast
//! token stream costs one frame per tick, not one per token.

pub mod controls;
#[doc(hidden)]
pub mod fixtures;
pub mod fuzzy;
pub mod history;
mod history_update;
pub mod inspector;
mod inspector_update;
pub mod keymap;
pub mod layout;
pub mod output;
pub mod panes;
pub mod picker;
mod picker_update;
pub mod sentiment;
pub mod state;
pub mod sweep;
mod sweep_update;
pub mod terminal;
pub mod theme;
pub mod update;

use std::time::{Duration, Instant};

use ratatui::crossterm::event::{self, Event};
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};

use crate::cli::{Failure, LoadArgs, SamplerArgs};
use crate::engine::EngineHandle;
use crate::store::worker::HistoryHandle;
use state::{ModelState, NoticeKind, State};
use update::{Effect, Msg};

/// How often at most a frame is drawn.
pub const FRAME_INTERVAL: Duration = Duration::from_millis(16);

/// Studio options beyond the load and sampler flags.
#[derive(Debug, Clone, Default)]
pub struct StudioOptions {
    pub template: Option<String>,
    /// The history database; `None` keeps no history (incognito).
    pub history_path: Option<std::path::PathBuf>,
    pub sentiment: crate::analysis::SentimentMethod,
    pub mouse: bool,
    pub theme: theme::ThemeName,
    pub keymap: keymap::Keymap,
    /// Built-in and user presets.
    pub presets: Vec<crate::config::presets::Preset>,
    /// A preset to apply at start (`--preset`).
    pub preset: Option<crate::config::presets::Preset>,
    /// Configured servers for the model picker.
    pub endpoints: Vec<(
        String,
        String,
        Result<crate::engine::remote::Endpoint, String>,
    )>,
}

/// Builds the opening state: sampler defaults from the flags, the model to load, or why none.
pub fn initial_state(load: &LoadArgs, sampler: &SamplerArgs, options: &StudioOptions) -> State {
    let mut state = State::new(sampler.to_params(), theme::Theme::named(options.theme));
    state.template = options.template.clone();
    state.sentiment.method = options.sentiment;
    state.mouse_enabled = options.mouse;
    state.keymap = options.keymap.clone();
    state.model_dirs = load.model_dirs.clone();
    state.endpoints = options.endpoints.clone();
    if !options.presets.is_empty() {
        state.presets = options.presets.clone();
    }
    if let Some(preset) = &options.preset {
        // The flags were already merged over the preset's sampler values.
        state.base_sampler = sampler.to_params();
        picker_update::apply_preset(&mut state, preset);
        state.controls.params = sampler.to_params();
    }
    match load.to_options() {
        Ok(load_options) => state.load_options = Some(load_options),
        Err(message) => {
            let first_line = message.lines().next().unwrap_or("").to_owned();
            state.model = ModelState::Missing(message);
            state.set_notice(
                NoticeKind::Error,
                format!("{first_line} Quit and run `make models`, or pass --model PATH."),
            );
        }
    }
    state
}

/// Opens the studio and runs it until the user quits or a signal ends it.
pub fn run(
    load: &LoadArgs,
    sampler: &SamplerArgs,
    options: &StudioOptions,
) -> Result<i32, Failure> {
    let mut state = initial_state(load, sampler, options);
    state.next_seed = crate::engine::random_seed();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure {
            message: format!("could not start the event loop: {error}"),
            exit_code: 1,
        })?;
    let result = runtime.block_on(studio(state, options.history_path.clone()));
    terminal::leave();
    result.map_err(|error| Failure {
        message: format!("terminal error: {error}"),
        exit_code: 1,
    })
}

async fn studio(
    mut state: State,
    history_path: Option<std::path::PathBuf>,
) -> std::io::Result<i32> {
    use tokio::signal::unix::{signal, SignalKind};

    let mut terminal = terminal::enter()?;
    if state.mouse_enabled {
        terminal::set_mouse_capture(true)?;
    }
    let mut backend = Backend::start(state.load_options.as_ref().and_then(|o| o.remote.clone()));
    let (history, mut history_events) = HistoryHandle::spawn(history_path);
    let (input_sender, mut input) = unbounded_channel();
    let background = input_sender.clone();
    spawn_input_reader(input_sender);
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;

    let size = terminal.size()?;
    update::resize(&mut state, size.width, size.height);
    let effects = update::start(&mut state);
    run_effects(&mut backend, &history, &background, &mut state, effects)?;
    terminal.draw(|frame| panes::draw(frame, &state))?;
    let mut last_draw = Instant::now();
    let mut dirty = false;

    while !state.quit {
        let next_frame = tokio::time::Instant::from_std(last_draw + FRAME_INTERVAL);
        let msg = tokio::select! {
            Some(msg) = input.recv() => msg,
            Some(event) = backend.events.recv() => Msg::Engine(event),
            Some(event) = history_events.recv() => Msg::History(event),
            _ = terminate.recv() => Msg::Terminate,
            _ = hangup.recv() => Msg::Terminate,
            _ = tokio::time::sleep_until(next_frame), if dirty => {
                terminal.draw(|frame| panes::draw(frame, &state))?;
                last_draw = Instant::now();
                dirty = false;
                continue;
            }
        };
        let effects = update::update(&mut state, msg);
        run_effects(&mut backend, &history, &background, &mut state, effects)?;
        dirty = true;
        if last_draw.elapsed() >= FRAME_INTERVAL {
            terminal.draw(|frame| panes::draw(frame, &state))?;
            last_draw = Instant::now();
            dirty = false;
        }
    }
    drop(backend);
    // Waits for queued history writes (the interrupted run's partial text among them).
    drop(history);
    Ok(0)
}

/// Carries out what `update` asked for; replies (request ids) go back through `update`.
pub fn run_effects(
    backend: &mut Backend,
    history: &HistoryHandle,
    background: &UnboundedSender<Msg>,
    state: &mut State,
    effects: Vec<Effect>,
) -> std::io::Result<()> {
    for effect in effects {
        let engine = &backend.engine;
        match effect {
            Effect::Load(options) => {
                // A model on another backend (local ↔ a server) needs that backend's worker.
                if options.remote != backend.remote {
                    *backend = Backend::start(options.remote.clone());
                }
                let id = backend.engine.load(options);
                update::update(state, Msg::LoadSent(id));
            }
            Effect::Generate(request) => {
                let id = engine.generate(request);
                update::update(state, Msg::GenerationSent(id));
            }
            Effect::Cancel(id) => engine.cancel(id),
            Effect::Sweep(request) => {
                let id = engine.sweep(request);
                update::update(state, Msg::SweepSent(id));
            }
            Effect::CancelVariant(id, variant) => engine.cancel_variant(id, variant),
            Effect::Fork(request) => {
                let id = engine.fork(request);
                update::update(state, Msg::GenerationSent(id));
            }
            Effect::Classify(texts) => {
                let id = engine.classify(texts);
                update::update(state, Msg::ClassifySent(id));
            }
            Effect::History(command) => history.send(command),
            Effect::CopyToClipboard(text) => terminal::copy_to_clipboard(&text)?,
            Effect::SetMouseCapture(enabled) => terminal::set_mouse_capture(enabled)?,
            Effect::DiscoverModels(dirs) => spawn_discovery(background.clone(), dirs),
            Effect::DiscoverServers(servers) => spawn_server_discovery(background.clone(), servers),
            Effect::Quit => state.quit = true,
        }
    }
    Ok(())
}

/// The engine the studio talks to: the local worker, or one for a server.
pub struct Backend {
    pub engine: EngineHandle,
    pub events: tokio::sync::mpsc::UnboundedReceiver<crate::engine::EngineEvent>,
    pub remote: Option<crate::engine::remote::Endpoint>,
}

impl Backend {
    pub fn start(remote: Option<crate::engine::remote::Endpoint>) -> Self {
        let (engine, events) = match &remote {
            Some(endpoint) => EngineHandle::spawn_remote(endpoint.clone()),
            None => EngineHandle::spawn(),
        };
        Self {
            engine,
            events,
            remote,
        }
    }
}

/// Model discovery walks caches on disk: never on the UI thread.
fn spawn_discovery(sender: UnboundedSender<Msg>, mut dirs: Vec<std::path::PathBuf>) {
    std::thread::Builder::new()
        .name("refrain-discover".into())
        .spawn(move || {
            dirs.extend(crate::paths::extra_model_dirs());
            let sources = crate::models::discover::default_sources(&dirs);
            let found = crate::models::discover::discover(&sources);
            let _ = sender.send(Msg::ModelsFound(found));
        })
        .ok();
}

/// Asking servers for their models waits on the network: never on the UI thread.
fn spawn_server_discovery(
    sender: UnboundedSender<Msg>,
    servers: Vec<(
        String,
        String,
        Result<crate::engine::remote::Endpoint, String>,
    )>,
) {
    std::thread::Builder::new()
        .name("refrain-servers".into())
        .spawn(move || {
            let found = servers
                .into_iter()
                .map(|(name, url, endpoint)| {
                    let models = match &endpoint {
                        Ok(endpoint) => crate::engine::remote::models_of(endpoint),
                        Err(why) => Err(why.clone()),
                    };
                    picker::ServerModels {
                        name,
                        url,
                        endpoint,
                        models,
                    }
                })
                .collect();
            let _ = sender.send(Msg::ServersFound(found));
        })
        .ok();
}

/// Terminal input on its own thread: crossterm's read blocks.
fn spawn_input_reader(sender: UnboundedSender<Msg>) {
    std::thread::Builder::new()
        .name("refrain-input".into())
        .spawn(move || loop {
            let msg = match event::read() {
                Ok(Event::Key(key)) => Msg::Key(key),
                Ok(Event::Paste(text)) => Msg::Paste(text),
                Ok(Event::Mouse(mouse)) => Msg::Mouse(mouse),
                Ok(Event::Resize(width, height)) => Msg::Resize(width, height),
                Ok(_) => continue,
                // The terminal is gone (hangup): end as SIGHUP would.
                Err(_) => Msg::Terminate,
            };
            let stop = matches!(msg, Msg::Terminate);
            if sender.send(msg).is_err() || stop {
                break;
            }
        })
        .ok();
}
