//! Every key the studio answers to, as data. Dispatch and the help overlay both read this table,
//! so the help can never disagree with what the keys do.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everywhere.
    Global,
    /// In the prompt and system-prompt editors.
    Editor,
    /// In the sampler controls.
    Controls,
    /// In the output pane.
    Output,
    /// In the history list.
    History,
}

impl Scope {
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Everywhere",
            Scope::Editor => "Prompt editors",
            Scope::Controls => "Sampler controls",
            Scope::Output => "Output",
            Scope::History => "History (F4)",
        }
    }
}

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Send,
    Regenerate,
    Cancel,
    Quit,
    QuitOrCancel,
    FocusNext,
    FocusPrevious,
    ToggleHelp,
    CopyOutput,
    ToggleMouse,
    CycleSentimentMethod,
    ToggleHistory,
    HistoryUp,
    HistoryDown,
    HistoryLoad,
    HistoryReplay,
    HistoryStar,
    HistoryDelete,
    ScrollPageUp,
    ScrollPageDown,
    ScrollUp,
    ScrollDown,
    ScrollTop,
    ScrollBottom,
    Undo,
    Redo,
    SelectPrevious,
    SelectNext,
    Decrease,
    Increase,
    DecreaseCoarse,
    IncreaseCoarse,
    ToggleRandomSeed,
    ResetField,
    ApplyTyped,
}

/// A key with its modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

impl Key {
    const fn plain(code: KeyCode) -> Self {
        Self {
            code,
            modifiers: KeyModifiers::NONE,
        }
    }

    const fn ctrl(c: char) -> Self {
        Self {
            code: KeyCode::Char(c),
            modifiers: KeyModifiers::CONTROL,
        }
    }

    const fn alt(code: KeyCode) -> Self {
        Self {
            code,
            modifiers: KeyModifiers::ALT,
        }
    }

    const fn shift(code: KeyCode) -> Self {
        Self {
            code,
            modifiers: KeyModifiers::SHIFT,
        }
    }

    fn matches(&self, event: &KeyEvent) -> bool {
        // Terminals report Shift on BackTab and on shifted characters inconsistently.
        let relevant = KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT;
        let event_modifiers = match event.code {
            KeyCode::BackTab | KeyCode::Char(_) => {
                event.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT)
            }
            _ => event.modifiers & relevant,
        };
        let own = match self.code {
            KeyCode::BackTab | KeyCode::Char(_) => {
                self.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT)
            }
            _ => self.modifiers,
        };
        let same_code = match (self.code, event.code) {
            (KeyCode::Char(a), KeyCode::Char(b)) => {
                a.eq_ignore_ascii_case(&b) && (own.contains(KeyModifiers::CONTROL) || a == b)
            }
            (a, b) => a == b,
        };
        same_code && own == event_modifiers
    }

    /// How the help overlay names the key.
    pub fn label(&self) -> String {
        let mut label = String::new();
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            label.push_str("Ctrl+");
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            label.push_str("Alt+");
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            label.push_str("Shift+");
        }
        let code = match self.code {
            KeyCode::Char(' ') => "Space".to_owned(),
            KeyCode::Char(c) if self.modifiers.contains(KeyModifiers::CONTROL) => {
                c.to_ascii_uppercase().to_string()
            }
            KeyCode::Char(c) => c.to_string(),
            KeyCode::F(n) => format!("F{n}"),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "Shift+Tab".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::Backspace => "Backspace".into(),
            KeyCode::Delete => "Delete".into(),
            other => format!("{other:?}"),
        };
        label.push_str(&code);
        label
    }
}

pub struct Binding {
    pub scope: Scope,
    pub keys: &'static [Key],
    pub action: Action,
    pub description: &'static str,
}

use KeyCode::{BackTab, Down, End, Enter, Esc, Home, Left, PageDown, PageUp, Right, Tab, Up, F};

/// The table, in the order the help shows it. Earlier entries win when scopes overlap.
pub const BINDINGS: &[Binding] = &[
    Binding {
        scope: Scope::Global,
        keys: &[Key::ctrl('s'), Key::alt(Enter), Key::plain(F(5))],
        action: Action::Send,
        description: "send the prompt",
    },
    Binding {
        scope: Scope::Global,
        keys: &[Key::ctrl('g'), Key::plain(F(6))],
        action: Action::Regenerate,
        description: "regenerate the last prompt (new seed unless fixed)",
    },
    Binding {
        scope: Scope::Global,
        keys: &[Key::plain(Esc)],
        action: Action::Cancel,
        description: "cancel the generation / close this help",
    },
    Binding {
        scope: Scope::Global,
        keys: &[Key::ctrl('q')],
        action: Action::Quit,
        description: "quit",
    },
    Binding {
        scope: Scope::Global,
        keys: &[Key::ctrl('c')],
        action: Action::QuitOrCancel,
        description: "cancel when generating, else quit",
    },
    Binding {
        scope: Scope::Global,
        keys: &[Key::plain(Tab)],
        action: Action::FocusNext,
        description: "next pane",
    },
    Binding {
        scope: Scope::Global,
        keys: &[Key::plain(BackTab)],
        action: Action::FocusPrevious,
        description: "previous pane",
    },
    Binding {
        scope: Scope::Global,
        keys: &[Key::plain(F(1))],
        action: Action::ToggleHelp,
        description: "this help",
    },
    Binding {
        scope: Scope::Global,
        keys: &[Key::ctrl('o')],
        action: Action::CopyOutput,
        description: "copy the output (OSC 52: works over SSH and in tmux)",
    },
    Binding {
        scope: Scope::Global,
        keys: &[Key::plain(F(2))],
        action: Action::ToggleMouse,
        description: "mouse wheel scrolling on/off",
    },
    Binding {
        scope: Scope::Global,
        keys: &[Key::plain(F(3))],
        action: Action::CycleSentimentMethod,
        description: "sentiment: lexicon + model → lexicon → model",
    },
    Binding {
        scope: Scope::Global,
        keys: &[Key::plain(F(3))],
        action: Action::CycleSentimentMethod,
        description: "sentiment: lexicon + model → lexicon → model",
    },
    Binding {
        scope: Scope::Global,
        keys: &[Key::plain(F(4))],
        action: Action::ToggleHistory,
        description: "history: every run, searchable",
    },
    Binding {
        scope: Scope::Global,
        keys: &[Key::plain(PageUp)],
        action: Action::ScrollPageUp,
        description: "scroll the output up a page",
    },
    Binding {
        scope: Scope::Global,
        keys: &[Key::plain(PageDown)],
        action: Action::ScrollPageDown,
        description: "scroll the output down a page",
    },
    Binding {
        scope: Scope::Editor,
        keys: &[Key::ctrl('z'), Key::ctrl('u')],
        action: Action::Undo,
        description: "undo",
    },
    Binding {
        scope: Scope::Editor,
        keys: &[Key::ctrl('r')],
        action: Action::Redo,
        description: "redo",
    },
    Binding {
        scope: Scope::Controls,
        keys: &[Key::plain(Up), Key::plain(KeyCode::Char('k'))],
        action: Action::SelectPrevious,
        description: "previous setting",
    },
    Binding {
        scope: Scope::Controls,
        keys: &[Key::plain(Down), Key::plain(KeyCode::Char('j'))],
        action: Action::SelectNext,
        description: "next setting",
    },
    Binding {
        scope: Scope::Controls,
        keys: &[Key::plain(Left)],
        action: Action::Decrease,
        description: "decrease (fine step)",
    },
    Binding {
        scope: Scope::Controls,
        keys: &[Key::plain(Right)],
        action: Action::Increase,
        description: "increase (fine step)",
    },
    Binding {
        scope: Scope::Controls,
        keys: &[Key::shift(Left), Key::plain(KeyCode::Char('['))],
        action: Action::DecreaseCoarse,
        description: "decrease (coarse step)",
    },
    Binding {
        scope: Scope::Controls,
        keys: &[Key::shift(Right), Key::plain(KeyCode::Char(']'))],
        action: Action::IncreaseCoarse,
        description: "increase (coarse step)",
    },
    Binding {
        scope: Scope::Controls,
        keys: &[Key::plain(KeyCode::Char('r'))],
        action: Action::ToggleRandomSeed,
        description: "seed: random ↔ fixed",
    },
    Binding {
        scope: Scope::Controls,
        keys: &[Key::plain(KeyCode::Char('d'))],
        action: Action::ResetField,
        description: "reset the setting to its default",
    },
    Binding {
        scope: Scope::Controls,
        keys: &[Key::plain(Enter)],
        action: Action::ApplyTyped,
        description: "apply a typed value (type digits first)",
    },
    Binding {
        scope: Scope::Controls,
        keys: &[Key::plain(KeyCode::Char('?'))],
        action: Action::ToggleHelp,
        description: "this help",
    },
    Binding {
        scope: Scope::Output,
        keys: &[Key::plain(Up), Key::plain(KeyCode::Char('k'))],
        action: Action::ScrollUp,
        description: "scroll up a line",
    },
    Binding {
        scope: Scope::Output,
        keys: &[Key::plain(Down), Key::plain(KeyCode::Char('j'))],
        action: Action::ScrollDown,
        description: "scroll down a line",
    },
    Binding {
        scope: Scope::Output,
        keys: &[Key::plain(Home), Key::plain(KeyCode::Char('g'))],
        action: Action::ScrollTop,
        description: "top",
    },
    Binding {
        scope: Scope::Output,
        keys: &[Key::plain(End), Key::plain(KeyCode::Char('G'))],
        action: Action::ScrollBottom,
        description: "bottom, and follow the stream",
    },
    Binding {
        scope: Scope::Output,
        keys: &[Key::plain(KeyCode::Char('?'))],
        action: Action::ToggleHelp,
        description: "this help",
    },
];

/// History-list keys; typing anything else searches.
pub const HISTORY_BINDINGS: &[Binding] = &[
    Binding {
        scope: Scope::History,
        keys: &[Key::plain(Up)],
        action: Action::HistoryUp,
        description: "newer run",
    },
    Binding {
        scope: Scope::History,
        keys: &[Key::plain(Down)],
        action: Action::HistoryDown,
        description: "older run",
    },
    Binding {
        scope: Scope::History,
        keys: &[Key::plain(Enter)],
        action: Action::HistoryLoad,
        description: "load its prompt, system prompt and settings",
    },
    Binding {
        scope: Scope::History,
        keys: &[Key::ctrl('p')],
        action: Action::HistoryReplay,
        description: "replay it exactly (same seed) and compare",
    },
    Binding {
        scope: Scope::History,
        keys: &[Key::ctrl('t')],
        action: Action::HistoryStar,
        description: "star / unstar",
    },
    Binding {
        scope: Scope::History,
        keys: &[Key::plain(KeyCode::Delete)],
        action: Action::HistoryDelete,
        description: "delete (asks to confirm)",
    },
];

/// The action bound to `event` in `scope` (global bindings apply in every scope).
pub fn lookup(scope: Scope, event: &KeyEvent) -> Option<Action> {
    BINDINGS
        .iter()
        .chain(HISTORY_BINDINGS)
        .filter(|b| b.scope == Scope::Global || b.scope == scope)
        .find(|b| b.keys.iter().any(|key| key.matches(event)))
        .map(|b| b.action)
}

/// The keys of the first binding for `action`, joined for display ("Ctrl+S / Alt+Enter / F5").
pub fn keys_for(action: Action) -> String {
    BINDINGS
        .iter()
        .chain(HISTORY_BINDINGS)
        .find(|b| b.action == action)
        .map(|b| {
            b.keys
                .iter()
                .map(Key::label)
                .collect::<Vec<_>>()
                .join(" / ")
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn send_has_terminal_safe_keys() {
        assert_eq!(
            lookup(
                Scope::Editor,
                &key(KeyCode::Char('s'), KeyModifiers::CONTROL)
            ),
            Some(Action::Send)
        );
        assert_eq!(
            lookup(Scope::Editor, &key(Enter, KeyModifiers::ALT)),
            Some(Action::Send)
        );
        assert_eq!(
            lookup(Scope::Editor, &key(Enter, KeyModifiers::NONE)),
            None,
            "Enter types a newline"
        );
        assert_eq!(keys_for(Action::Send), "Ctrl+S / Alt+Enter / F5");
    }

    #[test]
    fn scoped_keys_only_in_their_scope() {
        let r = key(KeyCode::Char('r'), KeyModifiers::NONE);
        assert_eq!(lookup(Scope::Controls, &r), Some(Action::ToggleRandomSeed));
        assert_eq!(
            lookup(Scope::Editor, &r),
            None,
            "typing r in the editor stays typing"
        );
        let question = key(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(lookup(Scope::Output, &question), Some(Action::ToggleHelp));
        assert_eq!(lookup(Scope::Editor, &question), None);
        let capital_g = key(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(
            lookup(Scope::Output, &capital_g),
            Some(Action::ScrollBottom)
        );
        assert_eq!(
            lookup(Scope::Output, &key(KeyCode::Char('g'), KeyModifiers::NONE)),
            Some(Action::ScrollTop)
        );
    }

    #[test]
    fn back_tab_matches_with_or_without_shift() {
        assert_eq!(
            lookup(Scope::Editor, &key(BackTab, KeyModifiers::SHIFT)),
            Some(Action::FocusPrevious)
        );
        assert_eq!(
            lookup(Scope::Editor, &key(BackTab, KeyModifiers::NONE)),
            Some(Action::FocusPrevious)
        );
        assert_eq!(
            lookup(Scope::Controls, &key(Left, KeyModifiers::SHIFT)),
            Some(Action::DecreaseCoarse)
        );
    }
}
