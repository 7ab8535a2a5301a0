//! The status bar (model, state, context, speed, last stop reason) and the key-hint line,
//! which shows notices (errors, "copied") when there is one. Both drop their least important
//! parts rather than cut words when the terminal is narrow.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

use crate::tui::keymap::Action;
use crate::tui::state::{ModelState, NoticeKind, RunState, State};

const SEPARATOR: &str = " │ ";

/// A piece of the status bar; lower `rank` is more important.
struct Part {
    text: String,
    rank: u8,
}

fn part(rank: u8, text: impl Into<String>) -> Part {
    Part {
        text: text.into(),
        rank,
    }
}

pub fn draw(frame: &mut Frame, state: &State, status_area: Rect, hints_area: Rect) {
    let status = fit(status_parts(state), SEPARATOR, status_area.width as usize);
    frame.render_widget(
        Paragraph::new(Line::from(status)).style(state.theme.status_bar()),
        status_area,
    );

    let hints = match &state.notice {
        Some(notice) => {
            let style = match notice.kind {
                NoticeKind::Error => state.theme.error(),
                NoticeKind::Info => state.theme.accent(),
            };
            Line::from(Span::styled(format!(" {}", notice.text), style))
        }
        None => {
            let first = |action| {
                state
                    .keymap
                    .keys_for(action)
                    .split(" / ")
                    .next()
                    .unwrap_or("")
                    .to_owned()
            };
            let parts = vec![
                part(0, format!("{} send", first(Action::Send))),
                part(1, "Esc cancel"),
                part(3, format!("{} regenerate", first(Action::Regenerate))),
                part(2, "Tab pane"),
                part(0, format!("{} help", first(Action::ToggleHelp))),
                part(1, format!("{} quit", first(Action::Quit))),
            ];
            Line::from(Span::styled(
                fit(parts, " · ", hints_area.width as usize),
                state.theme.muted(),
            ))
        }
    };
    frame.render_widget(Paragraph::new(hints), hints_area);
}

fn status_parts(state: &State) -> Vec<Part> {
    let mut parts = Vec::new();
    match &state.model {
        ModelState::Ready(info) if info.architecture == "remote" => {
            parts.push(part(4, format!("{} · {}", info.name, info.path.display())));
        }
        ModelState::Ready(info) => {
            let offload = if info.gpu_layers_offloaded > 0 {
                let per_device: Vec<String> = info
                    .offload
                    .iter()
                    .map(|d| format!("{} {}", d.device, d.layers))
                    .collect();
                let mut text = format!("GPU {}/{}", info.gpu_layers_offloaded, info.layers + 1);
                if !per_device.is_empty() {
                    text.push_str(&format!(" ({})", per_device.join(", ")));
                }
                text
            } else {
                "CPU".to_owned()
            };
            parts.push(part(
                4,
                format!("{} · {} · {offload}", info.name, info.quantization),
            ));
        }
        ModelState::Loading { name, fraction, .. } => {
            parts.push(part(
                0,
                format!(
                    "loading {name} {} {:>3.0}%",
                    bar(*fraction, 10),
                    fraction * 100.0
                ),
            ));
        }
        ModelState::Failed(_) => parts.push(part(0, "model failed to load")),
        ModelState::Missing(_) => parts.push(part(0, "no model")),
    }
    let sweeping = state
        .sweep
        .as_ref()
        .filter(|s| s.running)
        .map(|s| format!("sweeping {}/{}", s.finished_count(), s.columns.len()));
    let run_state = match (&state.run, &state.model) {
        _ if sweeping.is_some() => None,
        (RunState::Idle, ModelState::Ready(_)) => Some("ready"),
        (RunState::Idle, _) => None,
        (RunState::Requested, _) => Some("starting…"),
        (
            RunState::Generating {
                cancelling: true, ..
            },
            _,
        ) => Some("cancelling…"),
        (RunState::Generating { .. }, _) => Some("generating"),
    };
    if let Some(run_state) = run_state {
        parts.push(part(0, run_state));
    }
    if let Some(sweeping) = sweeping {
        parts.push(part(0, sweeping));
    }
    let context = match (&state.run, &state.last_run, &state.model) {
        (
            RunState::Generating {
                prompt_tokens,
                context_size,
                generated,
                ..
            },
            _,
            _,
        ) if *context_size > 0 => Some((prompt_tokens + generated, *context_size)),
        (_, Some(last), _) => Some((last.context_used, last.context_size)),
        (_, None, ModelState::Ready(info)) => Some((0, info.context_size)),
        _ => None,
    };
    if let Some((used, size)) = context {
        parts.push(part(3, format!("ctx {used}/{size}")));
    }
    match (&state.run, &state.last_run) {
        (
            RunState::Generating {
                time_to_first_token,
                ..
            },
            _,
        ) => {
            if let Some(ttft) = time_to_first_token {
                parts.push(part(
                    5,
                    format!("TTFT {:.0} ms", ttft.as_secs_f64() * 1000.0),
                ));
            }
            if let Some(speed) = state.live_tokens_per_second() {
                parts.push(part(1, format!("{speed:.1} tok/s")));
            }
        }
        (_, Some(last)) => {
            parts.push(part(
                5,
                format!(
                    "TTFT {:.0} ms",
                    last.time_to_first_token.as_secs_f64() * 1000.0
                ),
            ));
            parts.push(part(1, format!("{:.1} tok/s", last.tokens_per_second)));
            parts.push(part(2, last.stop_reason.label()));
            parts.push(part(
                6,
                format!("{} tok · seed {}", last.generated, last.seed),
            ));
        }
        _ => {}
    }
    parts
}

/// Joins the parts in order, leaving out the least important ones until the line fits.
fn fit(mut parts: Vec<Part>, separator: &str, width: usize) -> String {
    loop {
        let line = format!(
            " {}",
            parts
                .iter()
                .map(|p| p.text.as_str())
                .collect::<Vec<_>>()
                .join(separator)
        );
        if line.width() <= width || parts.len() <= 1 {
            return line;
        }
        let least = parts
            .iter()
            .enumerate()
            .max_by_key(|(index, p)| (p.rank, *index))
            .map(|(index, _)| index)
            .unwrap_or(0);
        parts.remove(least);
    }
}

/// A text progress bar that needs no colour.
fn bar(fraction: f32, width: usize) -> String {
    let filled = ((fraction.clamp(0.0, 1.0) * width as f32).round() as usize).min(width);
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}
