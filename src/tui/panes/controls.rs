//! The sampler controls: each value, the selection, typed input and the clamp hint.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::pane_block;
use crate::tui::controls::FIELDS;
use crate::tui::layout::inner;
use crate::tui::state::{Focus, State};

pub fn draw(frame: &mut Frame, state: &State, area: Rect) {
    let focused = state.focus == Focus::Controls;
    let controls = &state.controls;
    let label_width = FIELDS.iter().map(|f| f.label().len()).max().unwrap_or(0);
    let mut lines: Vec<Line> = FIELDS
        .iter()
        .enumerate()
        .map(|(index, field)| {
            let selected = index == controls.selected;
            let value = if selected && focused && !controls.typed.is_empty() {
                format!("{}▏", controls.typed)
            } else {
                controls.display(*field)
            };
            let marker = if selected { "›" } else { " " };
            let text = format!("{marker} {:<label_width$}  {value}", field.label());
            if selected && focused {
                Line::from(Span::styled(text, state.theme.selected()))
            } else if selected {
                Line::from(Span::styled(text, state.theme.accent()))
            } else {
                Line::from(text)
            }
        })
        .collect();
    let footer = match &controls.hint {
        Some(hint) => Span::styled(hint.clone(), state.theme.warning()),
        None if focused => Span::styled(
            "←/→ fine  [ ] coarse  type+Enter  F1 keys",
            state.theme.muted(),
        ),
        None => Span::styled("applies to the next run", state.theme.muted()),
    };
    lines.push(Line::from(footer));
    let block = pane_block(state, Line::from(" Sampler "), focused);
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new(lines), inner(area));
}
