//! `update`'s part for the pickers: filter as you type, move, choose. Choosing a preset fills
//! the editors and controls; choosing a model releases the old one and loads the new one in the
//! background. Pure, like the rest of `update`.

use std::path::{Path, PathBuf};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::CursorMove;

use super::history_update::replace_text;
use super::keymap::{Action, Scope};
use super::picker::{model_entries, preset_entries, Choice, Picker, PickerKind};
use super::state::{ActivePreset, Focus, ModelState, NoticeKind, State};
use super::update::{cancel_and_close_record, file_name, quit, Effect};
use crate::config::presets::Preset;
use crate::engine::LoadOptions;
use crate::models::discover::FoundModel;

pub fn open_presets(state: &mut State) -> Vec<Effect> {
    state.history.open = false;
    state.picker = Some(Picker::new(
        PickerKind::Presets,
        preset_entries(&state.presets),
    ));
    Vec::new()
}

/// Opens the model picker at once; discovery runs off the UI thread and fills it.
pub fn open_models(state: &mut State) -> Vec<Effect> {
    state.history.open = false;
    state.picker = Some(Picker::searching_models());
    let mut effects = vec![Effect::DiscoverModels(state.model_dirs.clone())];
    if !state.endpoints.is_empty() {
        effects.push(Effect::DiscoverServers(state.endpoints.clone()));
    }
    effects
}

pub fn servers_found(state: &mut State, servers: Vec<super::picker::ServerModels>) -> Vec<Effect> {
    let current = state.load_options.as_ref().and_then(|o| o.remote.clone());
    if let Some(picker) = state
        .picker
        .as_mut()
        .filter(|p| p.kind == PickerKind::Models)
    {
        picker.add_entries(super::picker::server_entries(&servers, current.as_ref()));
    }
    Vec::new()
}

pub fn models_found(state: &mut State, found: Vec<FoundModel>) -> Vec<Effect> {
    let current = state.load_options.as_ref().map(|o| o.model_path.clone());
    if let Some(picker) = state
        .picker
        .as_mut()
        .filter(|p| p.kind == PickerKind::Models)
    {
        picker.set_entries(model_entries(&found, current.as_deref()));
    }
    Vec::new()
}

/// Keys while a picker is open.
pub fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Some(picker) = state.picker.as_mut() else {
        return Vec::new();
    };
    match state.keymap.lookup(Scope::Picker, &key) {
        Some(Action::Quit) => return quit(state),
        Some(Action::Cancel | Action::OpenPresets | Action::OpenModels) => {
            state.picker = None;
        }
        Some(Action::PickerUp) => picker.move_selection(-1),
        Some(Action::PickerDown) => picker.move_selection(1),
        Some(Action::ScrollPageUp) => picker.move_selection(-10),
        Some(Action::ScrollPageDown) => picker.move_selection(10),
        Some(Action::PickerChoose) => return choose(state),
        Some(Action::ToggleHelp) if key.code == KeyCode::F(1) => state.help_open = true,
        _ => match key.code {
            KeyCode::Backspace => {
                picker.query.pop();
                picker.refilter();
            }
            KeyCode::Char(c)
                if !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                picker.query.push(c);
                picker.refilter();
            }
            _ => {}
        },
    }
    Vec::new()
}

fn choose(state: &mut State) -> Vec<Effect> {
    let Some(entry) = state.picker.as_ref().and_then(Picker::selected_entry) else {
        return Vec::new();
    };
    match entry.choice.clone() {
        Choice::Preset(preset) => {
            state.picker = None;
            apply_preset(state, &preset);
            Vec::new()
        }
        Choice::Model(path) => {
            state.picker = None;
            switch_model(state, path)
        }
        Choice::Remote(endpoint) => {
            state.picker = None;
            switch_to_server(state, *endpoint)
        }
        Choice::Invalid(why) => {
            state.set_notice(NoticeKind::Error, format!("cannot load it: {why}"));
            Vec::new()
        }
    }
}

/// Sampler values over the session's starting values; a prompt form also fills the editors,
/// with its first blank selected so typing replaces it.
pub fn apply_preset(state: &mut State, preset: &Preset) {
    let mut params = state.base_sampler.clone();
    // Keep the user's seed choice and stop strings unless the preset names them.
    params.seed = state.controls.params.seed;
    params.stop = state.controls.params.stop.clone();
    preset.sampler.apply(&mut params);
    if params.seed != state.controls.params.seed {
        if let Some(seed) = params.seed {
            state.controls.fixed_seed = seed;
        }
    }
    state.controls.params = params;
    state.controls.typed.clear();
    state.controls.hint = None;
    let Some(prompt) = &preset.prompt else {
        state.set_notice(
            NoticeKind::Info,
            format!("preset {}: sampler settings applied", preset.name),
        );
        return;
    };
    replace_text(&mut state.system, preset.system.as_deref().unwrap_or(""));
    replace_text(&mut state.prompt, prompt);
    state.focus = Focus::Prompt;
    state.refresh_editor_cursors();
    let blanks = preset.placeholders();
    select_next_blank(state, &blanks);
    state.active_preset = Some(ActivePreset {
        name: preset.name.clone(),
        blanks: blanks.clone(),
        warned: false,
    });
    let listed: Vec<String> = blanks.iter().map(|b| format!("{{{b}}}")).collect();
    state.set_notice(
        NoticeKind::Info,
        format!(
            "preset {}: fill in {} (the first is selected: type to replace it), then {} sends",
            preset.name,
            listed.join(" "),
            state.keymap.first_key(Action::Send)
        ),
    );
}

/// Selects the first `{blank}` still in the prompt, so typing replaces it.
fn select_next_blank(state: &mut State, blanks: &[String]) {
    let lines = state.prompt.lines().to_vec();
    for (row, line) in lines.iter().enumerate() {
        let found = blanks
            .iter()
            .filter_map(|b| {
                let marker = format!("{{{b}}}");
                line.find(&marker).map(|at| (at, marker))
            })
            .min_by_key(|(at, _)| *at);
        if let Some((at, marker)) = found {
            let column = line[..at].chars().count();
            let (Ok(row), Ok(start), Ok(end)) = (
                u16::try_from(row),
                u16::try_from(column),
                u16::try_from(column + marker.chars().count()),
            ) else {
                return;
            };
            state.prompt.cancel_selection();
            state.prompt.move_cursor(CursorMove::Jump(row, start));
            state.prompt.start_selection();
            state.prompt.move_cursor(CursorMove::Jump(row, end));
            return;
        }
    }
}

/// The blanks of the active preset still present in the prompt or system prompt.
pub fn unfilled_blanks(state: &State) -> Vec<String> {
    let Some(active) = &state.active_preset else {
        return Vec::new();
    };
    let text = format!(
        "{}\n{}",
        state.prompt.lines().join("\n"),
        state.system.lines().join("\n")
    );
    active
        .blanks
        .iter()
        .filter(|b| text.contains(&format!("{{{b}}}")))
        .cloned()
        .collect()
}

/// Generates on `endpoint` from now on: the local model is released (its worker ends).
pub fn switch_to_server(
    state: &mut State,
    endpoint: crate::engine::remote::Endpoint,
) -> Vec<Effect> {
    let name = format!(
        "{}: {}",
        endpoint.label,
        endpoint.model.clone().unwrap_or_default()
    );
    let mut options = LoadOptions::new(endpoint.public_url());
    options.remote = Some(endpoint);
    load_instead(
        state,
        options,
        name.clone(),
        format!("connecting to {name}…"),
    )
}

/// Releases the loaded model and loads `path` with the same settings. A run in progress is
/// cancelled (kept in history as interrupted); the studio stays usable while it loads.
pub fn switch_model(state: &mut State, path: PathBuf) -> Vec<Effect> {
    if matches!(&state.model, ModelState::Ready(info) if same_file(&info.path, &path)) {
        state.set_notice(
            NoticeKind::Info,
            format!("{} is already loaded", file_name(&path)),
        );
        return Vec::new();
    }
    let mut options = state
        .load_options
        .clone()
        .unwrap_or_else(|| LoadOptions::new(path.clone()));
    options.model_path = path;
    options.remote = None;
    if options.preflight == crate::engine::Preflight::HeaderOnly {
        options.preflight = crate::cli::checker_preflight();
    }
    let name = file_name(&options.model_path);
    load_instead(state, options, name.clone(), format!("loading {name}…"))
}

/// Stops what runs on the current model (a run, kept as interrupted; a sweep; a model
/// readout; a load still going) and loads `options` instead.
fn load_instead(
    state: &mut State,
    options: LoadOptions,
    name: String,
    notice: String,
) -> Vec<Effect> {
    let mut effects = Vec::new();
    if let Some(id) = state.run.id() {
        cancel_and_close_record(state, id, &mut effects);
    }
    effects.extend(super::sweep_update::stop_sweep(state));
    if let super::sentiment::ModelReadout::Running(id) = state.sentiment.model {
        effects.push(Effect::Cancel(id));
    }
    if let ModelState::Loading { id: Some(id), .. } = state.model {
        effects.push(Effect::Cancel(id));
    }
    state.run = super::state::RunState::Idle;
    state.model = ModelState::Loading {
        id: None,
        name,
        fraction: 0.0,
    };
    state.load_options = Some(options.clone());
    state.set_notice(NoticeKind::Info, notice);
    effects.push(Effect::Load(options));
    effects
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b
}
