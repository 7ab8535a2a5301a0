//! The status bar (model, state, context, speed, last stop reason) and the key-hint line,
//! which shows notices (errors, "copied") when there is one.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::tui::keymap::{keys_for, Action};
use crate::tui::state::{ModelState, NoticeKind, RunState, State};

const SEPARATOR: &str = " │ ";

pub fn draw(frame: &mut Frame, state: &State, status_area: Rect, hints_area: Rect) {
    let mut parts: Vec<String> = Vec::new();
    match &state.model {
        ModelState::Ready(info) => {
            let offload = if info.gpu_layers_offloaded > 0 {
                format!(
                    "GPU {}/{} layers",
                    info.gpu_layers_offloaded,
                    info.layers + 1
                )
            } else {
                "CPU".to_owned()
            };
            parts.push(format!("{} · {} · {offload}", info.name, info.quantization));
        }
        ModelState::Loading { name, fraction, .. } => {
            parts.push(format!(
                "loading {name} {} {:>3.0}%",
                bar(*fraction, 10),
                fraction * 100.0
            ));
        }
        ModelState::Failed(_) => parts.push("model failed to load".into()),
        ModelState::Missing(_) => parts.push("no model".into()),
    }
    let run_state = match &state.run {
        RunState::Idle if matches!(state.model, ModelState::Ready(_)) => "ready".to_owned(),
        RunState::Idle => "idle".to_owned(),
        RunState::Requested => "starting…".to_owned(),
        RunState::Generating {
            cancelling: true, ..
        } => "cancelling…".to_owned(),
        RunState::Generating { .. } => "generating".to_owned(),
    };
    parts.push(run_state);
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
        parts.push(format!("ctx {used}/{size}"));
    }
    match (&state.run, &state.last_run) {
        (RunState::Generating { .. }, _) => {
            if let Some(speed) = state.live_tokens_per_second() {
                parts.push(format!("{speed:.1} tok/s"));
            }
        }
        (_, Some(last)) => {
            parts.push(format!(
                "TTFT {:.0} ms",
                last.time_to_first_token.as_secs_f64() * 1000.0
            ));
            parts.push(format!("{:.1} tok/s", last.tokens_per_second));
            parts.push(format!(
                "{} tok · seed {} · {}",
                last.generated, last.seed, last.stop_reason
            ));
        }
        _ => {}
    }
    let status = Paragraph::new(Line::from(format!(" {}", parts.join(SEPARATOR))))
        .style(state.theme.status_bar());
    frame.render_widget(status, status_area);

    let hints = match &state.notice {
        Some(notice) => {
            let style = match notice.kind {
                NoticeKind::Error => state.theme.error(),
                NoticeKind::Info => state.theme.accent(),
            };
            Line::from(Span::styled(format!(" {}", notice.text), style))
        }
        None => Line::from(Span::styled(
            format!(
                " {} send · Esc cancel · {} regenerate · Tab pane · F1 help · Ctrl+Q quit",
                keys_for(Action::Send)
                    .split(" / ")
                    .take(2)
                    .collect::<Vec<_>>()
                    .join("/"),
                keys_for(Action::Regenerate)
                    .split(" / ")
                    .next()
                    .unwrap_or(""),
            ),
            state.theme.muted(),
        )),
    };
    frame.render_widget(Paragraph::new(hints), hints_area);
}

/// A text progress bar that needs no colour.
fn bar(fraction: f32, width: usize) -> String {
    let filled = ((fraction.clamp(0.0, 1.0) * width as f32).round() as usize).min(width);
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}
