//! `refrain history …`, and opening the history for the other commands.

use std::path::PathBuf;

use serde_json::json;

use super::{start_engine, Cli, Failure, HistoryCommand, HistoryFilterArgs};
use crate::engine::{EngineEvent, GenerateRequest, ModelInfo};
use crate::store::record::{first_difference, sentiment_glyph as glyph};
use crate::store::{export, Filter, RunRecord, RunSummary, Store};

/// The database to record into, or `None` when history is off (`--no-history`, or
/// `history.enabled = false` in the config file).
pub fn recording_path(cli: &Cli) -> Option<PathBuf> {
    if !cli.settled.history {
        return None;
    }
    history_path(cli)
}

/// The database path for these flags, or `None` for `--no-history`.
pub fn history_path(cli: &Cli) -> Option<PathBuf> {
    if cli.no_history {
        return None;
    }
    match &cli.data_dir {
        Some(dir) => Some(dir.join("history.sqlite")),
        None => crate::store::default_path(),
    }
}

/// Opens the history for recording; a broken database only disables history, with a warning.
pub fn open_history(cli: &Cli) -> Option<Store> {
    let path = recording_path(cli)?;
    match Store::open(&path) {
        Ok(store) => Some(store),
        Err(error) => {
            eprintln!("refrain: history disabled for this run: {error}");
            None
        }
    }
}

fn open_required(cli: &Cli) -> Result<Store, Failure> {
    let path = history_path(cli)
        .ok_or_else(|| Failure::bad_input("--no-history: there is no history to read"))?;
    Store::open(&path).map_err(|error| Failure::bad_input(error.to_string()))
}

fn db(error: crate::store::StoreError) -> Failure {
    Failure {
        message: error.to_string(),
        exit_code: 1,
    }
}

fn date_ms(text: &str, end_of_day: bool) -> Result<i64, Failure> {
    use chrono::{NaiveDate, TimeZone};
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| Failure::bad_input(format!("'{text}' is not a date (YYYY-MM-DD)")))?;
    let time = if end_of_day {
        date.and_hms_milli_opt(23, 59, 59, 999)
    } else {
        date.and_hms_opt(0, 0, 0)
    };
    time.and_then(|t| chrono::Local.from_local_datetime(&t).earliest())
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| Failure::bad_input(format!("'{text}' is not a valid local date")))
}

fn to_filter(args: &HistoryFilterArgs) -> Result<Filter, Failure> {
    Ok(Filter {
        starred_only: args.starred,
        model: args.by_model.clone(),
        since: args
            .since
            .as_deref()
            .map(|d| date_ms(d, false))
            .transpose()?,
        until: args
            .until
            .as_deref()
            .map(|d| date_ms(d, true))
            .transpose()?,
        limit: args.limit,
    })
}

fn print_summaries(rows: &[RunSummary], json: bool) {
    if json {
        println!(
            "{}",
            serde_json::to_string(rows).unwrap_or_else(|_| "[]".into())
        );
        return;
    }
    if rows.is_empty() {
        println!("no runs");
        return;
    }
    for row in rows {
        println!(
            "{:>6} {} {} {:<24} t={:<4.2} {} {:<11} {}{}",
            row.id,
            if row.starred { "★" } else { " " },
            export::local_time(row.started_at),
            truncate(&row.model_name, 24),
            row.temperature,
            glyph(row.sentiment),
            row.status.as_str(),
            truncate(&row.first_line, 60),
            row.sweep_id
                .map(|s| format!("  [sweep {s}]"))
                .unwrap_or_default()
        );
    }
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(width - 1).collect::<String>())
    }
}

pub fn history(command: &HistoryCommand, cli: &Cli) -> Result<i32, Failure> {
    let store = open_required(cli)?;
    match command {
        HistoryCommand::List { filter, json } => {
            print_summaries(&store.list(&to_filter(filter)?).map_err(db)?, *json);
        }
        HistoryCommand::Search {
            query,
            filter,
            json,
        } => {
            print_summaries(
                &store.search(query, &to_filter(filter)?).map_err(db)?,
                *json,
            );
        }
        HistoryCommand::Show { id, json } => {
            let record = get(&store, *id)?;
            // A sweep's variant shows the whole sweep, side by side.
            if let Some(sweep) = &record.sweep {
                let (varied, runs) = store
                    .sweep(sweep.id)
                    .map_err(db)?
                    .unwrap_or_else(|| (sweep.varied.clone(), vec![record.clone()]));
                if *json {
                    let value = json!({"sweep_id": sweep.id, "varied": varied, "runs": runs});
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&value).unwrap_or_default()
                    );
                } else {
                    print!("{}", export::sweep_markdown(sweep.id, &varied, &runs));
                }
                return Ok(0);
            }
            if *json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&record).unwrap_or_default()
                );
            } else {
                print!("{}", export::to_markdown(std::slice::from_ref(&record)));
            }
        }
        HistoryCommand::Export {
            ids,
            all,
            sweep,
            format,
            output,
        } => {
            let records: Vec<RunRecord> = if let Some(sweep) = sweep {
                store
                    .sweep(*sweep)
                    .map_err(db)?
                    .map(|(_, runs)| runs)
                    .ok_or_else(|| Failure::bad_input(format!("no sweep {sweep}")))?
            } else if *all {
                let rows = store
                    .list(&Filter {
                        limit: usize::MAX >> 1,
                        ..Filter::default()
                    })
                    .map_err(db)?;
                rows.iter()
                    .rev()
                    .map(|r| get(&store, r.id))
                    .collect::<Result<_, _>>()?
            } else if ids.is_empty() {
                return Err(Failure::bad_input("name the runs to export, or pass --all"));
            } else {
                ids.iter()
                    .map(|id| get(&store, *id))
                    .collect::<Result<_, _>>()?
            };
            let text = match format.as_str() {
                "json" => export::to_json(&records) + "\n",
                "jsonl" => export::to_jsonl(&records),
                _ => export::to_markdown(&records),
            };
            match output {
                Some(path) => std::fs::write(path, text).map_err(|e| {
                    Failure::bad_input(format!("cannot write {}: {e}", path.display()))
                })?,
                None => print!("{text}"),
            }
        }
        HistoryCommand::Replay { id, json } => return replay(&store, *id, *json, cli),
        HistoryCommand::Star { id, off } => {
            if !store.set_starred(*id, !off).map_err(db)? {
                return Err(Failure::bad_input(format!("no run {id}")));
            }
        }
        HistoryCommand::Note { id, text } => {
            if !store.set_note(*id, text).map_err(db)? {
                return Err(Failure::bad_input(format!("no run {id}")));
            }
        }
        HistoryCommand::Rm { id } => {
            if !store.delete(*id).map_err(db)? {
                return Err(Failure::bad_input(format!("no run {id}")));
            }
        }
    }
    Ok(0)
}

fn get(store: &Store, id: i64) -> Result<RunRecord, Failure> {
    store
        .get(id)
        .map_err(db)?
        .ok_or_else(|| Failure::bad_input(format!("no run {id} in the history")))
}

fn replay(store: &Store, id: i64, json: bool, cli: &Cli) -> Result<i32, Failure> {
    let record = get(store, id)?;
    let mut load = cli.load.clone();
    if load.model.is_none() {
        load.model = Some(PathBuf::from(&record.run.model_path));
    }
    let options = load.to_options().map_err(Failure::bad_input)?;
    let (engine, mut events, info): (_, _, ModelInfo) = start_engine(&options)?;
    let request: GenerateRequest = record.run.request();
    let id_sent = engine.generate(request.clone());
    let text = loop {
        match events.blocking_recv() {
            Some(EngineEvent::Finished { id: got, finished }) if got == id_sent => {
                break finished.text
            }
            Some(EngineEvent::Failed { id: got, error }) if got == id_sent => {
                return Err(error.into())
            }
            Some(_) => {}
            None => return Err(crate::engine::EngineError::WorkerGone.into()),
        }
    };
    let difference = first_difference(&record.output, &text);
    if json {
        println!(
            "{}",
            json!({"id": id, "matched": difference.is_none(), "first_difference": difference, "text": text, "recorded": record.output, "model": info.name})
        );
    } else {
        println!("{text}");
        match difference {
            None => eprintln!("replay of run {id}: matched the recorded text exactly"),
            Some(at) => {
                eprintln!("replay of run {id}: differs from the recorded text at character {at}")
            }
        }
    }
    Ok(if difference.is_none() { 0 } else { 1 })
}
