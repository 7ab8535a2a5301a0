//! Scoring a sentiment method against labelled data: accuracy, per-class precision, recall and
//! F1, macro-F1, the confusion matrix and coverage.

use serde::Serialize;

use super::lines::Leaning;

pub const CLASSES: [Leaning; 3] = [Leaning::Positive, Leaning::Negative, Leaning::Neutral];

fn index(leaning: Leaning) -> usize {
    match leaning {
        Leaning::Positive => 0,
        Leaning::Negative => 1,
        Leaning::Neutral => 2,
    }
}

/// Reads a label as datasets write it: positive/negative/neutral, pos/neg/neu, 1/0.
pub fn parse_label(text: &str) -> Option<Leaning> {
    match text.trim().to_ascii_lowercase().as_str() {
        "positive" | "pos" | "1" => Some(Leaning::Positive),
        "negative" | "neg" | "0" => Some(Leaning::Negative),
        "neutral" | "neu" => Some(Leaning::Neutral),
        _ => None,
    }
}

/// Rows are the true labels, columns the predictions, both in `CLASSES` order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Confusion {
    pub counts: [[usize; 3]; 3],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassMetrics {
    pub label: &'static str,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub total: usize,
    pub accuracy: f64,
    /// Mean F1 over the classes present in the true labels.
    pub macro_f1: f64,
    pub classes: Vec<ClassMetrics>,
    /// Share of items predicted positive or negative (not neutral or n/a).
    pub coverage: f64,
    pub confusion: Confusion,
}

impl Confusion {
    pub fn add(&mut self, truth: Leaning, predicted: Leaning) {
        self.counts[index(truth)][index(predicted)] += 1;
    }

    pub fn metrics(&self) -> Metrics {
        let total: usize = self.counts.iter().flatten().sum();
        let correct: usize = (0..3).map(|i| self.counts[i][i]).sum();
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let classes: Vec<ClassMetrics> = CLASSES
            .iter()
            .map(|class| {
                let i = index(*class);
                let support: usize = self.counts[i].iter().sum();
                let predicted: usize = (0..3).map(|r| self.counts[r][i]).sum();
                let precision = ratio(self.counts[i][i], predicted);
                let recall = ratio(self.counts[i][i], support);
                let f1 = if precision + recall == 0.0 {
                    0.0
                } else {
                    2.0 * precision * recall / (precision + recall)
                };
                ClassMetrics {
                    label: class.label(),
                    precision,
                    recall,
                    f1,
                    support,
                }
            })
            .collect();
        let present: Vec<&ClassMetrics> = classes.iter().filter(|c| c.support > 0).collect();
        let macro_f1 = if present.is_empty() {
            0.0
        } else {
            present.iter().map(|c| c.f1).sum::<f64>() / present.len() as f64
        };
        let neutral_predictions: usize = (0..3).map(|r| self.counts[r][2]).sum();
        Metrics {
            total,
            accuracy: ratio(correct, total),
            macro_f1,
            classes,
            coverage: ratio(total - neutral_predictions, total),
            confusion: self.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_by_hand() {
        // truth → predicted: 3 pos→pos, 1 pos→neu, 2 neg→neg, 1 neg→pos.
        let mut confusion = Confusion::default();
        for (truth, predicted, n) in [
            (Leaning::Positive, Leaning::Positive, 3),
            (Leaning::Positive, Leaning::Neutral, 1),
            (Leaning::Negative, Leaning::Negative, 2),
            (Leaning::Negative, Leaning::Positive, 1),
        ] {
            for _ in 0..n {
                confusion.add(truth, predicted);
            }
        }
        let m = confusion.metrics();
        assert_eq!(m.total, 7);
        assert!((m.accuracy - 5.0 / 7.0).abs() < 1e-12);
        let positive = &m.classes[0];
        assert!((positive.precision - 0.75).abs() < 1e-12);
        assert!((positive.recall - 0.75).abs() < 1e-12);
        let negative = &m.classes[1];
        assert!((negative.precision - 1.0).abs() < 1e-12);
        assert!((negative.recall - 2.0 / 3.0).abs() < 1e-12);
        assert!(
            (m.macro_f1 - (0.75 + 0.8) / 2.0).abs() < 1e-12,
            "neutral has no support"
        );
        assert!((m.coverage - 6.0 / 7.0).abs() < 1e-12);
        assert_eq!(parse_label("1"), Some(Leaning::Positive));
        assert_eq!(parse_label(" Negative "), Some(Leaning::Negative));
        assert_eq!(parse_label("maybe"), None);
    }
}
