//! The studio's sentiment readouts for the current response: the lexicon live per line, and
//! the model's per-line and whole-response scores once the response is done.

use crate::analysis::lines::LineScorer;
use crate::analysis::SentimentMethod;
use crate::engine::{ModelSentiment, RequestId};

#[derive(Debug, Clone, PartialEq)]
pub enum ModelReadout {
    /// Not asked for (method without the model, or nothing generated yet).
    None,
    /// Waits for the response to finish.
    AfterResponse,
    /// Sent to the engine; the id arrives with `ClassifySent`.
    Requested,
    Running(RequestId),
    Done {
        lines: Vec<ModelSentiment>,
        whole: ModelSentiment,
    },
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct SentimentView {
    pub method: SentimentMethod,
    pub lexicon: LineScorer,
    pub model: ModelReadout,
}

impl Default for SentimentView {
    fn default() -> Self {
        Self {
            method: SentimentMethod::Both,
            lexicon: LineScorer::default(),
            model: ModelReadout::None,
        }
    }
}

impl SentimentView {
    /// A new response begins.
    pub fn reset(&mut self) {
        self.lexicon = LineScorer::default();
        self.model = if self.method.uses_model() {
            ModelReadout::AfterResponse
        } else {
            ModelReadout::None
        };
    }

    pub fn push(&mut self, text: &str) {
        if self.method.uses_lexicon() {
            self.lexicon.push_str(text);
        }
    }

    /// The response ended: returns the texts the model should classify (each finished line,
    /// then the whole response), if the method asks for the model.
    pub fn finish(&mut self, response: &str) -> Option<Vec<String>> {
        self.lexicon.finish();
        if !self.method.uses_model() || response.trim().is_empty() {
            self.model = ModelReadout::None;
            return None;
        }
        let mut texts: Vec<String> = response
            .lines()
            .map(str::trim_end)
            .filter(|line| !line.trim().is_empty())
            .map(str::to_owned)
            .collect();
        texts.push(response.to_owned());
        self.model = ModelReadout::Requested;
        Some(texts)
    }

    /// The readouts as the history records them.
    pub fn record(&self) -> crate::store::SentimentRecord {
        let (model, model_lines) = match &self.model {
            ModelReadout::Done { lines, whole } => (Some(*whole), lines.clone()),
            _ => (None, Vec::new()),
        };
        crate::store::SentimentRecord {
            lexicon_mean: self.lexicon.readout().mean,
            lexicon_lines: self
                .lexicon
                .lines()
                .iter()
                .map(|l| l.sentiment.compound())
                .collect(),
            model,
            model_lines,
        }
    }

    pub fn model_results(&mut self, mut results: Vec<ModelSentiment>) {
        match results.pop() {
            Some(whole) => {
                self.model = ModelReadout::Done {
                    lines: results,
                    whole,
                }
            }
            None => self.model = ModelReadout::Failed("no result".into()),
        }
    }
}
