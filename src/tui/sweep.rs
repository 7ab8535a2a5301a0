//! The studio's sweep: the editor popup that defines one, and the columns that stream it.
//! State and pure geometry only; `sweep_update` changes it and `panes::sweep` draws it.

use std::time::Duration;

use ratatui::layout::Rect;

use super::output::OutputView;
use crate::analysis::diversity::Diversity;
use crate::analysis::lines::LineScorer;
use crate::engine::sweep_plan::{PlannedVariant, SweepAxis, SweepParam};
use crate::engine::{RequestId, RunFinished, SamplerParams, SweepSummary};

/// A column narrower than this stacks the variants instead.
pub const MIN_COLUMN_WIDTH: u16 = 24;
/// Rows (border, text, stats, sentiment) a variant needs to be worth showing.
pub const MIN_COLUMN_HEIGHT: u16 = 6;
/// Lines under each column's text: stats, then sentiment.
pub const COLUMN_FOOTER: u16 = 2;

#[derive(Debug, Clone)]
pub struct SweepColumn {
    pub label: String,
    pub sampler: SamplerParams,
    pub output: OutputView,
    pub lexicon: LineScorer,
    pub generated: u32,
    pub elapsed: Duration,
    pub seed: Option<u32>,
    pub finished: Option<RunFinished>,
    pub cancelling: bool,
}

#[derive(Debug, Clone)]
pub struct SweepView {
    /// The engine's id once it accepted the sweep.
    pub id: Option<RequestId>,
    /// "temperature × seed".
    pub varied: String,
    pub columns: Vec<SweepColumn>,
    pub focused: usize,
    pub maximised: bool,
    pub running: bool,
    pub summary: Option<SweepSummary>,
    /// Across the columns' texts, refreshed as variants finish.
    pub diversity: Option<Diversity>,
}

impl SweepView {
    pub fn new(varied: String, variants: &[PlannedVariant]) -> Self {
        Self {
            id: None,
            varied,
            columns: variants
                .iter()
                .map(|v| SweepColumn {
                    label: v.label(),
                    sampler: v.sampler.clone(),
                    output: OutputView::default(),
                    lexicon: LineScorer::default(),
                    generated: 0,
                    elapsed: Duration::ZERO,
                    seed: v.sampler.seed,
                    finished: None,
                    cancelling: false,
                })
                .collect(),
            focused: 0,
            maximised: false,
            running: true,
            summary: None,
            diversity: None,
        }
    }

    pub fn finished_count(&self) -> usize {
        self.columns.iter().filter(|c| c.finished.is_some()).count()
    }
}

/// How the variants share the area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrangement {
    /// `columns` × `rows` cells, variant i at (i % columns, i / columns).
    Grid { columns: u16, rows: u16 },
    /// Too small for all: only the focused variant, with a strip naming the others.
    Tabs,
}

/// Where the variants go in `area` (the right side, diversity line excluded).
pub fn arrangement(area: Rect, count: usize, maximised: bool) -> Arrangement {
    let count = count.max(1) as u16;
    if maximised {
        return Arrangement::Tabs;
    }
    // As many side by side as fit; rows for the rest, balanced (8 on room for 5: 4 × 2).
    let fitting = (area.width / MIN_COLUMN_WIDTH).clamp(1, count);
    let rows = count.div_ceil(fitting);
    let columns = count.div_ceil(rows);
    if area.height / rows < MIN_COLUMN_HEIGHT {
        Arrangement::Tabs
    } else {
        Arrangement::Grid { columns, rows }
    }
}

/// Each variant's rectangle (`None` when hidden), and the tab strip's row in `Tabs`.
pub fn cells(
    area: Rect,
    count: usize,
    maximised: bool,
    focused: usize,
) -> (Vec<Option<Rect>>, Option<Rect>) {
    match arrangement(area, count, maximised) {
        Arrangement::Grid { columns, rows } => {
            let cell_width = area.width / columns;
            let cell_height = area.height / rows;
            let rects = (0..count)
                .map(|i| {
                    let (column, row) = (i as u16 % columns, i as u16 / columns);
                    // The last column and row take the remainder.
                    let width = if column == columns - 1 {
                        area.width - cell_width * column
                    } else {
                        cell_width
                    };
                    let height = if row == rows - 1 {
                        area.height - cell_height * row
                    } else {
                        cell_height
                    };
                    Some(Rect::new(
                        area.x + cell_width * column,
                        area.y + cell_height * row,
                        width,
                        height,
                    ))
                })
                .collect();
            (rects, None)
        }
        Arrangement::Tabs => {
            let strip = Rect::new(area.x, area.y, area.width, 1);
            let body = Rect::new(
                area.x,
                area.y + 1,
                area.width,
                area.height.saturating_sub(1),
            );
            let rects = (0..count).map(|i| (i == focused).then_some(body)).collect();
            (rects, Some(strip))
        }
    }
}

/// The rectangle each variant is sized for: its cell, or in `Tabs` the one shared body, so a
/// variant switched to shows its text wrapped already.
pub fn sizing_cells(area: Rect, count: usize, maximised: bool) -> Vec<Rect> {
    let (rects, strip) = cells(area, count, maximised, 0);
    let body = rects.first().copied().flatten().unwrap_or(area);
    match strip {
        Some(_) => vec![body; count],
        None => rects.into_iter().map(|r| r.unwrap_or(body)).collect(),
    }
}

/// The text area inside a variant's cell: inside the border, above the footer.
pub fn text_area(cell: Rect) -> Rect {
    let inner = super::layout::inner(cell);
    Rect::new(
        inner.x,
        inner.y,
        inner.width,
        inner.height.saturating_sub(COLUMN_FOOTER),
    )
}

/// The right side minus its last row, which holds the diversity line.
pub fn columns_area(right: Rect) -> Rect {
    Rect::new(
        right.x,
        right.y,
        right.width,
        right.height.saturating_sub(1),
    )
}

/// Which field of the sweep editor has the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditorField {
    FirstParam,
    FirstValues,
    SecondParam,
    SecondValues,
}

impl EditorField {
    const ORDER: [EditorField; 4] = [
        EditorField::FirstParam,
        EditorField::FirstValues,
        EditorField::SecondParam,
        EditorField::SecondValues,
    ];

    pub fn next(self, forward: bool) -> Self {
        let i = Self::ORDER.iter().position(|f| *f == self).unwrap_or(0);
        let n = Self::ORDER.len();
        Self::ORDER[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }]
    }
}

/// The sweep editor: one parameter and its values, and optionally a second for a grid.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepEditor {
    pub first: SweepParam,
    pub first_values: String,
    pub second: Option<SweepParam>,
    pub second_values: String,
    pub field: EditorField,
}

impl Default for SweepEditor {
    fn default() -> Self {
        Self {
            first: SweepParam::Temperature,
            first_values: "0.3, 0.8, 1.3".into(),
            second: None,
            second_values: String::new(),
            field: EditorField::FirstValues,
        }
    }
}

/// Values to start from when a parameter is picked.
fn default_values(param: SweepParam) -> &'static str {
    match param {
        SweepParam::Temperature => "0.3, 0.8, 1.3",
        SweepParam::Seed => "1, 2",
        SweepParam::TopP => "0.8, 0.95",
        SweepParam::MinP => "0.02, 0.1",
        SweepParam::TopK => "10, 40",
    }
}

impl SweepEditor {
    /// The axes as typed, or what is wrong with them.
    pub fn axes(&self) -> Result<Vec<SweepAxis>, String> {
        let mut axes = vec![SweepAxis::parse(self.first, &self.first_values)?];
        if let Some(second) = self.second {
            axes.push(SweepAxis::parse(second, &self.second_values)?);
        }
        Ok(axes)
    }

    /// Cycles the focused parameter field (the second one can be "none").
    pub fn cycle_param(&mut self, forward: bool) {
        let all = SweepParam::ALL;
        let step = |current: usize, len: usize| {
            if forward {
                (current + 1) % len
            } else {
                (current + len - 1) % len
            }
        };
        match self.field {
            EditorField::FirstParam => {
                let i = all.iter().position(|p| *p == self.first).unwrap_or(0);
                self.first = all[step(i, all.len())];
                self.first_values = default_values(self.first).into();
            }
            EditorField::SecondParam => {
                // Positions: 0 = none, 1.. = the parameters.
                let i = self
                    .second
                    .and_then(|s| all.iter().position(|p| *p == s))
                    .map_or(0, |i| i + 1);
                let next = step(i, all.len() + 1);
                self.second = (next > 0).then(|| all[next - 1]);
                self.second_values = self.second.map(default_values).unwrap_or("").into();
            }
            _ => {}
        }
    }

    /// The values field in focus, for typing.
    pub fn values_mut(&mut self) -> Option<&mut String> {
        match self.field {
            EditorField::FirstValues => Some(&mut self.first_values),
            EditorField::SecondValues if self.second.is_some() => Some(&mut self.second_values),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_fit_the_width_and_fall_back_to_tabs() {
        let wide = Rect::new(0, 0, 120, 30);
        assert_eq!(
            arrangement(wide, 4, false),
            Arrangement::Grid {
                columns: 4,
                rows: 1
            }
        );
        assert_eq!(
            arrangement(wide, 8, false),
            Arrangement::Grid {
                columns: 4,
                rows: 2
            }
        );
        let narrow = Rect::new(0, 0, 40, 20);
        assert_eq!(
            arrangement(narrow, 2, false),
            Arrangement::Grid {
                columns: 1,
                rows: 2
            }
        );
        assert_eq!(arrangement(narrow, 8, false), Arrangement::Tabs);
        assert_eq!(arrangement(wide, 2, true), Arrangement::Tabs);
        let (rects, strip) = cells(wide, 4, false, 0);
        assert!(strip.is_none());
        let total: u16 = rects.iter().map(|r| r.unwrap().width).sum();
        assert_eq!(total, 120, "the cells cover the width");
        let (rects, strip) = cells(narrow, 8, false, 3);
        assert!(strip.is_some());
        assert_eq!(rects.iter().filter(|r| r.is_some()).count(), 1);
        assert!(rects[3].is_some());
    }

    #[test]
    fn editor_cycles_params_and_builds_axes() {
        let mut editor = SweepEditor::default();
        assert_eq!(editor.axes().unwrap()[0].values, vec![0.3, 0.8, 1.3]);
        editor.field = EditorField::SecondParam;
        editor.cycle_param(true);
        assert_eq!(editor.second, Some(SweepParam::Temperature));
        editor.cycle_param(true);
        assert_eq!(editor.second, Some(SweepParam::Seed));
        assert_eq!(editor.axes().unwrap().len(), 2);
        editor.cycle_param(false);
        editor.cycle_param(false);
        assert_eq!(editor.second, None, "back to none");
        editor.first_values = "0.3, hot".into();
        assert!(editor.axes().unwrap_err().contains("'hot'"));
    }
}
