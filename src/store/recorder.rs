//! Writing one run as it happens: the row when generation starts, the partial output at most
//! every few hundred ms, the outcome at the end — so a killed process leaves its partial run.

use std::time::{Duration, Instant};

use super::record::{NewRun, RunOutcome, RunStatus, SentimentRecord};
use super::{Result, Store};
use crate::analysis::lines::LineScorer;
use crate::engine::{RunFinished, StopReason};

/// How often the partial output is written while generating.
pub const PROGRESS_INTERVAL: Duration = Duration::from_millis(300);

#[derive(Debug, Default)]
pub struct Recorder {
    run_id: Option<i64>,
    output: String,
    last_write: Option<Instant>,
}

impl Recorder {
    pub fn run_id(&self) -> Option<i64> {
        self.run_id
    }

    pub fn started(&mut self, store: &Store, run: &NewRun) -> Result<i64> {
        let id = store.begin_run(run)?;
        self.run_id = Some(id);
        self.output.clear();
        self.last_write = Some(Instant::now());
        Ok(id)
    }

    pub fn token(&mut self, store: &Store, text: &str) -> Result<()> {
        self.output.push_str(text);
        let Some(id) = self.run_id else { return Ok(()) };
        if self
            .last_write
            .is_none_or(|t| t.elapsed() >= PROGRESS_INTERVAL)
        {
            store.record_progress(id, &self.output)?;
            self.last_write = Some(Instant::now());
        }
        Ok(())
    }

    /// The end of the run: cancelled runs are kept as interrupted.
    pub fn finished(
        &mut self,
        store: &Store,
        finished: &RunFinished,
        sentiment: Option<&SentimentRecord>,
    ) -> Result<()> {
        let Some(id) = self.run_id.take() else {
            return Ok(());
        };
        let status = if finished.stop_reason == StopReason::Cancelled {
            RunStatus::Interrupted
        } else {
            RunStatus::Finished
        };
        store.finish_run(
            id,
            &RunOutcome {
                status,
                output: finished.text.clone(),
                stop_reason: Some(finished.stop_reason),
                stats: Some(finished.stats.clone()),
                error: None,
            },
        )?;
        if let Some(sentiment) = sentiment {
            store.set_sentiment(id, sentiment)?;
        }
        Ok(())
    }

    /// Ends the run without a result: `status` is Failed (with `error`) or Interrupted.
    pub fn abandoned(
        &mut self,
        store: &Store,
        status: RunStatus,
        error: Option<String>,
    ) -> Result<()> {
        let Some(id) = self.run_id.take() else {
            return Ok(());
        };
        store.finish_run(
            id,
            &RunOutcome {
                status,
                output: std::mem::take(&mut self.output),
                stop_reason: None,
                stats: None,
                error,
            },
        )
    }
}

/// The lexicon readout of a finished text, as recorded with the run.
pub fn lexicon_record(text: &str) -> SentimentRecord {
    let mut scorer = LineScorer::default();
    scorer.push_str(text);
    scorer.finish();
    SentimentRecord {
        lexicon_mean: scorer.readout().mean,
        lexicon_lines: scorer
            .lines()
            .iter()
            .map(|l| l.sentiment.compound())
            .collect(),
        model: None,
        model_lines: Vec::new(),
    }
}
