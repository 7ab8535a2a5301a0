//! Where each pane goes. Pure, so `update` can size the output's wrap cache exactly as drawn.

use ratatui::layout::{Constraint, Direction, Layout, Margin, Rect};

pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 18;
/// The sentiment pane: five lines inside its border.
pub const SENTIMENT_HEIGHT: u16 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub system: Rect,
    pub prompt: Rect,
    pub controls: Rect,
    pub output: Rect,
    pub sentiment: Rect,
    pub status: Rect,
    pub hints: Rect,
}

/// `None` when the terminal is smaller than the layout needs.
pub fn areas(width: u16, height: u16) -> Option<Areas> {
    if width < MIN_WIDTH || height < MIN_HEIGHT {
        return None;
    }
    let full = Rect::new(0, 0, width, height);
    let [main, status, hints] = Layout::vertical([
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(full);
    let left_width = (width * 2 / 5).clamp(30, 60);
    let [left, right] = Layout::new(
        Direction::Horizontal,
        [Constraint::Length(left_width), Constraint::Min(0)],
    )
    .areas(main);
    let [output, sentiment] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(SENTIMENT_HEIGHT)]).areas(right);
    let system_height = if height >= 30 { 5 } else { 3 };
    let [system, prompt, controls] = Layout::vertical([
        Constraint::Length(system_height),
        Constraint::Min(3),
        Constraint::Length(super::controls::FIELDS.len() as u16 + 3),
    ])
    .areas(left);
    Some(Areas {
        system,
        prompt,
        controls,
        output,
        sentiment,
        status,
        hints,
    })
}

/// Inside a bordered block.
pub fn inner(area: Rect) -> Rect {
    area.inner(Margin::new(1, 1))
}
