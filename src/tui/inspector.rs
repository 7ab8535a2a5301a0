//! The studio's token inspector: each token of the response with its probability, where it
//! sits in the output text, the heat colouring switch, and the inspect cursor. State only.

use std::ops::Range;

use crate::engine::inspect::TokenDetail;

/// Alternatives the studio asks the engine for.
pub const ALTERNATIVES: u32 = 5;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct InspectorView {
    /// One per sampled token of the response on screen, in order.
    pub details: Vec<TokenDetail>,
    /// Byte ranges of each token's text in the output text.
    pub spans: Vec<Range<usize>>,
    /// Colour the output by token probability.
    pub heat: bool,
    /// Inspect mode: the token under the cursor.
    pub cursor: Option<usize>,
    /// The alternative picked in the popup (0 = the most likely).
    pub alternative: usize,
}

impl InspectorView {
    pub fn clear(&mut self) {
        self.details.clear();
        self.spans.clear();
        self.cursor = None;
        self.alternative = 0;
    }

    pub fn push(&mut self, detail: TokenDetail) {
        let start = self.spans.last().map_or(0, |s| s.end);
        self.spans.push(start..start + detail.bytes.len());
        self.details.push(detail);
    }

    /// Keeps the first `count` tokens (a fork continues after them).
    pub fn truncate(&mut self, count: usize) {
        self.details.truncate(count);
        self.spans.truncate(count);
        self.cursor = None;
        self.alternative = 0;
    }

    /// The kept tokens' text, as the fork's output starts.
    pub fn text_before(&self, count: usize) -> String {
        let bytes: Vec<u8> = self.details[..count.min(self.details.len())]
            .iter()
            .flat_map(|d| d.bytes.iter().copied())
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The token whose text covers byte `at` of the output.
    pub fn token_at(&self, at: usize) -> Option<usize> {
        let index = self.spans.partition_point(|s| s.end <= at);
        (index < self.spans.len() && self.spans[index].start <= at).then_some(index)
    }
}

/// How surprising a token was, for the heat colouring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heat {
    /// p ≥ 0.6: the model's clear choice.
    Sure,
    /// 0.3 ≤ p < 0.6.
    Likely,
    /// 0.1 ≤ p < 0.3.
    Unsure,
    /// p < 0.1: a long shot.
    Surprising,
}

impl Heat {
    pub fn of(probability: f64) -> Self {
        if probability >= 0.6 {
            Heat::Sure
        } else if probability >= 0.3 {
            Heat::Likely
        } else if probability >= 0.1 {
            Heat::Unsure
        } else {
            Heat::Surprising
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(text: &str) -> TokenDetail {
        TokenDetail {
            index: 0,
            token: 1,
            text: text.into(),
            bytes: text.as_bytes().to_vec(),
            probability: 0.5,
            logprob: 0.5f64.ln(),
            sampler_probability: 0.5,
            entropy: 1.0,
            top: Vec::new(),
            stages: Vec::new(),
        }
    }

    #[test]
    fn spans_follow_the_token_bytes() {
        let mut view = InspectorView::default();
        for piece in ["Moon", "光", " over"] {
            view.push(detail(piece));
        }
        assert_eq!(view.spans, vec![0..4, 4..7, 7..12]);
        assert_eq!(view.token_at(5), Some(1));
        assert_eq!(view.token_at(12), None);
        assert_eq!(view.text_before(2), "Moon光");
        view.truncate(1);
        assert_eq!(view.spans, vec![0..4]);
    }

    #[test]
    fn heat_buckets() {
        assert_eq!(Heat::of(0.9), Heat::Sure);
        assert_eq!(Heat::of(0.45), Heat::Likely);
        assert_eq!(Heat::of(0.2), Heat::Unsure);
        assert_eq!(Heat::of(0.01), Heat::Surprising);
    }
}
