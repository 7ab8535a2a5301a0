//! How the response feels: the whole-response score as a gauge with its label, the shares of
//! positive / neutral / negative lines, the per-line arc (one mark per finished line, growing as
//! lines finish), the current line's live score, and the model's readout when it ran.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::pane_block;
use crate::analysis::lines::{Leaning, LineSentiment};
use crate::engine::ModelSentiment;
use crate::tui::keymap::Action;
use crate::tui::layout::inner;
use crate::tui::sentiment::ModelReadout;
use crate::tui::state::State;
use crate::tui::theme::Theme;

const GAUGE_WIDTH: usize = 16;
const LABEL_WIDTH: usize = 8;

pub fn draw(frame: &mut Frame, state: &State, area: Rect) {
    let view = &state.sentiment;
    let title = Line::from(vec![
        Span::raw(" Sentiment "),
        Span::styled(
            format!(
                "{} · {} ",
                view.method.label(),
                state.keymap.keys_for(Action::CycleSentimentMethod)
            ),
            state.theme.muted(),
        ),
    ]);
    frame.render_widget(pane_block(state, title, false), area);
    let width = inner(area).width as usize;
    let theme = &state.theme;
    let mut lines = Vec::new();
    if view.method.uses_lexicon() {
        let readout = view.lexicon.readout();
        let mut overall = vec![Span::styled(
            format!("{:<LABEL_WIDTH$}", "lexicon"),
            theme.accent(),
        )];
        match readout.mean {
            Some(mean) => {
                overall.extend(gauge(mean, theme));
                overall.push(Span::styled(
                    format!(" {mean:+.2} {}", Leaning::of(mean).label()),
                    leaning_style(mean, theme),
                ));
            }
            None if readout.not_applicable > 0 => {
                overall.push(Span::styled("n/a: no line in English", theme.muted()))
            }
            None => overall.push(Span::styled("no finished line yet", theme.muted())),
        }
        if let Some(current) = view.lexicon.current_line() {
            overall.push(Span::styled(
                match current {
                    LineSentiment::Scored(c) => format!(" · now {c:+.2}"),
                    LineSentiment::NotApplicable => " · now n/a".to_owned(),
                },
                theme.muted(),
            ));
        }
        lines.push(Line::from(overall));
        let marks: Vec<Option<f64>> = view
            .lexicon
            .lines()
            .iter()
            .map(|l| l.sentiment.compound())
            .collect();
        let mut arc = vec![Span::styled(
            format!("{:<LABEL_WIDTH$}", "  lines"),
            theme.muted(),
        )];
        arc.extend(sparkline(&marks, width.saturating_sub(LABEL_WIDTH), theme));
        lines.push(Line::from(arc));
        let mut shares = format!(
            "{:<LABEL_WIDTH$}+{:.0}%  ={:.0}%  −{:.0}%",
            "",
            readout.share(Leaning::Positive) * 100.0,
            readout.share(Leaning::Neutral) * 100.0,
            readout.share(Leaning::Negative) * 100.0,
        );
        if readout.not_applicable > 0 {
            shares.push_str(&format!("  · {} n/a", readout.not_applicable));
        }
        lines.push(Line::from(Span::styled(shares, theme.muted())));
    }
    if view.method.uses_model() {
        let mut overall = vec![Span::styled(
            format!("{:<LABEL_WIDTH$}", "model"),
            theme.accent(),
        )];
        let mut detail = None;
        match &view.model {
            ModelReadout::None | ModelReadout::AfterResponse => overall.push(Span::styled(
                "scores the lines when the response ends",
                theme.muted(),
            )),
            ModelReadout::Requested | ModelReadout::Running(_) => {
                overall.push(Span::styled("classifying…", theme.muted()))
            }
            ModelReadout::Failed(why) => overall.push(Span::styled(why.clone(), theme.error())),
            ModelReadout::Done {
                lines: per_line,
                whole,
            } => {
                overall.extend(gauge(whole.score(), theme));
                overall.push(Span::styled(
                    format!(" {:+.2} {}", whole.score(), whole.label()),
                    leaning_style(whole.score(), theme),
                ));
                let probabilities = format!(
                    "  P+ {:.2} P= {:.2} P− {:.2}  ",
                    whole.positive, whole.neutral, whole.negative
                );
                let marks: Vec<Option<f64>> = per_line
                    .iter()
                    .map(|m: &ModelSentiment| Some(m.score()))
                    .collect();
                let mut row = vec![Span::styled(probabilities.clone(), theme.muted())];
                row.extend(sparkline(
                    &marks,
                    width.saturating_sub(probabilities.chars().count()),
                    theme,
                ));
                detail = Some(Line::from(row));
            }
        }
        lines.push(Line::from(overall));
        lines.extend(detail);
    }
    frame.render_widget(Paragraph::new(lines), inner(area));
}

pub(super) fn leaning_style(value: f64, theme: &Theme) -> Style {
    match Leaning::of(value) {
        Leaning::Positive => theme.positive(),
        Leaning::Negative => theme.negative(),
        Leaning::Neutral => theme.muted(),
    }
}

/// A bar centred on 0: negative fills left of the middle, positive fills right.
fn gauge(value: f64, theme: &Theme) -> Vec<Span<'static>> {
    let half = GAUGE_WIDTH / 2;
    let filled = ((value.abs().min(1.0) * half as f64).round() as usize).min(half);
    let (left, right) = if value < 0.0 {
        (
            format!("{}{}", "·".repeat(half - filled), "█".repeat(filled)),
            "·".repeat(half),
        )
    } else {
        (
            "·".repeat(half),
            format!("{}{}", "█".repeat(filled), "·".repeat(half - filled)),
        )
    };
    let style = leaning_style(value, theme);
    vec![
        Span::styled(left, if value < 0.0 { style } else { theme.muted() }),
        Span::raw("│"),
        Span::styled(right, if value >= 0.0 { style } else { theme.muted() }),
    ]
}

/// One mark per line, height by score (−1 lowest, +1 highest), coloured by sign; "·" for n/a.
/// When there are more lines than room, the newest are shown.
pub(super) fn sparkline(values: &[Option<f64>], room: usize, theme: &Theme) -> Vec<Span<'static>> {
    const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let start = values.len().saturating_sub(room.max(1));
    values[start..]
        .iter()
        .map(|value| match value {
            Some(v) => {
                let level = (((v.clamp(-1.0, 1.0) + 1.0) / 2.0) * 7.0).round() as usize;
                Span::styled(LEVELS[level.min(7)].to_string(), leaning_style(*v, theme))
            }
            None => Span::styled("·", theme.muted()),
        })
        .collect()
}
