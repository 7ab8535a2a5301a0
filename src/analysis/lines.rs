//! Line-by-line sentiment of text as it streams: lyrics and poems are line-based. The current
//! line is scored from completed words only, a line is final at its newline, and the response's
//! readout is the mean of its line scores with the shares of positive, neutral and negative lines.

use super::vader::vader;
use crate::engine::Utf8Stream;

/// |compound| below this is neutral, as in VADER's own guidance.
pub const NEUTRAL_BAND: f64 = 0.05;

/// A line's lexicon score, or n/a when the lexicon cannot read the line (Chinese, say).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LineSentiment {
    Scored(f64),
    NotApplicable,
}

impl LineSentiment {
    pub fn compound(self) -> Option<f64> {
        match self {
            LineSentiment::Scored(value) => Some(value),
            LineSentiment::NotApplicable => None,
        }
    }
}

/// Which way a score leans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leaning {
    Positive,
    Neutral,
    Negative,
}

impl Leaning {
    pub fn of(compound: f64) -> Self {
        if compound >= NEUTRAL_BAND {
            Leaning::Positive
        } else if compound <= -NEUTRAL_BAND {
            Leaning::Negative
        } else {
            Leaning::Neutral
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Leaning::Positive => "positive",
            Leaning::Neutral => "neutral",
            Leaning::Negative => "negative",
        }
    }
}

/// Scores one whole line with the lexicon.
pub fn score_line(text: &str) -> LineSentiment {
    if readable(text) {
        LineSentiment::Scored(vader().polarity_scores(text).compound)
    } else {
        LineSentiment::NotApplicable
    }
}

/// Whether the English lexicon can say anything: Latin letters, a lexicon token (":)"), or an
/// emoji it describes.
fn readable(text: &str) -> bool {
    let analyzer = vader();
    text.chars()
        .any(|c| c.is_ascii_alphabetic() || analyzer.knows_emoji(c))
        || text
            .split_whitespace()
            .any(|token| analyzer.in_lexicon(&token.to_lowercase()))
}

#[derive(Debug, Clone, PartialEq)]
pub struct FinishedLine {
    pub text: String,
    pub sentiment: LineSentiment,
}

/// The whole response so far, over its finished lines.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Readout {
    /// Mean compound of the scored lines; `None` when no line could be scored.
    pub mean: Option<f64>,
    pub positive: usize,
    pub neutral: usize,
    pub negative: usize,
    pub not_applicable: usize,
}

impl Readout {
    pub fn scored(&self) -> usize {
        self.positive + self.neutral + self.negative
    }

    /// Share of scored lines that lean `leaning`, in 0..=1.
    pub fn share(&self, leaning: Leaning) -> f64 {
        let count = match leaning {
            Leaning::Positive => self.positive,
            Leaning::Neutral => self.neutral,
            Leaning::Negative => self.negative,
        };
        if self.scored() == 0 {
            0.0
        } else {
            count as f64 / self.scored() as f64
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct LineScorer {
    utf8: Utf8Stream,
    current: String,
    lines: Vec<FinishedLine>,
    /// Byte length of the completed-words prefix last scored, and its score.
    current_scored: Option<(usize, LineSentiment)>,
    readout: Readout,
    sum: f64,
}

impl LineScorer {
    /// Feeds raw bytes (a character may be split across calls).
    pub fn push_bytes(&mut self, bytes: &[u8]) {
        let text = self.utf8.push(bytes);
        self.push_str(&text);
    }

    pub fn push_str(&mut self, text: &str) {
        let mut rest = text;
        while let Some(newline) = rest.find('\n') {
            self.current.push_str(&rest[..newline]);
            self.finish_line();
            rest = &rest[newline + 1..];
        }
        self.current.push_str(rest);
        self.rescore_current();
    }

    /// Ends the response: the last line is final even without a newline.
    pub fn finish(&mut self) {
        self.finish_line();
    }

    pub fn lines(&self) -> &[FinishedLine] {
        &self.lines
    }

    pub fn readout(&self) -> Readout {
        self.readout
    }

    /// The unfinished line's score from its completed words; `None` before the first word ends.
    pub fn current_line(&self) -> Option<LineSentiment> {
        self.current_scored.map(|(_, sentiment)| sentiment)
    }

    fn finish_line(&mut self) {
        let text = std::mem::take(&mut self.current);
        self.current_scored = None;
        let text = text.trim_end_matches('\r');
        if text.trim().is_empty() {
            // Blank lines between stanzas are not lines of the poem.
            return;
        }
        let sentiment = score_line(text);
        match sentiment {
            LineSentiment::Scored(compound) => {
                self.sum += compound;
                match Leaning::of(compound) {
                    Leaning::Positive => self.readout.positive += 1,
                    Leaning::Neutral => self.readout.neutral += 1,
                    Leaning::Negative => self.readout.negative += 1,
                }
                self.readout.mean = Some(self.sum / self.readout.scored() as f64);
            }
            LineSentiment::NotApplicable => self.readout.not_applicable += 1,
        }
        self.lines.push(FinishedLine {
            text: text.to_owned(),
            sentiment,
        });
    }

    /// Rescores only when another word completed, so a token inside a word costs nothing.
    fn rescore_current(&mut self) {
        let completed = self
            .current
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace())
            .map(|(at, _)| at)
            .unwrap_or(0);
        if completed == 0 {
            self.current_scored = None;
            return;
        }
        if self.current_scored.map(|(len, _)| len) != Some(completed) {
            self.current_scored = Some((completed, score_line(&self.current[..completed])));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SONG: &str = "I love the way you smile at me\n\n我爱你，月亮很美\nBut the rain is cold and I feel so alone 😢\nWe dance with joy!\nsomething neutral here";

    fn whole(text: &str) -> Vec<FinishedLine> {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| FinishedLine {
                text: l.to_owned(),
                sentiment: score_line(l),
            })
            .collect()
    }

    #[test]
    fn streamed_byte_by_byte_equals_scoring_whole_lines() {
        let mut scorer = LineScorer::default();
        for byte in SONG.as_bytes() {
            scorer.push_bytes(std::slice::from_ref(byte));
        }
        scorer.finish();
        assert_eq!(scorer.lines(), whole(SONG).as_slice());
        let mut by_pieces = LineScorer::default();
        for piece in SONG.split_inclusive(' ') {
            by_pieces.push_str(piece);
        }
        by_pieces.finish();
        assert_eq!(by_pieces.lines(), scorer.lines());
    }

    #[test]
    fn chinese_lines_are_not_applicable_not_zero() {
        assert_eq!(score_line("我爱你，月亮很美"), LineSentiment::NotApplicable);
        assert_eq!(score_line("月が綺麗ですね"), LineSentiment::NotApplicable);
        assert!(matches!(score_line("我爱你 :)"), LineSentiment::Scored(c) if c > 0.0));
        assert!(matches!(score_line("😢"), LineSentiment::Scored(c) if c < 0.0));
    }

    #[test]
    fn readout_is_the_mean_of_lines_with_shares() {
        let mut scorer = LineScorer::default();
        scorer.push_str(SONG);
        scorer.finish();
        let readout = scorer.readout();
        let scored: Vec<f64> = scorer
            .lines()
            .iter()
            .filter_map(|l| l.sentiment.compound())
            .collect();
        assert_eq!(scored.len(), 4);
        assert_eq!(readout.not_applicable, 1);
        let mean = scored.iter().sum::<f64>() / 4.0;
        assert!((readout.mean.unwrap() - mean).abs() < 1e-12);
        assert_eq!(readout.positive + readout.neutral + readout.negative, 4);
        assert_eq!(readout.neutral, 1, "'something neutral here' is neutral");
        assert!((readout.share(Leaning::Neutral) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn current_line_uses_completed_words_only() {
        let mut scorer = LineScorer::default();
        scorer.push_str("I am hap");
        let partial = scorer.current_line().unwrap();
        assert_eq!(partial, score_line("I am"), "'hap' is not a word yet");
        scorer.push_str("py ");
        assert!(matches!(scorer.current_line(), Some(LineSentiment::Scored(c)) if c > 0.0));
        scorer.push_str("\n");
        assert_eq!(scorer.current_line(), None);
        assert_eq!(scorer.lines().len(), 1);
    }
}
