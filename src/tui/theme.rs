//! Styles. Only the 16 basic ANSI colours are used, so 16-colour terminals look right; with
//! `NO_COLOR` set every style is a modifier (bold, reverse, dim) instead.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set to anything non-empty (no-color.org).
    pub fn from_env() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self { color: !no_color }
    }

    fn pick(&self, colored: Style, plain: Style) -> Style {
        if self.color {
            colored
        } else {
            plain
        }
    }

    pub fn border(&self, focused: bool) -> Style {
        if focused {
            self.pick(
                Style::default()
                    .fg(Color::Cyan)
                    .add_modifier(Modifier::BOLD),
                Style::default().add_modifier(Modifier::BOLD),
            )
        } else {
            self.pick(
                Style::default().fg(Color::DarkGray),
                Style::default().add_modifier(Modifier::DIM),
            )
        }
    }

    pub fn selected(&self) -> Style {
        self.pick(
            Style::default().fg(Color::Black).bg(Color::Cyan),
            Style::default().add_modifier(Modifier::REVERSED),
        )
    }

    pub fn muted(&self) -> Style {
        self.pick(
            Style::default().fg(Color::DarkGray),
            Style::default().add_modifier(Modifier::DIM),
        )
    }

    pub fn error(&self) -> Style {
        self.pick(
            Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
            Style::default().add_modifier(Modifier::BOLD),
        )
    }

    pub fn warning(&self) -> Style {
        self.pick(
            Style::default().fg(Color::Yellow),
            Style::default().add_modifier(Modifier::UNDERLINED),
        )
    }

    pub fn accent(&self) -> Style {
        self.pick(
            Style::default()
                .fg(Color::Green)
                .add_modifier(Modifier::BOLD),
            Style::default().add_modifier(Modifier::BOLD),
        )
    }

    pub fn positive(&self) -> Style {
        self.pick(
            Style::default().fg(Color::Green),
            Style::default().add_modifier(Modifier::BOLD),
        )
    }

    pub fn negative(&self) -> Style {
        self.pick(
            Style::default().fg(Color::Red),
            Style::default().add_modifier(Modifier::UNDERLINED),
        )
    }

    pub fn status_bar(&self) -> Style {
        self.pick(
            Style::default().fg(Color::White).bg(Color::Blue),
            Style::default().add_modifier(Modifier::REVERSED),
        )
    }

    pub fn gauge(&self) -> Style {
        self.pick(
            Style::default().fg(Color::Green).bg(Color::Black),
            Style::default(),
        )
    }
}
