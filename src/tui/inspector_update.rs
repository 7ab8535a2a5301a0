//! `update`'s part for the token inspector: heat on/off, the inspect cursor, choosing an
//! alternative, and forking the response there. Pure.

use super::keymap::Action;
use super::state::{Focus, ModelState, NoticeKind, RunState, State};
use super::update::{begin_new_response, Effect};
use crate::engine::ForkRequest;

pub fn on_action(state: &mut State, action: Action) -> Vec<Effect> {
    let inspector = &mut state.inspector;
    let count = inspector.details.len();
    match action {
        Action::ToggleHeat => {
            inspector.heat = !inspector.heat;
            let word = if inspector.heat {
                "on: warmer colours for less likely tokens"
            } else {
                "off"
            };
            state.set_notice(NoticeKind::Info, format!("token heat {word}"));
        }
        Action::Inspect if inspector.cursor.is_some() => inspector.cursor = None,
        Action::Inspect => {
            if count == 0 {
                state.set_notice(
                    NoticeKind::Info,
                    "no token data for this output: generate (or regenerate) to inspect it",
                );
                return Vec::new();
            }
            inspector.cursor = Some(count - 1);
            inspector.alternative = 0;
            state.focus = Focus::Output;
            state.refresh_editor_cursors();
            reveal(state);
        }
        Action::InspectPrevious | Action::InspectNext => {
            if let Some(cursor) = inspector.cursor.as_mut() {
                *cursor = if action == Action::InspectNext {
                    (*cursor + 1).min(count.saturating_sub(1))
                } else {
                    cursor.saturating_sub(1)
                };
                inspector.alternative = 0;
                reveal(state);
            }
        }
        Action::AlternativeUp | Action::AlternativeDown => {
            if let Some(detail) = inspector.cursor.and_then(|c| inspector.details.get(c)) {
                let last = detail.top.len().saturating_sub(1);
                inspector.alternative = if action == Action::AlternativeDown {
                    (inspector.alternative + 1).min(last)
                } else {
                    inspector.alternative.saturating_sub(1)
                };
            }
        }
        Action::Fork => return fork(state),
        _ => {}
    }
    Vec::new()
}

/// Keeps the token under the cursor on screen.
fn reveal(state: &mut State) {
    if let Some(span) = state
        .inspector
        .cursor
        .and_then(|c| state.inspector.spans.get(c))
    {
        let at = span.start.min(state.output.text().len());
        state.output.reveal(at);
    }
}

/// Continues the response from the token under the cursor with the chosen alternative: the
/// text before it stays, the engine reuses its cache up to there, and the result is a new run
/// linked to this one.
fn fork(state: &mut State) -> Vec<Effect> {
    let Some(at) = state.inspector.cursor else {
        return Vec::new();
    };
    let Some(alternative) = state
        .inspector
        .details
        .get(at)
        .and_then(|d| d.top.get(state.inspector.alternative))
        .cloned()
    else {
        return Vec::new();
    };
    let Some(parent) = state.last_request.clone() else {
        state.set_notice(NoticeKind::Error, "nothing to fork: generate first");
        return Vec::new();
    };
    if !matches!(state.model, ModelState::Ready(_)) {
        state.set_notice(NoticeKind::Error, "no model loaded");
        return Vec::new();
    }
    let prefix: Vec<i32> = state.inspector.details[..at]
        .iter()
        .map(|d| d.token)
        .collect();
    let kept = state.inspector.text_before(at);
    let parent_run = state.shown_run_id;
    let mut effects = begin_new_response(state);
    let mut sampler = state.controls.params.clone();
    sampler.top_logprobs = Some(super::inspector::ALTERNATIVES);
    let request = crate::engine::GenerateRequest {
        prompt: parent.prompt,
        sampler,
    };
    state.inspector.truncate(at);
    state.output.set_text(&kept);
    state.sentiment.push(&kept);
    state.run = RunState::Requested;
    state.last_request = Some(request.clone());
    state.pending_fork = Some((parent_run, at as u32));
    state.set_notice(
        NoticeKind::Info,
        format!(
            "forked at token {at} with {:?} ({:.0} %)",
            alternative.text,
            alternative.probability * 100.0
        ),
    );
    effects.push(Effect::Fork(ForkRequest {
        request,
        prefix,
        token: alternative.token,
    }));
    effects
}
