//! Every key the studio answers to, as data. Dispatch and the help overlay both read one
//! [`Keymap`] (the default table with the config file's overrides), so the help can never
//! disagree with what the keys do.

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
    /// In the preset and model pickers.
    Picker,
    /// In a sweep's columns (the output pane while a sweep shows).
    Sweep,
    /// In inspect mode (the output pane, a token under the cursor).
    Inspect,
}

impl Scope {
    pub fn title(self) -> &'static str {
        match self {
            Scope::Global => "Everywhere",
            Scope::Editor => "Prompt editors",
            Scope::Controls => "Sampler controls",
            Scope::Output => "Output",
            Scope::History => "History (F4)",
            Scope::Picker => "Preset (F7) and model (F8) pickers",
            Scope::Sweep => "Sweep columns (F9; Tab to the output pane)",
            Scope::Inspect => "Token inspector (i in the output pane)",
        }
    }
}

/// What a key asks for. The config file's `[keys]` table names these in snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
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
    OpenPresets,
    OpenModels,
    OpenSweep,
    SweepPrevious,
    SweepNext,
    SweepMaximise,
    SweepCancelOne,
    SweepKeep,
    ToggleHeat,
    Inspect,
    InspectPrevious,
    InspectNext,
    AlternativeUp,
    AlternativeDown,
    Fork,
    PickerUp,
    PickerDown,
    PickerChoose,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub scope: Scope,
    pub keys: Vec<Key>,
    pub action: Action,
    pub description: &'static str,
}

use KeyCode::{BackTab, Down, End, Enter, Esc, Home, Left, PageDown, PageUp, Right, Tab, Up, F};

/// The default table, in the order the help shows it. Earlier entries win when scopes overlap.
fn default_bindings() -> Vec<Binding> {
    vec![
        Binding {
            scope: Scope::Global,
            keys: vec![Key::ctrl('s'), Key::alt(Enter), Key::plain(F(5))],
            action: Action::Send,
            description: "send the prompt",
        },
        Binding {
            scope: Scope::Global,
            keys: vec![Key::ctrl('g'), Key::plain(F(6))],
            action: Action::Regenerate,
            description: "regenerate the last prompt (new seed unless fixed)",
        },
        Binding {
            scope: Scope::Global,
            keys: vec![Key::plain(Esc)],
            action: Action::Cancel,
            description: "cancel the generation / close this help",
        },
        Binding {
            scope: Scope::Global,
            keys: vec![Key::ctrl('q')],
            action: Action::Quit,
            description: "quit",
        },
        Binding {
            scope: Scope::Global,
            keys: vec![Key::ctrl('c')],
            action: Action::QuitOrCancel,
            description: "cancel when generating, else quit",
        },
        Binding {
            scope: Scope::Global,
            keys: vec![Key::plain(Tab)],
            action: Action::FocusNext,
            description: "next pane",
        },
        Binding {
            scope: Scope::Global,
            keys: vec![Key::plain(BackTab)],
            action: Action::FocusPrevious,
            description: "previous pane",
        },
        Binding {
            scope: Scope::Global,
            keys: vec![Key::plain(F(1))],
            action: Action::ToggleHelp,
            description: "this help",
        },
        Binding {
            scope: Scope::Global,
            keys: vec![Key::ctrl('o')],
            action: Action::CopyOutput,
            description: "copy the output (OSC 52: works over SSH and in tmux)",
        },
        Binding {
            scope: Scope::Global,
            keys: vec![Key::plain(F(2))],
            action: Action::ToggleMouse,
            description: "mouse wheel scrolling on/off",
        },
        Binding {
            scope: Scope::Global,
            keys: vec![Key::plain(F(3))],
            action: Action::CycleSentimentMethod,
            description: "sentiment: lexicon + model → lexicon → model",
        },
        Binding {
            scope: Scope::Global,
            keys: vec![Key::plain(F(3))],
            action: Action::CycleSentimentMethod,
            description: "sentiment: lexicon + model → lexicon → model",
        },
        Binding {
            scope: Scope::Global,
            keys: vec![Key::plain(F(4))],
            action: Action::ToggleHistory,
            description: "history: every run, searchable",
        },
        Binding {
            scope: Scope::Global,
            keys: vec![Key::plain(F(7)), Key::alt(KeyCode::Char('p'))],
            action: Action::OpenPresets,
            description: "presets: sampler settings and prompt forms",
        },
        Binding {
            scope: Scope::Global,
            keys: vec![Key::plain(F(8)), Key::alt(KeyCode::Char('m'))],
            action: Action::OpenModels,
            description: "models: every GGUF on this machine; Enter switches",
        },
        Binding {
            scope: Scope::Global,
            keys: vec![Key::plain(F(9)), Key::alt(KeyCode::Char('w'))],
            action: Action::OpenSweep,
            description: "sweep: the prompt at several temperatures / seeds / top-p… at once",
        },
        Binding {
            scope: Scope::Global,
            keys: vec![Key::plain(F(10)), Key::alt(KeyCode::Char('h'))],
            action: Action::ToggleHeat,
            description: "colour the output by token probability (the token heat)",
        },
        Binding {
            scope: Scope::Global,
            keys: vec![Key::plain(PageUp)],
            action: Action::ScrollPageUp,
            description: "scroll the output up a page",
        },
        Binding {
            scope: Scope::Global,
            keys: vec![Key::plain(PageDown)],
            action: Action::ScrollPageDown,
            description: "scroll the output down a page",
        },
        Binding {
            scope: Scope::Editor,
            keys: vec![Key::ctrl('z'), Key::ctrl('u')],
            action: Action::Undo,
            description: "undo",
        },
        Binding {
            scope: Scope::Editor,
            keys: vec![Key::ctrl('r')],
            action: Action::Redo,
            description: "redo",
        },
        Binding {
            scope: Scope::Controls,
            keys: vec![Key::plain(Up), Key::plain(KeyCode::Char('k'))],
            action: Action::SelectPrevious,
            description: "previous setting",
        },
        Binding {
            scope: Scope::Controls,
            keys: vec![Key::plain(Down), Key::plain(KeyCode::Char('j'))],
            action: Action::SelectNext,
            description: "next setting",
        },
        Binding {
            scope: Scope::Controls,
            keys: vec![Key::plain(Left)],
            action: Action::Decrease,
            description: "decrease (fine step)",
        },
        Binding {
            scope: Scope::Controls,
            keys: vec![Key::plain(Right)],
            action: Action::Increase,
            description: "increase (fine step)",
        },
        Binding {
            scope: Scope::Controls,
            keys: vec![Key::shift(Left), Key::plain(KeyCode::Char('['))],
            action: Action::DecreaseCoarse,
            description: "decrease (coarse step)",
        },
        Binding {
            scope: Scope::Controls,
            keys: vec![Key::shift(Right), Key::plain(KeyCode::Char(']'))],
            action: Action::IncreaseCoarse,
            description: "increase (coarse step)",
        },
        Binding {
            scope: Scope::Controls,
            keys: vec![Key::plain(KeyCode::Char('r'))],
            action: Action::ToggleRandomSeed,
            description: "seed: random ↔ fixed",
        },
        Binding {
            scope: Scope::Controls,
            keys: vec![Key::plain(KeyCode::Char('d'))],
            action: Action::ResetField,
            description: "reset the setting to its default",
        },
        Binding {
            scope: Scope::Controls,
            keys: vec![Key::plain(Enter)],
            action: Action::ApplyTyped,
            description: "apply a typed value (type digits first)",
        },
        Binding {
            scope: Scope::Controls,
            keys: vec![Key::plain(KeyCode::Char('?'))],
            action: Action::ToggleHelp,
            description: "this help",
        },
        Binding {
            scope: Scope::Output,
            keys: vec![Key::plain(Up), Key::plain(KeyCode::Char('k'))],
            action: Action::ScrollUp,
            description: "scroll up a line",
        },
        Binding {
            scope: Scope::Output,
            keys: vec![Key::plain(Down), Key::plain(KeyCode::Char('j'))],
            action: Action::ScrollDown,
            description: "scroll down a line",
        },
        Binding {
            scope: Scope::Output,
            keys: vec![Key::plain(Home), Key::plain(KeyCode::Char('g'))],
            action: Action::ScrollTop,
            description: "top",
        },
        Binding {
            scope: Scope::Output,
            keys: vec![Key::plain(End), Key::plain(KeyCode::Char('G'))],
            action: Action::ScrollBottom,
            description: "bottom, and follow the stream",
        },
        Binding {
            scope: Scope::Output,
            keys: vec![Key::plain(KeyCode::Char('?'))],
            action: Action::ToggleHelp,
            description: "this help",
        },
        // History-list keys; typing anything else searches.
        Binding {
            scope: Scope::History,
            keys: vec![Key::plain(Up)],
            action: Action::HistoryUp,
            description: "newer run",
        },
        Binding {
            scope: Scope::History,
            keys: vec![Key::plain(Down)],
            action: Action::HistoryDown,
            description: "older run",
        },
        Binding {
            scope: Scope::History,
            keys: vec![Key::plain(Enter)],
            action: Action::HistoryLoad,
            description: "load its prompt, system prompt and settings",
        },
        Binding {
            scope: Scope::History,
            keys: vec![Key::ctrl('p')],
            action: Action::HistoryReplay,
            description: "replay it exactly (same seed) and compare",
        },
        Binding {
            scope: Scope::History,
            keys: vec![Key::ctrl('t')],
            action: Action::HistoryStar,
            description: "star / unstar",
        },
        Binding {
            scope: Scope::History,
            keys: vec![Key::plain(KeyCode::Delete)],
            action: Action::HistoryDelete,
            description: "delete (asks to confirm)",
        },
        Binding {
            scope: Scope::Output,
            keys: vec![Key::plain(KeyCode::Char('i'))],
            action: Action::Inspect,
            description: "inspect tokens: probabilities, alternatives, fork",
        },
        Binding {
            scope: Scope::Inspect,
            keys: vec![Key::plain(Left), Key::plain(KeyCode::Char('h'))],
            action: Action::InspectPrevious,
            description: "previous token",
        },
        Binding {
            scope: Scope::Inspect,
            keys: vec![Key::plain(Right), Key::plain(KeyCode::Char('l'))],
            action: Action::InspectNext,
            description: "next token",
        },
        Binding {
            scope: Scope::Inspect,
            keys: vec![Key::plain(Up), Key::plain(KeyCode::Char('k'))],
            action: Action::AlternativeUp,
            description: "previous alternative",
        },
        Binding {
            scope: Scope::Inspect,
            keys: vec![Key::plain(Down), Key::plain(KeyCode::Char('j'))],
            action: Action::AlternativeDown,
            description: "next alternative",
        },
        Binding {
            scope: Scope::Inspect,
            keys: vec![Key::plain(Enter), Key::plain(KeyCode::Char('f'))],
            action: Action::Fork,
            description: "fork: continue from here with the chosen alternative",
        },
        Binding {
            scope: Scope::Inspect,
            keys: vec![Key::plain(KeyCode::Char('i'))],
            action: Action::Inspect,
            description: "leave inspect mode (Esc too)",
        },
        Binding {
            scope: Scope::Sweep,
            keys: vec![Key::plain(Left), Key::plain(KeyCode::Char('h'))],
            action: Action::SweepPrevious,
            description: "previous variant",
        },
        Binding {
            scope: Scope::Sweep,
            keys: vec![Key::plain(Right), Key::plain(KeyCode::Char('l'))],
            action: Action::SweepNext,
            description: "next variant",
        },
        Binding {
            scope: Scope::Sweep,
            keys: vec![
                Key::plain(KeyCode::Char('m')),
                Key::plain(KeyCode::Char('z')),
            ],
            action: Action::SweepMaximise,
            description: "maximise the variant / show all",
        },
        Binding {
            scope: Scope::Sweep,
            keys: vec![Key::plain(KeyCode::Char('x'))],
            action: Action::SweepCancelOne,
            description: "cancel this variant (Esc cancels all, then closes)",
        },
        Binding {
            scope: Scope::Sweep,
            keys: vec![Key::plain(Enter), Key::plain(KeyCode::Char('p'))],
            action: Action::SweepKeep,
            description: "keep: make this variant the run (its settings into the controls)",
        },
        Binding {
            scope: Scope::Sweep,
            keys: vec![Key::plain(Up), Key::plain(KeyCode::Char('k'))],
            action: Action::ScrollUp,
            description: "scroll the variant up",
        },
        Binding {
            scope: Scope::Sweep,
            keys: vec![Key::plain(Down), Key::plain(KeyCode::Char('j'))],
            action: Action::ScrollDown,
            description: "scroll the variant down",
        },
        Binding {
            scope: Scope::Picker,
            keys: vec![Key::plain(Up), Key::ctrl('p')],
            action: Action::PickerUp,
            description: "previous entry",
        },
        Binding {
            scope: Scope::Picker,
            keys: vec![Key::plain(Down), Key::ctrl('n')],
            action: Action::PickerDown,
            description: "next entry",
        },
        Binding {
            scope: Scope::Picker,
            keys: vec![Key::plain(Enter)],
            action: Action::PickerChoose,
            description: "use it (a preset fills the editors and controls; a model loads)",
        },
    ]
}

/// Why a set of key overrides cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeymapError {
    /// The overridden action at fault.
    pub action: Action,
    pub message: String,
}

impl std::fmt::Display for KeymapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The bindings in effect: the defaults, with the config file's overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

impl Default for Keymap {
    fn default() -> Self {
        Self {
            bindings: default_bindings(),
        }
    }
}

impl Keymap {
    /// The defaults, where each named action's keys are replaced (its main binding; the
    /// help's `?` in the controls and output panes stays). A key given to two actions that
    /// apply in the same place is an error naming both.
    pub fn with_overrides(
        overrides: &std::collections::BTreeMap<Action, Vec<Key>>,
    ) -> Result<Self, KeymapError> {
        let mut keymap = Self::default();
        for (action, keys) in overrides {
            match keymap.bindings.iter_mut().find(|b| b.action == *action) {
                Some(binding) => binding.keys = keys.clone(),
                None => {
                    return Err(KeymapError {
                        action: *action,
                        message: format!("`{}` cannot be rebound", action.name()),
                    })
                }
            }
        }
        for action in overrides.keys() {
            if let Some(mine) = keymap.bindings.iter().find(|b| b.action == *action) {
                for other in keymap.bindings.iter().filter(|b| b.action != *action) {
                    let overlapping = mine.scope == other.scope
                        || mine.scope == Scope::Global
                        || other.scope == Scope::Global;
                    if !overlapping {
                        continue;
                    }
                    if let Some(key) = mine.keys.iter().find(|k| other.keys.contains(k)) {
                        return Err(KeymapError {
                            action: *action,
                            message: format!(
                                "{} is bound to both `{}` and `{}`; give one of them other keys",
                                key.config_name(),
                                action.name(),
                                other.action.name()
                            ),
                        });
                    }
                }
            }
        }
        Ok(keymap)
    }

    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The action bound to `event` in `scope` (global bindings apply in every scope).
    pub fn lookup(&self, scope: Scope, event: &KeyEvent) -> Option<Action> {
        self.bindings
            .iter()
            .filter(|b| b.scope == Scope::Global || b.scope == scope)
            .find(|b| b.keys.iter().any(|key| key.matches(event)))
            .map(|b| b.action)
    }

    /// The keys of the first binding for `action`, joined for display ("Ctrl+S / Alt+Enter / F5").
    pub fn keys_for(&self, action: Action) -> String {
        self.bindings
            .iter()
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

    /// The first key of `action`, for short hints ("F7").
    pub fn first_key(&self, action: Action) -> String {
        self.bindings
            .iter()
            .find(|b| b.action == action)
            .and_then(|b| b.keys.first())
            .map(Key::label)
            .unwrap_or_default()
    }
}

impl Action {
    /// The config file's name for it (`send`, `toggle_history`, …).
    pub fn name(self) -> String {
        let debug = format!("{self:?}");
        let mut name = String::new();
        for (i, c) in debug.chars().enumerate() {
            if c.is_ascii_uppercase() {
                if i > 0 {
                    name.push('_');
                }
                name.push(c.to_ascii_lowercase());
            } else {
                name.push(c);
            }
        }
        name
    }
}

impl Key {
    /// The config file's spelling: `ctrl+s`, `alt+enter`, `f5`, `shift+left`, `k`.
    pub fn config_name(&self) -> String {
        let mut name = String::new();
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            name.push_str("ctrl+");
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            name.push_str("alt+");
        }
        if self.modifiers.contains(KeyModifiers::SHIFT) {
            name.push_str("shift+");
        }
        let code = match self.code {
            KeyCode::Char(' ') => "space".to_owned(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::F(n) => format!("f{n}"),
            KeyCode::BackTab => "backtab".into(),
            other => NAMED
                .iter()
                .find(|(_, code)| *code == other)
                .map(|(name, _)| (*name).to_owned())
                .unwrap_or_else(|| format!("{other:?}").to_lowercase()),
        };
        name.push_str(&code);
        name
    }
}

/// Key names the config file understands (the first of each code is its canonical spelling).
const NAMED: &[(&str, KeyCode)] = &[
    ("enter", Enter),
    ("return", Enter),
    ("esc", Esc),
    ("escape", Esc),
    ("tab", Tab),
    ("backtab", BackTab),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("del", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("home", Home),
    ("end", End),
    ("pgup", PageUp),
    ("pageup", PageUp),
    ("pgdn", PageDown),
    ("pagedown", PageDown),
    ("up", Up),
    ("down", Down),
    ("left", Left),
    ("right", Right),
    ("space", KeyCode::Char(' ')),
];

impl std::str::FromStr for Key {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "'{text}' is not a key; write e.g. \"ctrl+s\", \"alt+enter\", \"f5\", \"shift+left\", \"pgup\" or \"k\""
            )
        };
        // "ctrl++" is Ctrl and the plus key.
        let (mods, last) = match text.strip_suffix("++") {
            Some(rest) => (rest, "+"),
            None => text.rsplit_once('+').unwrap_or(("", text)),
        };
        let mut modifiers = KeyModifiers::NONE;
        for part in mods.split('+').filter(|p| !p.is_empty()) {
            modifiers |= match part.to_ascii_lowercase().as_str() {
                "ctrl" | "control" | "c" => KeyModifiers::CONTROL,
                "alt" | "meta" | "option" | "m" => KeyModifiers::ALT,
                "shift" | "s" => KeyModifiers::SHIFT,
                _ => return Err(bad()),
            };
        }
        let lower = last.to_ascii_lowercase();
        let mut chars = last.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(if modifiers.contains(KeyModifiers::CONTROL) {
                c.to_ascii_lowercase()
            } else {
                c
            }),
            _ => {
                if let Some(n) = lower
                    .strip_prefix('f')
                    .and_then(|n| n.parse::<u8>().ok())
                    .filter(|n| (1..=24).contains(n))
                {
                    KeyCode::F(n)
                } else if let Some((_, code)) = NAMED.iter().find(|(name, _)| *name == lower) {
                    *code
                } else {
                    return Err(bad());
                }
            }
        };
        Ok(Key { code, modifiers })
    }
}

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keymap() -> Keymap {
        Keymap::default()
    }

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn send_has_terminal_safe_keys() {
        assert_eq!(
            keymap().lookup(
                Scope::Editor,
                &key(KeyCode::Char('s'), KeyModifiers::CONTROL)
            ),
            Some(Action::Send)
        );
        assert_eq!(
            keymap().lookup(Scope::Editor, &key(Enter, KeyModifiers::ALT)),
            Some(Action::Send)
        );
        assert_eq!(
            keymap().lookup(Scope::Editor, &key(Enter, KeyModifiers::NONE)),
            None,
            "Enter types a newline"
        );
        assert_eq!(keymap().keys_for(Action::Send), "Ctrl+S / Alt+Enter / F5");
    }

    #[test]
    fn scoped_keys_only_in_their_scope() {
        let r = key(KeyCode::Char('r'), KeyModifiers::NONE);
        assert_eq!(
            keymap().lookup(Scope::Controls, &r),
            Some(Action::ToggleRandomSeed)
        );
        assert_eq!(
            keymap().lookup(Scope::Editor, &r),
            None,
            "typing r in the editor stays typing"
        );
        let question = key(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(
            keymap().lookup(Scope::Output, &question),
            Some(Action::ToggleHelp)
        );
        assert_eq!(keymap().lookup(Scope::Editor, &question), None);
        let capital_g = key(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(
            keymap().lookup(Scope::Output, &capital_g),
            Some(Action::ScrollBottom)
        );
        assert_eq!(
            keymap().lookup(Scope::Output, &key(KeyCode::Char('g'), KeyModifiers::NONE)),
            Some(Action::ScrollTop)
        );
    }

    #[test]
    fn back_tab_matches_with_or_without_shift() {
        assert_eq!(
            keymap().lookup(Scope::Editor, &key(BackTab, KeyModifiers::SHIFT)),
            Some(Action::FocusPrevious)
        );
        assert_eq!(
            keymap().lookup(Scope::Editor, &key(BackTab, KeyModifiers::NONE)),
            Some(Action::FocusPrevious)
        );
        assert_eq!(
            keymap().lookup(Scope::Controls, &key(Left, KeyModifiers::SHIFT)),
            Some(Action::DecreaseCoarse)
        );
    }

    #[test]
    fn config_names_round_trip() {
        for binding in Keymap::default().bindings() {
            for key in &binding.keys {
                let parsed: Key = key.config_name().parse().unwrap();
                assert_eq!(&parsed, key, "{}", key.config_name());
            }
        }
        assert_eq!(Action::QuitOrCancel.name(), "quit_or_cancel");
        assert!("hyper+x".parse::<Key>().is_err());
        assert!("f99".parse::<Key>().is_err());
    }

    #[test]
    fn overrides_replace_only_the_named_action() {
        let overrides = [(Action::Send, vec!["ctrl+enter".parse::<Key>().unwrap()])].into();
        let keymap = Keymap::with_overrides(&overrides).unwrap();
        assert_eq!(
            keymap.lookup(Scope::Editor, &key(Enter, KeyModifiers::CONTROL)),
            Some(Action::Send)
        );
        assert_eq!(
            keymap.lookup(
                Scope::Editor,
                &key(KeyCode::Char('s'), KeyModifiers::CONTROL)
            ),
            None,
            "the old keys are gone"
        );
        assert_eq!(keymap.keys_for(Action::Send), "Ctrl+Enter");
        assert_eq!(keymap.keys_for(Action::Quit), "Ctrl+Q", "others untouched");
    }

    #[test]
    fn a_key_on_two_actions_is_refused() {
        let overrides = [(Action::Send, vec!["ctrl+q".parse::<Key>().unwrap()])].into();
        let error = Keymap::with_overrides(&overrides).unwrap_err().message;
        assert!(
            error.contains("ctrl+q is bound to both `send` and `quit`"),
            "{error}"
        );
        // Scoped keys may repeat in scopes that never meet.
        let overrides = [(Action::ScrollTop, vec!["r".parse::<Key>().unwrap()])].into();
        assert!(Keymap::with_overrides(&overrides).is_ok());
    }
}
