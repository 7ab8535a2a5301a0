//! A sweep's variants side by side over the output and sentiment panes (stacked, or as tabs
//! when the terminal is small), each with its stats and sentiment; the diversity across them
//! on the last row; and the sweep editor popup.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use super::sentiment::sparkline;
use crate::engine::sweep_plan::{plan, SweepParam};
use crate::engine::StopReason;
use crate::tui::keymap::Action;
use crate::tui::state::{Focus, State};
use crate::tui::sweep::{cells, columns_area, EditorField, SweepColumn, SweepView};

pub fn draw(frame: &mut Frame, state: &State, sweep: &SweepView, right: Rect) {
    frame.render_widget(Clear, right);
    let area = columns_area(right);
    let (rects, strip) = cells(area, sweep.columns.len(), sweep.maximised, sweep.focused);
    if let Some(strip) = strip {
        draw_strip(frame, state, sweep, strip);
    }
    for (index, (column, rect)) in sweep.columns.iter().zip(rects).enumerate() {
        if let Some(rect) = rect {
            draw_column(frame, state, sweep, index, column, rect);
        }
    }
    let footer = Rect::new(
        right.x,
        right.y + right.height.saturating_sub(1),
        right.width,
        1,
    );
    frame.render_widget(Paragraph::new(diversity_line(state, sweep)), footer);
}

fn marker(column: &SweepColumn) -> &'static str {
    match &column.finished {
        None if column.cancelling => "…",
        None => "●",
        Some(f) if f.stop_reason == StopReason::Cancelled => "✗",
        Some(_) => "✓",
    }
}

fn draw_strip(frame: &mut Frame, state: &State, sweep: &SweepView, area: Rect) {
    let mut spans = Vec::new();
    for (index, column) in sweep.columns.iter().enumerate() {
        let text = format!(" {}{} ", index + 1, marker(column));
        let style = if index == sweep.focused {
            state.theme.selected()
        } else {
            state.theme.muted()
        };
        spans.push(Span::styled(text, style));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_column(
    frame: &mut Frame,
    state: &State,
    sweep: &SweepView,
    index: usize,
    column: &SweepColumn,
    cell: Rect,
) {
    let theme = &state.theme;
    let focused = index == sweep.focused && state.focus == Focus::Output;
    let title = format!(" [{}] {} {} ", index + 1, column.label, marker(column));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(Line::from(Span::styled(
            title,
            if index == sweep.focused {
                theme.accent()
            } else {
                ratatui::style::Style::default()
            },
        )));
    let inner = block.inner(cell);
    frame.render_widget(block, cell);
    if inner.height == 0 || inner.width == 0 {
        return;
    }
    let footer_rows = crate::tui::sweep::COLUMN_FOOTER.min(inner.height);
    let text_height = inner.height - footer_rows;
    let mut lines: Vec<Line> = column
        .output
        .visible_rows()
        .take(text_height as usize)
        .map(|row| Line::from(row.to_owned()))
        .collect();
    if column.output.text().is_empty() && column.finished.is_none() {
        lines.push(Line::from(Span::styled("waiting…", theme.muted())));
    }
    frame.render_widget(
        Paragraph::new(lines),
        Rect::new(inner.x, inner.y, inner.width, text_height),
    );
    let stats = match &column.finished {
        Some(finished) => format!(
            "{} tok · {:.1}/s · {}",
            finished.stats.generated_tokens,
            finished.stats.tokens_per_second,
            match finished.stop_reason {
                StopReason::EndOfGeneration => "end",
                StopReason::MaxTokens => "max",
                StopReason::StopString => "stop",
                StopReason::ContextFull => "ctx full",
                StopReason::Cancelled => "cancelled",
            }
        ),
        None => {
            let rate = if column.generated > 1 && !column.elapsed.is_zero() {
                f64::from(column.generated - 1) / column.elapsed.as_secs_f64()
            } else {
                0.0
            };
            format!("{} tok · {rate:.1}/s", column.generated)
        }
    };
    // The seed only where it fits: it is usually the same for every variant.
    let seed = column
        .finished
        .as_ref()
        .map(|f| f.seed)
        .or(column.seed)
        .map(|s| format!(" · seed {s}"))
        .filter(|seed| stats.chars().count() + seed.chars().count() <= inner.width as usize)
        .unwrap_or_default();
    let readout = column.lexicon.readout();
    let marks: Vec<Option<f64>> = column
        .lexicon
        .lines()
        .iter()
        .map(|l| l.sentiment.compound())
        .collect();
    let mut sentiment = vec![Span::styled("sentiment ", theme.muted())];
    match readout.mean {
        Some(mean) => sentiment.push(Span::styled(
            format!("{mean:+.2} "),
            super::sentiment::leaning_style(mean, theme),
        )),
        None => sentiment.push(Span::styled("n/a ", theme.muted())),
    }
    sentiment.extend(sparkline(
        &marks,
        (inner.width as usize).saturating_sub(16),
        theme,
    ));
    let footer = vec![
        Line::from(Span::styled(format!("{stats}{seed}"), theme.muted())),
        Line::from(sentiment),
    ];
    frame.render_widget(
        Paragraph::new(footer),
        Rect::new(inner.x, inner.y + text_height, inner.width, footer_rows),
    );
}

fn diversity_line(state: &State, sweep: &SweepView) -> Line<'static> {
    let theme = &state.theme;
    let number = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| format!("{v:.2}"));
    let mut spans = vec![Span::styled(
        format!("sweep {}/{} ", sweep.finished_count(), sweep.columns.len()),
        theme.accent(),
    )];
    if let Some(summary) = &sweep.summary {
        spans.push(Span::raw(format!(
            "{:.1} tok/s · ",
            summary.tokens_per_second
        )));
    }
    match &sweep.diversity {
        Some(d) => {
            let list = |values: &[Option<f64>]| {
                values
                    .iter()
                    .map(|v| number(*v))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            spans.push(Span::raw(format!(
                "distinct-1 {} · distinct-2 {} · shared 4-grams {} · self-BLEU {}",
                list(&d.distinct_1),
                list(&d.distinct_2),
                number(d.mean_overlap),
                number(d.self_bleu)
            )));
        }
        None => spans.push(Span::styled(
            format!(
                "{} · diversity when variants finish · ←/→ pick, {} keep, x cancel one, Esc all",
                sweep.varied,
                state.keymap.first_key(Action::SweepKeep)
            ),
            theme.muted(),
        )),
    }
    Line::from(spans)
}

/// The sweep editor popup: parameters, values, and a preview of the variants.
pub fn draw_editor(frame: &mut Frame, state: &State, area: Rect) {
    let Some(editor) = &state.sweep_editor else {
        return;
    };
    let theme = &state.theme;
    let width = area.width.saturating_sub(4).min(72);
    let height = 11u16.min(area.height);
    let popup = Rect::new(
        area.x + area.width.saturating_sub(width) / 2,
        area.y + area.height.saturating_sub(height) / 2,
        width,
        height,
    );
    let field = |which: EditorField, text: String| -> Span<'static> {
        if editor.field == which {
            Span::styled(format!("{text}▏"), theme.selected())
        } else {
            Span::raw(text)
        }
    };
    let param = |p: Option<SweepParam>| p.map_or("none".to_owned(), |p| p.name().to_owned());
    let mut lines = vec![
        Line::from(vec![
            Span::styled("vary      ", theme.muted()),
            field(
                EditorField::FirstParam,
                format!("◂ {} ▸", param(Some(editor.first))),
            ),
        ]),
        Line::from(vec![
            Span::styled("values    ", theme.muted()),
            field(EditorField::FirstValues, editor.first_values.clone()),
        ]),
        Line::from(vec![
            Span::styled("and vary  ", theme.muted()),
            field(
                EditorField::SecondParam,
                format!("◂ {} ▸", param(editor.second)),
            ),
        ]),
        Line::from(vec![
            Span::styled("values    ", theme.muted()),
            if editor.second.is_some() {
                field(EditorField::SecondValues, editor.second_values.clone())
            } else {
                Span::styled("(a second parameter makes a grid)", theme.muted())
            },
        ]),
        Line::from(""),
    ];
    let preview = editor
        .axes()
        .and_then(|axes| plan(&state.controls.params, &axes, state.next_seed));
    match preview {
        Ok(variants) => {
            let labels: Vec<String> = variants.iter().map(|v| v.label()).collect();
            lines.push(Line::from(Span::styled(
                format!("{} variants: {}", variants.len(), labels.join(" | ")),
                theme.accent(),
            )));
            lines.push(Line::from(Span::styled(
                "other settings from the controls; one shared prompt cache, one batch per step",
                theme.muted(),
            )));
        }
        Err(why) => lines.push(Line::from(Span::styled(why, theme.error()))),
    }
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(ratatui::widgets::Wrap { trim: false })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(theme.border(true))
                    .title(" Sweep ")
                    .title_bottom(Line::from(Span::styled(
                        " Tab field · ←/→ parameter · type values · Enter run · Esc close ",
                        theme.muted(),
                    ))),
            ),
        popup,
    );
}
