//! The streamed answer, from the pre-wrapped rows of the output view.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::pane_block;
use crate::tui::keymap::Action;
use crate::tui::layout::inner;
use crate::tui::state::{Focus, ModelState, RunState, State};

pub fn draw(frame: &mut Frame, state: &State, area: Rect) {
    let view = &state.output;
    let position = if view.is_following() {
        " following ".to_owned()
    } else {
        format!(
            " ↑ row {}/{} · End follows ",
            view.scroll_top() + 1,
            view.total_rows()
        )
    };
    let title = match &state.history.replay {
        Some(replay) => {
            let verdict = match replay.verdict {
                None => "replaying…".to_owned(),
                Some(None) => "matched the recorded text ✓".to_owned(),
                Some(Some(at)) => format!("differs from the recorded text at character {at}"),
            };
            Line::from(vec![
                Span::raw(" Output "),
                Span::styled(
                    format!("replay of run {}: {verdict} ", replay.id),
                    state.theme.accent(),
                ),
            ])
        }
        None => Line::from(" Output "),
    };
    let block = pane_block(state, title, state.focus == Focus::Output)
        .title_bottom(Line::from(Span::styled(position, state.theme.muted())).right_aligned());
    frame.render_widget(block, area);
    let inside = inner(area);
    if view.text().is_empty() {
        let hint = match (&state.run, &state.model) {
            (RunState::Requested | RunState::Generating { .. }, ModelState::Loading { .. }) => {
                "the model is loading; generation starts when it is ready…".to_owned()
            }
            (RunState::Requested | RunState::Generating { .. }, _) => {
                "waiting for the first token…".to_owned()
            }
            (_, ModelState::Failed(_) | ModelState::Missing(_)) => {
                "no model is loaded: see the status bar".to_owned()
            }
            _ => format!(
                "Write a prompt, then {} to generate.",
                state.keymap.keys_for(Action::Send)
            ),
        };
        frame.render_widget(
            Paragraph::new(Span::styled(hint, state.theme.muted())).wrap(Wrap { trim: true }),
            inside,
        );
        return;
    }
    let lines: Vec<Line> = view.visible_rows().map(Line::raw).collect();
    frame.render_widget(Paragraph::new(lines), inside);
}
