//! One file per pane; each draws from `&State` and changes nothing.

mod controls;
mod help;
mod history;
mod inspector;
mod output;
mod picker;
mod prompt;
mod sentiment;
mod status;
mod sweep;

use ratatui::layout::{Alignment, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use super::layout;
use super::state::State;

/// Draws the whole studio.
pub fn draw(frame: &mut Frame, state: &State) {
    let area = frame.area();
    let Some(areas) = layout::areas(area.width, area.height) else {
        too_small(frame, area, state);
        return;
    };
    prompt::draw(frame, state, areas.system, areas.prompt);
    controls::draw(frame, state, areas.controls);
    output::draw(frame, state, areas.output);
    sentiment::draw(frame, state, areas.sentiment);
    status::draw(frame, state, areas.status, areas.hints);
    if let Some(sweep) = &state.sweep {
        sweep::draw(frame, state, sweep, areas.output.union(areas.sentiment));
    }
    if state.history.open {
        let right = areas.output.union(areas.sentiment);
        history::draw(frame, state, right);
    }
    if let Some(picker) = &state.picker {
        picker::draw(frame, state, picker, area);
    }
    if state.sweep_editor.is_some() {
        sweep::draw_editor(frame, state, area);
    }
    if state.help_open {
        help::draw(frame, state, area);
    }
}

fn too_small(frame: &mut Frame, area: Rect, state: &State) {
    let text = vec![
        Line::from("Terminal too small"),
        Line::from(format!("{}×{} here", area.width, area.height)),
        Line::from(format!(
            "enlarge to {}×{}",
            layout::MIN_WIDTH,
            layout::MIN_HEIGHT
        )),
        Line::from("Ctrl+Q quits"),
    ];
    let top = area.height.saturating_sub(text.len() as u16) / 2;
    let centered = Rect::new(area.x, area.y + top, area.width, area.height - top);
    frame.render_widget(
        Paragraph::new(text)
            .alignment(Alignment::Center)
            .style(state.theme.warning())
            .wrap(Wrap { trim: true }),
        centered,
    );
}

/// A bordered block whose border shows focus.
fn pane_block<'a>(state: &State, title: Line<'a>, focused: bool) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(state.theme.border(focused))
        .title(title)
}
