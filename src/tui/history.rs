//! The studio's view of the history: the list, its search, and what a replay found.

use std::path::PathBuf;

use crate::store::worker::{HistoryCommand, Purpose};
use crate::store::{Filter, RunSummary};

#[derive(Debug, Clone, PartialEq)]
pub enum Availability {
    Opening,
    Open(PathBuf),
    /// Off for this session: incognito, or the file is unreadable (the message names it).
    Off(String),
}

/// A replay in progress or done: the recorded text to compare with.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    pub id: i64,
    pub recorded: String,
    /// `None` until the replay finishes; then `Some(None)` matched, `Some(Some(at))` differed.
    pub verdict: Option<Option<usize>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HistoryView {
    pub availability: Availability,
    pub open: bool,
    pub query: String,
    pub rows: Vec<RunSummary>,
    pub selected: usize,
    /// The newest query sent; older answers are dropped.
    pub latest_query: u64,
    pub confirm_delete: Option<i64>,
    pub replay: Option<Replay>,
}

impl Default for HistoryView {
    fn default() -> Self {
        Self {
            availability: Availability::Opening,
            open: false,
            query: String::new(),
            rows: Vec::new(),
            selected: 0,
            latest_query: 0,
            confirm_delete: None,
            replay: None,
        }
    }
}

impl HistoryView {
    /// Whether runs are being written (commands sent while opening wait in the queue).
    pub fn records(&self) -> bool {
        !matches!(self.availability, Availability::Off(_))
    }

    pub fn selected_id(&self) -> Option<i64> {
        self.rows.get(self.selected).map(|r| r.id)
    }

    /// The query for the list as it stands.
    pub fn query_command(&mut self) -> HistoryCommand {
        self.latest_query += 1;
        HistoryCommand::Query {
            query_id: self.latest_query,
            text: self.query.clone(),
            filter: Filter {
                limit: 500,
                ..Filter::default()
            },
        }
    }

    pub fn fetch(&self, purpose: Purpose) -> Option<HistoryCommand> {
        self.selected_id()
            .map(|id| HistoryCommand::Get { id, purpose })
    }
}
