//! The help overlay, generated from the keymap table.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::tui::keymap::{Key, Scope};
use crate::tui::state::State;

pub fn draw(frame: &mut Frame, state: &State, area: Rect) {
    let mut lines: Vec<Line> = Vec::new();
    let bindings = state.keymap.bindings();
    let key_width = bindings
        .iter()
        .map(|b| keys_label(&b.keys).chars().count())
        .max()
        .unwrap_or(0)
        .min(28);
    for scope in [
        Scope::Global,
        Scope::Editor,
        Scope::Controls,
        Scope::Output,
        Scope::History,
        Scope::Picker,
        Scope::Sweep,
        Scope::Inspect,
    ] {
        lines.push(Line::from(Span::styled(
            scope.title(),
            state.theme.accent(),
        )));
        for binding in bindings.iter().filter(|b| b.scope == scope) {
            lines.push(Line::from(vec![
                Span::raw(format!("  {:<key_width$}  ", keys_label(&binding.keys))),
                Span::raw(binding.description),
            ]));
        }
        if scope == Scope::History {
            lines.push(Line::from(Span::styled(
                "  (type to search prompts and outputs; Esc closes)",
                state.theme.muted(),
            )));
        }
        if scope == Scope::Picker {
            lines.push(Line::from(Span::styled(
                "  (type to filter: letters in order, fuzzy; Esc closes)",
                state.theme.muted(),
            )));
        }
        if scope == Scope::Editor {
            lines.push(Line::from(Span::styled(
                "  (and the editor's own: arrows, Ctrl+A/E line ends, Ctrl+K/W delete, paste)",
                state.theme.muted(),
            )));
        }
        lines.push(Line::from(""));
    }
    let width = area.width.saturating_sub(4).min(90);
    let height = area.height.saturating_sub(2).min(lines.len() as u16 + 2);
    let popup = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(state.theme.border(true))
                .title(" Keys — Esc or F1 closes "),
        ),
        popup,
    );
}

fn keys_label(keys: &[Key]) -> String {
    keys.iter().map(Key::label).collect::<Vec<_>>().join(" / ")
}
