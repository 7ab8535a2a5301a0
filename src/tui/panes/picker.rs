//! The preset / model picker popup: filter line, the list (grouped while unfiltered), and the
//! chosen entry's details beside it (below it on a narrow terminal).

use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::tui::keymap::Action;
use crate::tui::layout::inner;
use crate::tui::picker::{Picker, PickerKind};
use crate::tui::state::State;

pub fn draw(frame: &mut Frame, state: &State, picker: &Picker, area: Rect) {
    let theme = &state.theme;
    let width = area.width.saturating_sub(4).clamp(20, 120);
    let height = area.height.saturating_sub(2).clamp(8, 34);
    let popup = Rect::new(
        area.x + area.width.saturating_sub(width) / 2,
        area.y + area.height.saturating_sub(height) / 2,
        width.min(area.width),
        height.min(area.height),
    );
    let choose = match picker.kind {
        PickerKind::Presets => "fill the editors and controls",
        PickerKind::Models => "load it",
    };
    let footer = format!(
        " {}/{} move · {} {choose} · {} close · type to filter ",
        state.keymap.first_key(Action::PickerUp),
        state.keymap.first_key(Action::PickerDown),
        state.keymap.first_key(Action::PickerChoose),
        state.keymap.first_key(Action::Cancel),
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(true))
        .title(format!(" {} ", picker.kind.title()))
        .title_bottom(Line::from(Span::styled(footer, theme.muted())));
    frame.render_widget(Clear, popup);
    frame.render_widget(block, popup);
    let inside = inner(popup);
    if inside.height < 3 {
        return;
    }
    let filter = Line::from(vec![
        Span::styled("filter ", theme.accent()),
        Span::raw(format!("{}▏", picker.query)),
        Span::styled(
            if picker.searching {
                "  looking in ./models, your dirs and the HF, llama.cpp, LM Studio, Ollama caches…"
                    .to_owned()
            } else {
                format!("  {} of {}", picker.visible.len(), picker.entries.len())
            },
            theme.muted(),
        ),
    ]);
    let [filter_area, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)])
        .areas(Rect::new(inside.x, inside.y, inside.width, inside.height));
    frame.render_widget(Paragraph::new(filter), filter_area);

    let side_by_side = body.width >= 70;
    let [list_area, detail_area] = if side_by_side {
        Layout::default()
            .direction(Direction::Horizontal)
            .constraints([Constraint::Percentage(45), Constraint::Percentage(55)])
            .areas(body)
    } else {
        Layout::default()
            .direction(Direction::Vertical)
            .constraints([Constraint::Percentage(55), Constraint::Percentage(45)])
            .areas(body)
    };
    draw_list(frame, state, picker, list_area, side_by_side);
    draw_details(frame, state, picker, detail_area, side_by_side);
}

fn draw_list(frame: &mut Frame, state: &State, picker: &Picker, area: Rect, side: bool) {
    let theme = &state.theme;
    let mut lines: Vec<Line> = Vec::new();
    let mut selected_line = 0usize;
    let grouped = picker.query.is_empty();
    let mut last_group: Option<&str> = None;
    let width = area.width.saturating_sub(u16::from(side)) as usize;
    if picker.visible.is_empty() && !picker.searching {
        let text = if picker.entries.is_empty() {
            match picker.kind {
                PickerKind::Models => "no GGUF models found; `make models` fetches the default one",
                PickerKind::Presets => "no presets",
            }
        } else {
            "nothing matches"
        };
        lines.push(Line::from(Span::styled(text, theme.muted())));
    }
    for (row, &index) in picker.visible.iter().enumerate() {
        let entry = &picker.entries[index];
        if grouped && last_group != Some(entry.group.as_str()) {
            lines.push(Line::from(Span::styled(
                entry.group.clone(),
                theme.accent(),
            )));
            last_group = Some(entry.group.as_str());
        }
        if row == picker.selected {
            selected_line = lines.len();
        }
        let marker = if entry.current { "● " } else { "  " };
        let summary = if side { "" } else { entry.summary.as_str() };
        let text = truncate(&format!("{marker}{}  {summary}", entry.name), width);
        let style = if row == picker.selected {
            theme.selected()
        } else if matches!(entry.choice, crate::tui::picker::Choice::Invalid(_)) {
            theme.muted()
        } else {
            ratatui::style::Style::default()
        };
        lines.push(Line::from(Span::styled(text, style)));
    }
    let room = area.height as usize;
    let skip = selected_line.saturating_sub(room.saturating_sub(1));
    let visible: Vec<Line> = lines.into_iter().skip(skip).take(room).collect();
    let list = Paragraph::new(visible);
    let list = if side {
        list.block(
            Block::default()
                .borders(Borders::RIGHT)
                .border_style(theme.border(false)),
        )
    } else {
        list
    };
    frame.render_widget(list, area);
}

fn draw_details(frame: &mut Frame, state: &State, picker: &Picker, area: Rect, side: bool) {
    let theme = &state.theme;
    let Some(entry) = picker.selected_entry() else {
        return;
    };
    let mut lines = vec![Line::from(Span::styled(entry.name.clone(), theme.accent()))];
    if !entry.summary.is_empty() {
        lines.push(Line::from(entry.summary.clone()));
    }
    let label_width = entry
        .details
        .iter()
        .map(|(label, _)| label.chars().count())
        .max()
        .unwrap_or(0);
    for (label, value) in &entry.details {
        lines.push(Line::from(vec![
            Span::styled(format!("{label:<label_width$} "), theme.muted()),
            Span::raw(value.clone()),
        ]));
    }
    if !entry.preview.is_empty() {
        lines.push(Line::from(""));
        lines.extend(entry.preview.lines().map(|l| Line::from(l.to_owned())));
    }
    let area = if side {
        Rect::new(
            area.x + 1,
            area.y,
            area.width.saturating_sub(1),
            area.height,
        )
    } else {
        area
    };
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(if side {
                Block::default()
            } else {
                Block::default()
                    .borders(Borders::TOP)
                    .border_style(theme.border(false))
            }),
        area,
    );
}

/// Cuts `text` to `width` columns, marking the cut with "…".
fn truncate(text: &str, width: usize) -> String {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    if text.width() <= width {
        return text.to_owned();
    }
    let mut used = 0;
    let mut out = String::new();
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}
