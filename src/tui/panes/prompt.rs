//! The system-prompt and prompt editors.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use super::pane_block;
use crate::tui::keymap::Action;
use crate::tui::layout::inner;
use crate::tui::state::{Focus, State};

pub fn draw(frame: &mut Frame, state: &State, system_area: Rect, prompt_area: Rect) {
    let system_title = Line::from(" System ");
    frame.render_widget(
        pane_block(state, system_title, state.focus == Focus::System),
        system_area,
    );
    frame.render_widget(&state.system, inner(system_area));

    let lines = state.prompt.lines().len();
    let prompt_title = Line::from(vec![
        Span::raw(" Prompt "),
        Span::styled(
            format!(
                "{} to send ",
                state
                    .keymap
                    .keys_for(Action::Send)
                    .split(" / ")
                    .next()
                    .unwrap_or("")
            ),
            state.theme.muted(),
        ),
    ]);
    let block = pane_block(state, prompt_title, state.focus == Focus::Prompt).title_bottom(
        Line::from(Span::styled(
            format!(" {lines} lines "),
            state.theme.muted(),
        ))
        .right_aligned(),
    );
    frame.render_widget(block, prompt_area);
    frame.render_widget(&state.prompt, inner(prompt_area));
}
