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
    let block = pane_block(state, title, state.focus == Focus::Output).title_bottom(
        Line::from(Span::styled(position.clone(), state.theme.muted())).right_aligned(),
    );
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
    let inspector = &state.inspector;
    let styled = (inspector.heat || inspector.cursor.is_some()) && !inspector.spans.is_empty();
    let lines: Vec<Line> = if styled {
        view.visible_row_ranges()
            .map(|row| token_spans(state, row))
            .collect()
    } else {
        view.visible_rows().map(Line::raw).collect()
    };
    frame.render_widget(Paragraph::new(lines), inside);
    if inspector.cursor.is_some() {
        super::inspector::draw(frame, state, inside);
    } else if inspector.heat && !inspector.details.is_empty() {
        // The entropy of each step along the bottom border: where the model hesitated.
        let room = (area.width as usize).saturating_sub(position.chars().count() + 14);
        let mut spans = vec![Span::styled(" entropy ", state.theme.muted())];
        spans.extend(super::inspector::entropy_sparkline(
            &inspector.details,
            room,
            None,
            state,
        ));
        spans.push(Span::raw(" "));
        let bottom = Rect::new(
            area.x + 1,
            area.y + area.height - 1,
            area.width.saturating_sub(2),
            1,
        );
        frame.render_widget(Paragraph::new(Line::from(spans)), bottom);
    }
}

/// One output row cut at token boundaries, each piece styled by its token's heat, the token
/// under the inspect cursor reversed.
fn token_spans(state: &State, row: std::ops::Range<usize>) -> Line<'static> {
    let text = state.output.text();
    let inspector = &state.inspector;
    let mut spans = Vec::new();
    let mut at = row.start;
    let end = row.end.min(text.len());
    while at < end {
        let (piece_end, style) = match inspector.token_at(at) {
            Some(index) => {
                let span_end = inspector.spans[index].end.min(end);
                let detail = &inspector.details[index];
                let mut style = if inspector.heat {
                    state
                        .theme
                        .heat(crate::tui::inspector::Heat::of(detail.probability))
                } else {
                    ratatui::style::Style::default()
                };
                if inspector.cursor == Some(index) {
                    style = state.theme.selected();
                }
                (span_end, style)
            }
            // Text past the recorded tokens (a stop string's cut, say): plain.
            None => (end, ratatui::style::Style::default()),
        };
        // Cut only on character boundaries (a token may end inside a character).
        let mut cut = piece_end.max(at + 1).min(end);
        while cut < end && !text.is_char_boundary(cut) {
            cut += 1;
        }
        let piece = text[at..cut].trim_end_matches('\r').to_owned();
        spans.push(Span::styled(piece, style));
        at = cut;
    }
    Line::from(spans)
}
