//! Styles. Only the 16 basic ANSI colours are used, so 16-colour terminals look right; with
//! `NO_COLOR` set every style is a modifier (bold, reverse, dim) instead.

use ratatui::style::{Color, Modifier, Style};

/// The theme a user asks for (config `studio.theme`, `--theme`, `REFRAIN_THEME`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ThemeName {
    /// Colour for a dark background, unless `NO_COLOR` is set.
    #[default]
    Auto,
    /// Colour for a dark background, even with `NO_COLOR` (an explicit choice wins).
    Dark,
    /// Colour for a light background.
    Light,
    /// No colour: bold, reverse, dim and underline only.
    Mono,
}

impl std::str::FromStr for ThemeName {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "auto" => Ok(ThemeName::Auto),
            "dark" => Ok(ThemeName::Dark),
            "light" => Ok(ThemeName::Light),
            "mono" => Ok(ThemeName::Mono),
            _ => Err(format!("expected auto, dark, light or mono, got '{text}'")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
    /// Colours chosen to read on a light background.
    pub light: bool,
}

impl Theme {
    /// Colour unless `NO_COLOR` is set to anything non-empty (no-color.org).
    pub fn from_env() -> Self {
        Self::named(ThemeName::Auto)
    }

    pub fn named(name: ThemeName) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        match name {
            ThemeName::Auto => Self {
                color: !no_color,
                light: false,
            },
            ThemeName::Dark => Self {
                color: true,
                light: false,
            },
            ThemeName::Light => Self {
                color: true,
                light: true,
            },
            ThemeName::Mono => Self {
                color: false,
                light: false,
            },
        }
    }

    /// Cyan and yellow wash out on white; blue and magenta do not.
    fn bright(&self, dark: Color, light: Color) -> Color {
        if self.light {
            light
        } else {
            dark
        }
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
                    .fg(self.bright(Color::Cyan, Color::Blue))
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
            Style::default()
                .fg(self.bright(Color::Black, Color::White))
                .bg(self.bright(Color::Cyan, Color::Blue)),
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
            Style::default().fg(self.bright(Color::Yellow, Color::Magenta)),
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

    /// The token heat colouring: plain for likely tokens, warmer (or underlined without
    /// colour) the less likely the model thought them.
    pub fn heat(&self, heat: super::inspector::Heat) -> Style {
        use super::inspector::Heat;
        match heat {
            Heat::Sure => Style::default(),
            Heat::Likely => self.pick(
                Style::default().fg(self.bright(Color::Green, Color::Blue)),
                Style::default(),
            ),
            Heat::Unsure => self.pick(
                Style::default().fg(self.bright(Color::Yellow, Color::Magenta)),
                Style::default().add_modifier(Modifier::UNDERLINED),
            ),
            Heat::Surprising => self.pick(
                Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
                Style::default().add_modifier(Modifier::UNDERLINED | Modifier::BOLD),
            ),
        }
    }

    pub fn gauge(&self) -> Style {
        self.pick(
            Style::default()
                .fg(Color::Green)
                .bg(self.bright(Color::Black, Color::White)),
            Style::default(),
        )
    }
}
