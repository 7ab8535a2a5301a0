//! Taking the terminal and giving it back, on every exit path.

use std::io::{self, Stdout, Write};

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::Terminal;

pub type StudioTerminal = Terminal<CrosstermBackend<Stdout>>;

/// Raw mode, the alternate screen and bracketed paste; registers [`restore`] with
/// [`crate::fatal`] so panics, signals and llama.cpp aborts give the terminal back too.
pub fn enter() -> io::Result<StudioTerminal> {
    enable_raw_mode()?;
    crate::fatal::set_terminal_restore(Some(restore));
    execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste)?;
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    terminal.clear()?;
    Ok(terminal)
}

/// Undoes everything [`enter`] and the studio did. Every step is tried even if one fails.
pub fn restore() {
    let mut out = io::stdout();
    let _ = execute!(
        out,
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        ratatui::crossterm::cursor::Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

/// Normal exit: restore once and stop the fatal paths from doing it again.
pub fn leave() {
    crate::fatal::restore_terminal();
    crate::fatal::set_terminal_restore(None);
}

pub fn set_mouse_capture(enabled: bool) -> io::Result<()> {
    if enabled {
        execute!(io::stdout(), EnableMouseCapture)
    } else {
        execute!(io::stdout(), DisableMouseCapture)
    }
}

/// Puts `text` on the system clipboard with OSC 52, which terminals honour over SSH. Inside
/// tmux the sequence is sent both plain (for `set-clipboard on`) and wrapped for passthrough.
pub fn copy_to_clipboard(text: &str) -> io::Result<()> {
    let mut out = io::stdout();
    out.write_all(osc52(text, std::env::var_os("TMUX").is_some()).as_bytes())?;
    out.flush()
}

pub fn osc52(text: &str, in_tmux: bool) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(text);
    let plain = format!("\x1b]52;c;{encoded}\x07");
    if in_tmux {
        format!("{plain}\x1bPtmux;\x1b\x1b]52;c;{encoded}\x07\x1b\\")
    } else {
        plain
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn osc52_encodes_base64() {
        assert_eq!(super::osc52("hi", false), "\x1b]52;c;aGk=\x07");
        assert!(super::osc52("hi", true).contains("\x1bPtmux;"));
    }
}
