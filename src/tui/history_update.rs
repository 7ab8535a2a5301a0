//! `update`'s part for the history: list keys, search as you type, load, replay, star, delete,
//! and recording the studio's runs. Pure, like the rest of `update`.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::history::{Availability, Replay};
use super::keymap::{Action, Scope};
use super::state::{Focus, NoticeKind, State};
use super::update::{quit, start_generation, Effect};
use crate::store::record::first_difference;
use crate::store::worker::{HistoryCommand, HistoryEvent, Purpose};

fn history(command: HistoryCommand) -> Effect {
    Effect::History(command)
}

/// Keys while the history list is open.
pub fn on_key(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    if let Some(id) = state.history.confirm_delete.take() {
        if matches!(key.code, KeyCode::Char('y' | 'Y')) {
            state.set_notice(NoticeKind::Info, format!("deleted run {id}"));
            return vec![history(HistoryCommand::Delete { id })];
        }
        state.set_notice(NoticeKind::Info, "kept");
        return Vec::new();
    }
    match state.keymap.lookup(Scope::History, &key) {
        Some(Action::Quit) => quit(state),
        Some(Action::Cancel | Action::ToggleHistory) => {
            state.history.open = false;
            Vec::new()
        }
        Some(Action::HistoryUp) => {
            state.history.selected = state.history.selected.saturating_sub(1);
            Vec::new()
        }
        Some(Action::HistoryDown) => {
            let last = state.history.rows.len().saturating_sub(1);
            state.history.selected = (state.history.selected + 1).min(last);
            Vec::new()
        }
        Some(Action::HistoryLoad) => state
            .history
            .fetch(Purpose::Load)
            .map(history)
            .into_iter()
            .collect(),
        Some(Action::HistoryReplay) => state
            .history
            .fetch(Purpose::Replay)
            .map(history)
            .into_iter()
            .collect(),
        Some(Action::HistoryStar) => {
            let Some(row) = state.history.rows.get(state.history.selected) else {
                return Vec::new();
            };
            vec![history(HistoryCommand::Star {
                id: row.id,
                starred: !row.starred,
            })]
        }
        Some(Action::HistoryDelete) => {
            if let Some(id) = state.history.selected_id() {
                state.history.confirm_delete = Some(id);
                state.set_notice(
                    NoticeKind::Error,
                    format!("delete run {id}? y to confirm, any other key keeps it"),
                );
            }
            Vec::new()
        }
        Some(Action::ToggleHelp) if key.code == KeyCode::F(1) => {
            state.help_open = true;
            Vec::new()
        }
        _ => edit_query(state, key),
    }
}

/// Typing searches, incrementally: every change sends a query; stale answers are dropped.
fn edit_query(state: &mut State, key: KeyEvent) -> Vec<Effect> {
    let typed = match key.code {
        KeyCode::Char(c)
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            state.history.query.push(c);
            true
        }
        KeyCode::Backspace => state.history.query.pop().is_some(),
        _ => false,
    };
    if typed {
        state.history.selected = 0;
        vec![history(state.history.query_command())]
    } else {
        Vec::new()
    }
}

/// F4: open (and refresh) or close the list.
pub fn toggle(state: &mut State) -> Vec<Effect> {
    if let Availability::Off(why) = &state.history.availability {
        let message = format!("history is off: {why}");
        state.set_notice(NoticeKind::Error, message);
        return Vec::new();
    }
    state.history.open = !state.history.open;
    if state.history.open {
        vec![history(state.history.query_command())]
    } else {
        Vec::new()
    }
}

pub fn on_event(state: &mut State, event: HistoryEvent) -> Vec<Effect> {
    match event {
        HistoryEvent::Began { id } => state.shown_run_id = Some(id),
        HistoryEvent::Opened { path } => {
            state.history.availability = Availability::Open(path);
            if state.history.open {
                return vec![history(state.history.query_command())];
            }
        }
        HistoryEvent::Unavailable(why) => {
            if why.contains("--no-history") {
                state.set_notice(NoticeKind::Info, "incognito: this session keeps no history");
            } else {
                let message = format!("history disabled for this session: {why}");
                state.set_notice(NoticeKind::Error, message);
            }
            state.history.availability = Availability::Off(why);
            state.history.open = false;
        }
        HistoryEvent::Listed { query_id, rows } if query_id == state.history.latest_query => {
            state.history.selected = state.history.selected.min(rows.len().saturating_sub(1));
            state.history.rows = rows;
        }
        HistoryEvent::Listed { .. } => {}
        HistoryEvent::Changed => return vec![history(state.history.query_command())],
        HistoryEvent::Error(message) => {
            state.set_notice(NoticeKind::Error, format!("history: {message}"))
        }
        HistoryEvent::Fetched { record, purpose } => {
            state.history.open = false;
            match purpose {
                Purpose::Load => {
                    replace_text(&mut state.prompt, &record.run.user_prompt);
                    replace_text(
                        &mut state.system,
                        record.run.system_prompt.as_deref().unwrap_or(""),
                    );
                    state.controls = super::controls::Controls::new(record.run.sampler.clone());
                    state.template = record.run.template.clone();
                    state.focus = Focus::Prompt;
                    state.refresh_editor_cursors();
                    state.set_notice(
                        NoticeKind::Info,
                        format!(
                            "loaded run {}: prompt, system prompt and settings (seed {} fixed)",
                            record.id,
                            record.run.sampler.seed.unwrap_or(0)
                        ),
                    );
                }
                Purpose::Replay => {
                    let effects = start_generation(state, record.run.request());
                    state.history.replay = Some(Replay {
                        id: record.id,
                        recorded: record.output.clone(),
                        verdict: None,
                    });
                    return effects;
                }
            }
        }
    }
    Vec::new()
}

/// A run finished: if it was a replay, say whether it matched the recorded text.
pub fn judge_replay(state: &mut State, text: &str) {
    let Some(replay) = state.history.replay.as_mut() else {
        return;
    };
    if replay.verdict.is_some() {
        return;
    }
    let difference = first_difference(&replay.recorded, text);
    replay.verdict = Some(difference);
    let message = match difference {
        None => format!(
            "replay of run {} matched the recorded text exactly",
            replay.id
        ),
        Some(at) => format!(
            "replay of run {} differs from the recorded text at character {at}",
            replay.id
        ),
    };
    let kind = if difference.is_none() {
        NoticeKind::Info
    } else {
        NoticeKind::Error
    };
    state.set_notice(kind, message);
}

pub(super) fn replace_text(editor: &mut ratatui_textarea::TextArea<'static>, text: &str) {
    editor.select_all();
    editor.cut();
    editor.insert_str(text);
}
