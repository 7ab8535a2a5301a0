//! Zero-shot sentiment with the loaded model itself, for any language it speaks.
//!
//! A fixed few-shot prompt ends where the label comes; the next-token logits of each
//! label word's first tokens ("positive", " Positive", …) are pooled per label and softmaxed over
//! the three labels only. Contextual calibration (Zhao et al., 2021) divides by the label
//! probabilities for the content-free input "N/A". It runs in a small second context, so the
//! conversation's KV cache is never touched.

use std::num::NonZeroU32;

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;
use serde::{Deserialize, Serialize};

use super::error::EngineError;
use super::request::Prompt;

/// The classifier's context: enough for a prompt and a long response.
const CLASSIFIER_CONTEXT: u32 = 1024;
const LABELS: [&str; 3] = ["positive", "negative", "neutral"];
const CONTENT_FREE: &str = "N/A";
/// Instructions and one example per label; the text to classify follows, and the prompt ends
/// where the label comes.
const FEW_SHOT: &str = "Label the sentiment of each text as positive, negative or neutral.\n\n\
    Text: I adore this song, it fills me with joy.\nSentiment: positive\n\n\
    Text: This is awful, I hate how it makes me feel.\nSentiment: negative\n\n\
    Text: The train leaves at nine from platform two.\nSentiment: neutral\n\n";

/// Calibrated label probabilities for one text.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ModelSentiment {
    pub positive: f64,
    pub negative: f64,
    pub neutral: f64,
}

impl ModelSentiment {
    /// P(positive) − P(negative), in −1..=1.
    pub fn score(&self) -> f64 {
        self.positive - self.negative
    }

    /// The most probable label.
    pub fn label(&self) -> &'static str {
        if self.positive >= self.negative && self.positive >= self.neutral {
            "positive"
        } else if self.negative >= self.neutral {
            "negative"
        } else {
            "neutral"
        }
    }
}

pub struct Classifier<'model> {
    model: &'model LlamaModel,
    context: LlamaContext<'model>,
    batch: LlamaBatch<'static>,
    /// First tokens of each label's spellings, in `LABELS` order.
    label_tokens: [Vec<LlamaToken>; 3],
    /// Label probabilities for the content-free input.
    calibration: [f64; 3],
    /// The tokens whose keys and values the context holds, in order.
    cached: Vec<LlamaToken>,
}

impl<'model> Classifier<'model> {
    pub fn new(
        model: &'model LlamaModel,
        backend: &llama_cpp_2::llama_backend::LlamaBackend,
        threads: u32,
    ) -> Result<Self, EngineError> {
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(CLASSIFIER_CONTEXT))
            .with_n_batch(CLASSIFIER_CONTEXT)
            .with_n_ubatch(512)
            .with_n_threads(threads as i32)
            .with_n_threads_batch(threads as i32);
        let context =
            model
                .new_context(backend, params)
                .map_err(|error| EngineError::ContextCreate {
                    context_size: CLASSIFIER_CONTEXT,
                    reason: format!("for the sentiment classifier: {error}"),
                })?;
        let label_tokens = label_tokens(model)?;
        let mut classifier = Self {
            model,
            context,
            batch: LlamaBatch::new(CLASSIFIER_CONTEXT as usize, 1),
            label_tokens,
            calibration: [1.0; 3],
            cached: Vec::new(),
        };
        classifier.calibration = classifier.raw_probabilities(CONTENT_FREE)?;
        Ok(classifier)
    }

    pub fn classify(&mut self, text: &str) -> Result<ModelSentiment, EngineError> {
        let raw = self.raw_probabilities(text)?;
        let mut calibrated = [0.0; 3];
        for i in 0..3 {
            calibrated[i] = raw[i] / self.calibration[i].max(1e-12);
        }
        let total: f64 = calibrated.iter().sum();
        let p = |i: usize| {
            if total > 0.0 {
                calibrated[i] / total
            } else {
                1.0 / 3.0
            }
        };
        Ok(ModelSentiment {
            positive: p(0),
            negative: p(1),
            neutral: p(2),
        })
    }

    fn prompt(&self, text: &str) -> Result<Vec<LlamaToken>, EngineError> {
        // One line of text: a newline would end the "Text:" field early.
        let mut text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        loop {
            let prompt = Prompt::Raw(format!("{FEW_SHOT}Text: {text}\nSentiment:"));
            let Prompt::Raw(rendered) = &prompt else {
                unreachable!()
            };
            let tokens = super::generate::tokenize(self.model, rendered, &prompt);
            if (tokens.len() as u32) < CLASSIFIER_CONTEXT || text.is_empty() {
                return Ok(tokens);
            }
            // Too long for the classifier's context: keep the first part of the text.
            let keep = text.chars().count() * 3 / 4;
            text = text.chars().take(keep).collect();
        }
    }

    /// Softmax over the three labels' pooled logits, uncalibrated. The part of the prompt shared
    /// with the previous call (the instructions and examples) stays in the KV cache.
    fn raw_probabilities(&mut self, text: &str) -> Result<[f64; 3], EngineError> {
        let tokens = self.prompt(text)?;
        let decode_error = |reason: String| EngineError::Decode {
            reason: format!("sentiment classifier: {reason}"),
        };
        let shared = self
            .cached
            .iter()
            .zip(&tokens)
            .take_while(|(a, b)| a == b)
            .count()
            .min(tokens.len() - 1);
        let mut shared = shared;
        let removed = self
            .context
            .clear_kv_cache_seq(Some(0), Some(shared as u32), None)
            .map_err(|e| decode_error(e.to_string()))?;
        // Recurrent models cannot drop a tail, and sliding-window caches may have lost the
        // start: then nothing is reused.
        let kept_start = shared == 0 || self.context.kv_cache_seq_pos_min(0) <= 0;
        if !removed || !kept_start {
            self.context.clear_kv_cache();
            shared = 0;
        }
        self.cached.truncate(shared);
        let batch_size = self.context.n_batch() as usize;
        for chunk in tokens[shared..].chunks(batch_size) {
            self.batch.clear();
            for token in chunk {
                let position = self.cached.len();
                self.batch
                    .add(*token, position as i32, &[0], position == tokens.len() - 1)
                    .map_err(|e| decode_error(e.to_string()))?;
                self.cached.push(*token);
            }
            if let Err(error) = self.context.decode(&mut self.batch) {
                self.cached.clear();
                self.context.clear_kv_cache();
                return Err(decode_error(error.to_string()));
            }
        }
        let logits = self.context.get_logits_ith(self.batch.n_tokens() - 1);
        let pooled: Vec<f64> = self
            .label_tokens
            .iter()
            .map(|tokens| log_sum_exp(tokens.iter().map(|t| f64::from(logits[t.0 as usize]))))
            .collect();
        let max = pooled.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exps: Vec<f64> = pooled.iter().map(|l| (l - max).exp()).collect();
        let sum: f64 = exps.iter().sum();
        Ok([exps[0] / sum, exps[1] / sum, exps[2] / sum])
    }
}

fn log_sum_exp(values: impl Iterator<Item = f64>) -> f64 {
    let values: Vec<f64> = values.collect();
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        return max;
    }
    max + values.iter().map(|v| (v - max).exp()).sum::<f64>().ln()
}

/// The first token of each spelling of each label. A token two labels share says nothing about
/// either, so it is dropped from both.
fn label_tokens(model: &LlamaModel) -> Result<[Vec<LlamaToken>; 3], EngineError> {
    let vocab = model.vocab();
    let first_tokens = |word: &str| -> Vec<LlamaToken> {
        let capitalized = format!("{}{}", word[..1].to_uppercase(), &word[1..]);
        let mut tokens: Vec<LlamaToken> = [
            word.to_owned(),
            format!(" {word}"),
            capitalized.clone(),
            format!(" {capitalized}"),
        ]
        .iter()
        .filter_map(|spelling| {
            vocab
                .tokenize(spelling.as_bytes(), false, false)
                .first()
                .copied()
        })
        .collect();
        tokens.sort_by_key(|t| t.0);
        tokens.dedup();
        tokens
    };
    let mut sets = LABELS.map(first_tokens);
    let all: Vec<LlamaToken> = sets.iter().flatten().copied().collect();
    let shared: Vec<LlamaToken> = all
        .iter()
        .copied()
        .filter(|t| all.iter().filter(|u| *u == t).count() > 1)
        .collect();
    for set in &mut sets {
        set.retain(|t| !shared.contains(t));
        if set.is_empty() {
            return Err(EngineError::Template {
                reason: "the model's vocabulary cannot tell the sentiment labels apart".into(),
            });
        }
    }
    Ok(sets)
}
