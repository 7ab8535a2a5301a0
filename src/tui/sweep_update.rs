//! `update`'s part for sweeps: the editor popup, starting one, its engine events, the column
//! keys (focus, maximise, cancel one, keep), and recording every variant in history. Pure.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::keymap::{Action, Scope};
use super::state::{Focus, ModelState, NoticeKind, State};
use super::sweep::{columns_area, sizing_cells, text_area, EditorField, SweepView};
use super::update::{cancel_and_close_record, Effect};
use crate::analysis::diversity::diversity;
use crate::engine::sweep_plan::{plan, varied};
use crate::engine::{EngineEvent, GenerateRequest, Prompt, RunStarted, StopReason, SweepRequest};
use crate::store::recorder::lexicon_record;
use crate::store::worker::HistoryCommand;
use crate::store::{NewRun, RunStatus};

pub fn open_editor(state: &mut State) -> Vec<Effect> {
    state.history.open = false;
    state.picker = None;
    if state.sweep_editor.is_none() {
        state.sweep_editor = Some(state.last_sweep_editor.clone().unwrap_or_default());
    }
    Vec::new()
}

/// Keys while the sweep editor is open.
pub fn editor_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let Some(editor) = state.sweep_editor.as_mut() else {
        return Vec::new();
    };
    let action = state.keymap.lookup(Scope::Picker, &key);
    match (action, key.code) {
        (Some(Action::Quit), _) => return super::update::quit(state),
        (Some(Action::Cancel | Action::OpenSweep), _) => state.sweep_editor = None,
        (Some(Action::Send), _) | (_, KeyCode::Enter) => return run_editor(state),
        (_, KeyCode::Tab) => editor.field = editor.field.next(true),
        (_, KeyCode::BackTab) => editor.field = editor.field.next(false),
        (_, KeyCode::Up) => editor.field = editor.field.next(false),
        (_, KeyCode::Down) => editor.field = editor.field.next(true),
        (_, KeyCode::Left | KeyCode::Right)
            if matches!(
                editor.field,
                EditorField::FirstParam | EditorField::SecondParam
            ) =>
        {
            editor.cycle_param(key.code == KeyCode::Right);
        }
        (_, KeyCode::Backspace) => {
            if let Some(values) = editor.values_mut() {
                values.pop();
            }
        }
        (_, KeyCode::Char(c))
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            if let Some(values) = editor.values_mut() {
                values.push(c);
            }
        }
        _ => {}
    }
    Vec::new()
}

fn run_editor(state: &mut State) -> Vec<Effect> {
    let Some(editor) = state.sweep_editor.clone() else {
        return Vec::new();
    };
    let planned = editor.axes().and_then(|axes| {
        let base = &state.controls.params;
        plan(base, &axes, state.next_seed).map(|variants| (varied(&variants), variants))
    });
    match planned {
        Ok((varied, variants)) => {
            // A shared seed for the next sweep with a random seed (update stays pure).
            state.next_seed = state
                .next_seed
                .wrapping_mul(1_664_525)
                .wrapping_add(1_013_904_223);
            state.last_sweep_editor = Some(editor);
            state.sweep_editor = None;
            start(state, varied, variants)
        }
        Err(message) => {
            state.set_notice(NoticeKind::Error, message);
            Vec::new()
        }
    }
}

/// The prompt in the editors, as `send` builds it.
fn prompt_of(state: &State) -> Option<Prompt> {
    let user = state.prompt.lines().join("\n");
    if user.trim().is_empty() {
        return None;
    }
    let system = state.system.lines().join("\n");
    Some(Prompt::Chat {
        system: (!system.trim().is_empty()).then_some(system),
        user,
        template: state.template.clone(),
    })
}

/// Starts a sweep of `variants` over the editors' prompt; a run or sweep in progress is
/// cancelled first (kept in history as interrupted).
pub fn start(
    state: &mut State,
    varied: String,
    variants: Vec<crate::engine::sweep_plan::PlannedVariant>,
) -> Vec<Effect> {
    let Some(prompt) = prompt_of(state) else {
        state.set_notice(
            NoticeKind::Error,
            "the prompt is empty: type something first",
        );
        return Vec::new();
    };
    if let ModelState::Missing(message) | ModelState::Failed(message) = &state.model {
        let message = format!("no model loaded: {message}");
        state.set_notice(NoticeKind::Error, message);
        return Vec::new();
    }
    let mut effects = stop_current(state);
    let request = SweepRequest {
        prompt: prompt.clone(),
        variants: variants.iter().map(|v| v.sampler.clone()).collect(),
    };
    let mut view = SweepView::new(varied, &variants);
    view.focused = 0;
    state.sweep = Some(view);
    state.sweep_prompt = Some(prompt);
    state.focus = Focus::Output;
    state.refresh_editor_cursors();
    state.notice = None;
    resize_columns(state);
    effects.push(Effect::Sweep(request));
    effects
}

/// Cancels what runs now: a plain run (closing its record) or a sweep (its unfinished
/// variants recorded as interrupted).
pub fn stop_current(state: &mut State) -> Vec<Effect> {
    let mut effects = Vec::new();
    if let Some(id) = state.run.id() {
        cancel_and_close_record(state, id, &mut effects);
        state.run = super::state::RunState::Idle;
    }
    effects.extend(stop_sweep(state));
    effects
}

/// Cancels a running sweep, its unfinished variants recorded as interrupted.
pub fn stop_sweep(state: &mut State) -> Vec<Effect> {
    let mut effects = Vec::new();
    if let Some(sweep) = state.sweep.as_mut().filter(|s| s.running) {
        if let Some(id) = sweep.id {
            effects.push(Effect::Cancel(id));
        }
        sweep.running = false;
        if state.history.records() {
            effects.push(Effect::History(HistoryCommand::AbandonSweep {
                status: RunStatus::Interrupted,
                error: None,
            }));
        }
    }
    effects
}

/// Sizes each visible variant's wrap cache to its cell.
pub fn resize_columns(state: &mut State) {
    let Some(areas) = super::layout::areas(state.size.0, state.size.1) else {
        return;
    };
    let Some(sweep) = state.sweep.as_mut() else {
        return;
    };
    let area = columns_area(areas.output.union(areas.sentiment));
    let rects = sizing_cells(area, sweep.columns.len(), sweep.maximised);
    for (column, rect) in sweep.columns.iter_mut().zip(rects) {
        let text = text_area(rect);
        column.output.resize(text.width, text.height);
    }
}

/// Whether `event` belongs to the sweep on screen.
pub fn owns(state: &State, event: &EngineEvent) -> bool {
    state
        .sweep
        .as_ref()
        .and_then(|s| s.id)
        .is_some_and(|id| id == event.id())
}

pub fn on_engine(state: &mut State, event: EngineEvent) -> Vec<Effect> {
    let mut effects = Vec::new();
    let records = state.history.records();
    let Some(sweep) = state.sweep.as_mut() else {
        return effects;
    };
    match event {
        EngineEvent::SweepStarted { started, seeds, .. } => {
            for (column, seed) in sweep.columns.iter_mut().zip(&seeds) {
                column.seed = Some(*seed);
            }
            if let (true, ModelState::Ready(info), Some(prompt)) =
                (records, &state.model, &state.sweep_prompt)
            {
                let runs = sweep
                    .columns
                    .iter()
                    .zip(&seeds)
                    .map(|(column, seed)| {
                        let started = RunStarted {
                            seed: *seed,
                            ..started.clone()
                        };
                        let request = GenerateRequest {
                            prompt: prompt.clone(),
                            sampler: column.sampler.clone(),
                        };
                        NewRun::new(info, &request, &started)
                    })
                    .collect();
                effects.push(Effect::History(HistoryCommand::BeginSweep {
                    varied: sweep.varied.clone(),
                    runs,
                }));
            }
        }
        EngineEvent::SweepToken {
            variant,
            text,
            generated,
            elapsed,
            ..
        } => {
            if let Some(column) = sweep.columns.get_mut(variant) {
                column.output.push(&text);
                column.lexicon.push_str(&text);
                column.generated = generated;
                column.elapsed = elapsed;
                if records {
                    effects.push(Effect::History(HistoryCommand::SweepProgress {
                        variant,
                        text,
                    }));
                }
            }
        }
        EngineEvent::SweepVariantFinished {
            variant, finished, ..
        } => {
            if let Some(column) = sweep.columns.get_mut(variant) {
                column.lexicon.finish();
                if records {
                    effects.push(Effect::History(HistoryCommand::SweepFinish {
                        variant,
                        finished: finished.clone(),
                        sentiment: lexicon_record(&finished.text),
                    }));
                }
                column.finished = Some(finished);
                column.cancelling = false;
            }
            let texts: Vec<&str> = sweep.columns.iter().map(|c| c.output.text()).collect();
            sweep.diversity = Some(diversity(&texts));
        }
        EngineEvent::SweepFinished { summary, .. } => {
            sweep.running = false;
            sweep.summary = Some(summary);
            let cancelled = sweep
                .columns
                .iter()
                .filter(|c| {
                    c.finished
                        .as_ref()
                        .is_some_and(|f| f.stop_reason == StopReason::Cancelled)
                })
                .count();
            let note = if cancelled > 0 {
                format!(" ({cancelled} cancelled)")
            } else {
                String::new()
            };
            let keep = state.keymap.first_key(Action::SweepKeep);
            state.set_notice(
                NoticeKind::Info,
                format!(
                    "sweep done{note}: ←/→ pick a variant, {keep} keeps it as the run, Esc closes"
                ),
            );
        }
        EngineEvent::Failed { error, .. } => {
            sweep.running = false;
            if records {
                effects.push(Effect::History(HistoryCommand::AbandonSweep {
                    status: RunStatus::Failed,
                    error: Some(error.to_string()),
                }));
            }
            state.set_notice(NoticeKind::Error, format!("sweep failed: {error}"));
        }
        _ => {}
    }
    effects
}

/// Keys of the sweep columns (the output pane while a sweep shows). `None`: not a sweep key.
pub fn on_action(state: &mut State, action: Action) -> Option<Vec<Effect>> {
    let sweep = state.sweep.as_mut()?;
    let count = sweep.columns.len();
    match action {
        Action::SweepPrevious | Action::SweepNext => {
            sweep.focused = if action == Action::SweepNext {
                (sweep.focused + 1) % count
            } else {
                (sweep.focused + count - 1) % count
            };
        }
        Action::SweepMaximise => {
            sweep.maximised = !sweep.maximised;
            resize_columns(state);
        }
        Action::SweepCancelOne => {
            let focused = sweep.focused;
            let column = &mut sweep.columns[focused];
            if let (Some(id), None) = (sweep.id, &column.finished) {
                column.cancelling = true;
                return Some(vec![Effect::CancelVariant(id, focused)]);
            }
        }
        Action::SweepKeep => return Some(keep(state)),
        Action::ScrollUp | Action::ScrollDown => {
            let column = &mut sweep.columns[sweep.focused];
            column
                .output
                .scroll_by(if action == Action::ScrollUp { -1 } else { 1 });
        }
        Action::ScrollPageUp | Action::ScrollPageDown => {
            let column = &mut sweep.columns[sweep.focused];
            let page = column.output.page();
            column.output.scroll_by(if action == Action::ScrollPageUp {
                -page
            } else {
                page
            });
        }
        _ => return None,
    }
    Some(Vec::new())
}

/// Esc: cancels a running sweep; on a finished one, closes the columns.
pub fn cancel_or_close(state: &mut State) -> Option<Vec<Effect>> {
    let sweep = state.sweep.as_mut()?;
    if sweep.running {
        let id = sweep.id?;
        for column in sweep.columns.iter_mut().filter(|c| c.finished.is_none()) {
            column.cancelling = true;
        }
        return Some(vec![Effect::Cancel(id)]);
    }
    state.sweep = None;
    Some(Vec::new())
}

/// Promotes the focused variant to the studio's run: its text into the output, its settings
/// (seed fixed) into the controls, so Regenerate repeats it.
fn keep(state: &mut State) -> Vec<Effect> {
    let Some(sweep) = state.sweep.as_ref() else {
        return Vec::new();
    };
    let column = &sweep.columns[sweep.focused];
    let Some(finished) = column.finished.clone() else {
        state.set_notice(
            NoticeKind::Info,
            "this variant is still running: keep it when it is done (x cancels it)",
        );
        return Vec::new();
    };
    let mut sampler = column.sampler.clone();
    sampler.seed = Some(finished.seed);
    let label = column.label.clone();
    let index = sweep.focused + 1;
    state.controls = super::controls::Controls::new(sampler.clone());
    state.output.set_text(&finished.text);
    state.sentiment.reset();
    state.sentiment.push(&finished.text);
    state.sentiment.lexicon.finish();
    // The variant's run is recorded already; a model readout now would have no run to go to.
    state.sentiment.model = super::sentiment::ModelReadout::None;
    state.inspector.clear();
    if let Some(prompt) = state.sweep_prompt.clone() {
        state.last_request = Some(GenerateRequest { prompt, sampler });
    }
    state.sweep = None;
    state.set_notice(
        NoticeKind::Info,
        format!(
            "kept variant {index} ({label}, seed {}): its settings are in the controls \
             ({} regenerates it exactly, with token data to inspect)",
            finished.seed,
            state.keymap.first_key(Action::Regenerate)
        ),
    );
    Vec::new()
}
