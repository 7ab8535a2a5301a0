//! The history on its own thread, so the studio never waits on the disk: commands in, events
//! out, like the engine.

use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::JoinHandle;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use super::record::{Filter, NewRun, RunRecord, RunStatus, RunSummary, SentimentRecord};
use super::recorder::Recorder;
use super::Store;
use crate::engine::RunFinished;

/// Why a run record is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Put its prompt and settings into the editors and controls.
    Load,
    /// Run it again exactly and compare.
    Replay,
}

#[derive(Debug, Clone, PartialEq)]
pub enum HistoryCommand {
    /// A generation started: write its row (ending any run still open as interrupted).
    Begin {
        run: NewRun,
        model_path: PathBuf,
    },
    /// Streamed text of the open run.
    Progress(String),
    /// The run just begun is a fork of `parent` at token `index`.
    LinkFork {
        parent: i64,
        index: u32,
    },
    Finish(RunFinished),
    /// The open run ended without a result (failed, or the studio is quitting).
    Abandon {
        status: RunStatus,
        error: Option<String>,
    },
    /// Sentiment of the last run finished.
    Sentiment(SentimentRecord),
    /// A sweep began: one run per variant, linked under a new sweep.
    BeginSweep {
        varied: String,
        runs: Vec<NewRun>,
    },
    SweepProgress {
        variant: usize,
        text: String,
    },
    /// One variant ended, with its lexicon sentiment.
    SweepFinish {
        variant: usize,
        finished: RunFinished,
        sentiment: SentimentRecord,
    },
    /// The sweep's unfinished variants end as `status`.
    AbandonSweep {
        status: RunStatus,
        error: Option<String>,
    },
    Query {
        query_id: u64,
        text: String,
        filter: Filter,
    },
    Get {
        id: i64,
        purpose: Purpose,
    },
    Star {
        id: i64,
        starred: bool,
    },
    Delete {
        id: i64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum HistoryEvent {
    Opened {
        path: PathBuf,
    },
    /// History is off for this session; the message names the file and why.
    Unavailable(String),
    Listed {
        query_id: u64,
        rows: Vec<RunSummary>,
    },
    Fetched {
        record: Box<RunRecord>,
        purpose: Purpose,
    },
    /// A star or delete went through: lists should be refreshed.
    Changed,
    /// A run was begun under this id (the studio keeps it, to link forks to their parent).
    Began {
        id: i64,
    },
    Error(String),
}

pub struct HistoryHandle {
    commands: Option<Sender<HistoryCommand>>,
    thread: Option<JoinHandle<()>>,
}

impl HistoryHandle {
    /// Opens `path` on a new thread; `None` path means incognito (every command is dropped).
    pub fn spawn(path: Option<PathBuf>) -> (Self, UnboundedReceiver<HistoryEvent>) {
        let (events, receiver) = unbounded_channel();
        let Some(path) = path else {
            let _ = events.send(HistoryEvent::Unavailable(
                "history is off (--no-history)".into(),
            ));
            return (
                Self {
                    commands: None,
                    thread: None,
                },
                receiver,
            );
        };
        let (commands, command_receiver) = channel();
        let thread = std::thread::Builder::new()
            .name("refrain-history".into())
            .spawn(move || serve(path, command_receiver, events))
            .ok();
        (
            Self {
                commands: Some(commands),
                thread,
            },
            receiver,
        )
    }

    pub fn send(&self, command: HistoryCommand) {
        if let Some(commands) = &self.commands {
            let _ = commands.send(command);
        }
    }
}

impl Drop for HistoryHandle {
    /// Finishes every queued write before the program ends.
    fn drop(&mut self) {
        self.commands.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(path: PathBuf, commands: Receiver<HistoryCommand>, events: UnboundedSender<HistoryEvent>) {
    let send = |event| {
        let _ = events.send(event);
    };
    let store = match Store::open(&path) {
        Ok(store) => {
            send(HistoryEvent::Opened { path });
            store
        }
        Err(error) => {
            send(HistoryEvent::Unavailable(error.to_string()));
            return;
        }
    };
    let mut recorder = Recorder::default();
    let mut hashing: std::collections::HashSet<PathBuf> = Default::default();
    // Sentiment arrives after its run finished (the model scores once the response is done).
    let mut last_finished: Option<i64> = None;
    let mut sweep: Vec<Recorder> = Vec::new();
    while let Ok(command) = commands.recv() {
        let result = match command {
            HistoryCommand::Begin { run, model_path } => {
                let _ = recorder.abandoned(&store, RunStatus::Interrupted, None);
                let began = recorder.started(&store, &run);
                if let Ok(id) = began {
                    match store.cached_fingerprint(&model_path) {
                        Ok(Some(digest)) => {
                            let _ = store.set_fingerprint(id, &digest);
                        }
                        // Hashing a new model file takes a while: on a thread of its own, not
                        // in front of queries, and once per file however often runs start.
                        _ if hashing.insert(model_path.clone()) => {
                            let database = store.path().to_path_buf();
                            std::thread::spawn(move || {
                                let Ok(store) = Store::open(&database) else {
                                    return;
                                };
                                if let Ok(Some(digest)) = store.fingerprint(&model_path) {
                                    let _ = store.set_fingerprint(id, &digest);
                                }
                            });
                        }
                        _ => {}
                    }
                }
                began.map(|id| send(HistoryEvent::Began { id }))
            }
            HistoryCommand::LinkFork { parent, index } => match recorder.run_id() {
                Some(id) => store.link_fork(id, super::ForkLink { parent, index }),
                None => Ok(()),
            },
            HistoryCommand::Progress(text) => recorder.token(&store, &text),
            HistoryCommand::Finish(finished) => {
                last_finished = recorder.run_id();
                recorder.finished(&store, &finished, None)
            }
            HistoryCommand::Abandon { status, error } => recorder.abandoned(&store, status, error),
            HistoryCommand::Sentiment(record) => match last_finished {
                Some(id) => store.set_sentiment(id, &record),
                None => Ok(()),
            },
            HistoryCommand::BeginSweep { varied, runs } => {
                for mut unfinished in sweep.drain(..) {
                    let _ = unfinished.abandoned(&store, RunStatus::Interrupted, None);
                }
                store.begin_sweep(&varied).and_then(|sweep_id| {
                    for (index, run) in runs.iter().enumerate() {
                        let mut recorder = Recorder::default();
                        let id = recorder.started(&store, run)?;
                        store.link_to_sweep(
                            id,
                            super::SweepLink {
                                id: sweep_id,
                                index: index as u32,
                            },
                        )?;
                        sweep.push(recorder);
                    }
                    Ok(())
                })
            }
            HistoryCommand::SweepProgress { variant, text } => match sweep.get_mut(variant) {
                Some(recorder) => recorder.token(&store, &text),
                None => Ok(()),
            },
            HistoryCommand::SweepFinish {
                variant,
                finished,
                sentiment,
            } => match sweep.get_mut(variant) {
                Some(recorder) => recorder.finished(&store, &finished, Some(&sentiment)),
                None => Ok(()),
            },
            HistoryCommand::AbandonSweep { status, error } => {
                let mut result = Ok(());
                for recorder in &mut sweep {
                    if let Err(e) = recorder.abandoned(&store, status, error.clone()) {
                        result = Err(e);
                    }
                }
                sweep.clear();
                result
            }
            HistoryCommand::Query {
                query_id,
                text,
                filter,
            } => store
                .search(&text, &filter)
                .map(|rows| send(HistoryEvent::Listed { query_id, rows })),
            HistoryCommand::Get { id, purpose } => store.get(id).map(|record| match record {
                Some(record) => send(HistoryEvent::Fetched {
                    record: Box::new(record),
                    purpose,
                }),
                None => send(HistoryEvent::Error(format!(
                    "run {id} is no longer in the history"
                ))),
            }),
            HistoryCommand::Star { id, starred } => store
                .set_starred(id, starred)
                .map(|_| send(HistoryEvent::Changed)),
            HistoryCommand::Delete { id } => store.delete(id).map(|_| send(HistoryEvent::Changed)),
        };
        if let Err(error) = result {
            send(HistoryEvent::Error(error.to_string()));
        }
    }
    // The studio is closing with a run still open: keep it as interrupted.
    let _ = recorder.abandoned(&store, RunStatus::Interrupted, None);
}
