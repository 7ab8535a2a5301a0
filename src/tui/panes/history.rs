//! The history list over the right column: search box, runs newest first, and its keys.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use crate::store::export::local_time;
use crate::store::record::sentiment_glyph;
use crate::tui::history::Availability;
use crate::tui::keymap::Action;
use crate::tui::layout::inner;
use crate::tui::state::State;

pub fn draw(frame: &mut Frame, state: &State, area: Rect) {
    let view = &state.history;
    let theme = &state.theme;
    let footer = match view.confirm_delete {
        Some(id) => format!(" delete run {id}? y deletes, any other key keeps it "),
        None => format!(
            " Enter load · {} replay · {} star · Del delete · Esc close ",
            state.keymap.keys_for(Action::HistoryReplay),
            state.keymap.keys_for(Action::HistoryStar)
        ),
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(" History ")
        .title_bottom(Line::from(Span::styled(footer, theme.muted())));
    frame.render_widget(Clear, area);
    frame.render_widget(block, area);
    let inside = inner(area);
    let mut lines = vec![Line::from(vec![
        Span::styled("search ", theme.accent()),
        Span::raw(format!("{}▏", view.query)),
        Span::styled(format!("  {} runs", view.rows.len()), theme.muted()),
    ])];
    match &view.availability {
        Availability::Opening => lines.push(Line::from(Span::styled(
            "opening the history…",
            theme.muted(),
        ))),
        Availability::Off(why) => lines.push(Line::from(Span::styled(why.clone(), theme.error()))),
        Availability::Open(_) if view.rows.is_empty() => {
            let hint = if view.query.is_empty() {
                "no runs yet"
            } else {
                "no run matches"
            };
            lines.push(Line::from(Span::styled(hint, theme.muted())));
        }
        Availability::Open(_) => {
            let room = inside.height.saturating_sub(1) as usize;
            let start = view.selected.saturating_sub(room.saturating_sub(1));
            for (index, row) in view.rows.iter().enumerate().skip(start).take(room) {
                let time = local_time(row.started_at);
                let text = format!(
                    "{} {} {:<14} t{:<4.2} {} {:<11} {}",
                    if row.starred { "★" } else { " " },
                    time.get(5..16).unwrap_or(&time),
                    row.model_name.chars().take(14).collect::<String>(),
                    row.temperature,
                    sentiment_glyph(row.sentiment),
                    row.status.as_str(),
                    row.first_line
                );
                let style = if index == view.selected {
                    theme.selected()
                } else {
                    ratatui::style::Style::default()
                };
                lines.push(Line::from(Span::styled(text, style)));
            }
        }
    }
    frame.render_widget(Paragraph::new(lines), inside);
}
