//! The inspect popup over the lower part of the output: the token under the cursor, its
//! probability, the distribution's entropy, what each sampler stage kept, the alternatives
//! (pick one to fork), and the entropy of every step with the cursor marked.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use crate::tui::inspector::Heat;
use crate::tui::keymap::Action;
use crate::tui::state::State;

/// Bars for the entropy sparkline, low to high.
const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// One mark per step's entropy, scaled to the highest shown; `cursor` reversed. The window
/// keeps the cursor (else the end) in view. Reads the details in place: it runs every frame.
pub fn entropy_sparkline(
    details: &[crate::engine::inspect::TokenDetail],
    room: usize,
    cursor: Option<usize>,
    state: &State,
) -> Vec<Span<'static>> {
    if details.is_empty() || room == 0 {
        return Vec::new();
    }
    let focus = cursor.unwrap_or(details.len() - 1);
    let start = (focus + 1)
        .saturating_sub(room)
        .min(details.len().saturating_sub(room));
    let window = &details[start..(start + room).min(details.len())];
    let top = window
        .iter()
        .map(|d| d.entropy)
        .fold(0.0f64, f64::max)
        .max(1e-9);
    window
        .iter()
        .map(|d| d.entropy)
        .enumerate()
        .map(|(i, h)| {
            let level = ((h / top) * 7.0).round().clamp(0.0, 7.0) as usize;
            let style = if Some(start + i) == cursor {
                state.theme.selected()
            } else {
                state.theme.muted()
            };
            Span::styled(LEVELS[level].to_string(), style)
        })
        .collect()
}

pub fn draw(frame: &mut Frame, state: &State, output: Rect) {
    let inspector = &state.inspector;
    let Some(detail) = inspector.cursor.and_then(|c| inspector.details.get(c)) else {
        return;
    };
    let theme = &state.theme;
    let height = (detail.top.len() as u16 + 5).min(output.height);
    if height < 4 {
        return;
    }
    let area = Rect::new(
        output.x,
        output.y + output.height - height,
        output.width,
        height,
    );
    let inner_width = area.width.saturating_sub(2) as usize;
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("token {} ", detail.index), theme.muted()),
        Span::styled(format!("{:?}", detail.text), theme.accent()),
        Span::raw(format!(
            "  p {:.3} · logprob {:.2} · entropy {:.2} nats",
            detail.probability, detail.logprob, detail.entropy
        )),
    ])];
    let stages: Vec<String> = detail
        .stages
        .iter()
        .map(|s| {
            if s.stage == "vocabulary" {
                format!("vocab {}", s.candidates)
            } else {
                format!("{} {}", s.stage, s.candidates)
            }
        })
        .collect();
    lines.push(Line::from(Span::styled(
        format!(
            "drawn with p {:.3} from {}",
            detail.sampler_probability,
            stages.join(" → ")
        ),
        theme.muted(),
    )));
    let bar_width = 20usize;
    for (i, alternative) in detail.top.iter().enumerate() {
        let filled = (alternative.probability * bar_width as f64).round() as usize;
        let bar = format!(
            "{}{}",
            "█".repeat(filled.min(bar_width)),
            "░".repeat(bar_width - filled.min(bar_width))
        );
        let chosen = alternative.token == detail.token;
        let marker = match (i == inspector.alternative, chosen) {
            (true, _) => "› ",
            (false, true) => "• ",
            _ => "  ",
        };
        let style = if i == inspector.alternative {
            theme.selected()
        } else {
            Style::default()
        };
        lines.push(Line::from(vec![
            Span::styled(
                format!("{marker}{:<18}", format!("{:?}", alternative.text)),
                style,
            ),
            Span::styled(bar, theme.heat(Heat::of(alternative.probability))),
            Span::raw(format!(
                " {:>6.3}{}",
                alternative.probability,
                if chosen { "  (written)" } else { "" }
            )),
        ]));
    }
    let mut sparkline = vec![Span::styled("entropy ", theme.muted())];
    sparkline.extend(entropy_sparkline(
        &inspector.details,
        inner_width.saturating_sub(8),
        inspector.cursor,
        state,
    ));
    lines.push(Line::from(sparkline));
    let footer = format!(
        " {}/{} token · {}/{} alternative · {} fork with it · Esc leave ",
        state.keymap.first_key(Action::InspectPrevious),
        state.keymap.first_key(Action::InspectNext),
        state.keymap.first_key(Action::AlternativeUp),
        state.keymap.first_key(Action::AlternativeDown),
        state.keymap.first_key(Action::Fork),
    );
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.border(true))
                .title(" Token ")
                .title_bottom(Line::from(Span::styled(footer, theme.muted()))),
        ),
        area,
    );
}
