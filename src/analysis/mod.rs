//! How the text feels: sentiment scoring, pure and incremental. No I/O; the model-based
//! classifier lives in the engine and is reached through its handle.

pub mod diversity;
pub mod eval;
pub mod lines;
pub mod vader;

/// Which scorer(s) a run uses: the lexicon (live, English) and/or the loaded model (any
/// language, once per line and response after generation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SentimentMethod {
    Lexicon,
    Model,
    #[default]
    Both,
}

impl SentimentMethod {
    pub fn uses_lexicon(self) -> bool {
        matches!(self, SentimentMethod::Lexicon | SentimentMethod::Both)
    }

    pub fn uses_model(self) -> bool {
        matches!(self, SentimentMethod::Model | SentimentMethod::Both)
    }

    pub fn label(self) -> &'static str {
        match self {
            SentimentMethod::Lexicon => "lexicon",
            SentimentMethod::Model => "model",
            SentimentMethod::Both => "lexicon + model",
        }
    }

    /// The next method, for a key that cycles through them.
    pub fn next(self) -> Self {
        match self {
            SentimentMethod::Both => SentimentMethod::Lexicon,
            SentimentMethod::Lexicon => SentimentMethod::Model,
            SentimentMethod::Model => SentimentMethod::Both,
        }
    }
}

impl std::str::FromStr for SentimentMethod {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "lexicon" => Ok(SentimentMethod::Lexicon),
            "model" => Ok(SentimentMethod::Model),
            "both" => Ok(SentimentMethod::Both),
            other => Err(format!("expected lexicon, model or both, got '{other}'")),
        }
    }
}
