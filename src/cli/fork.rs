//! `refrain fork`: generate, then continue the response from token N with another of the
//! tokens the model considered there — the studio's inspector fork, headless. Both runs are
//! recorded; the fork is linked to its parent.

use std::io::Write;

use serde_json::json;

use super::run::{build_prompt, openai_logprobs};
use super::{start_engine, Failure, ForkArgs, LoadArgs};
use crate::config::presets::Preset;
use crate::engine::inspect::TokenDetail;
use crate::engine::{
    EngineEvent, EngineHandle, ForkRequest, GenerateRequest, RequestId, RunFinished, RunStarted,
};
use crate::store::recorder::{lexicon_record, Recorder};
use crate::store::{ForkLink, NewRun, Store};

type Events = tokio::sync::mpsc::UnboundedReceiver<EngineEvent>;

/// Everything one generation (or fork) sent.
struct Outcome {
    started: Option<RunStarted>,
    details: Vec<TokenDetail>,
    finished: RunFinished,
}

fn collect(events: &mut Events, id: RequestId) -> Result<Outcome, Failure> {
    let (mut started, mut details) = (None, Vec::new());
    while let Some(event) = events.blocking_recv() {
        if event.id() != id {
            continue;
        }
        match event {
            EngineEvent::Started { started: s, .. } => started = Some(s),
            EngineEvent::TokenDetail { detail, .. } => details.push(detail),
            EngineEvent::Finished { finished, .. } => {
                return Ok(Outcome {
                    started,
                    details,
                    finished,
                })
            }
            EngineEvent::Failed { error, .. } => return Err(error.into()),
            _ => {}
        }
    }
    Err(crate::engine::EngineError::WorkerGone.into())
}

/// Records a finished run; its id.
fn record(
    store: &Store,
    info: &crate::engine::ModelInfo,
    request: &GenerateRequest,
    outcome: &Outcome,
) -> Option<i64> {
    let started = outcome.started.as_ref()?;
    let mut recorder = Recorder::default();
    let id = recorder
        .started(store, &NewRun::new(info, request, started))
        .ok()?;
    let sentiment = lexicon_record(&outcome.finished.text);
    recorder
        .finished(store, &outcome.finished, Some(&sentiment))
        .ok()?;
    Some(id)
}

pub fn fork(
    args: &ForkArgs,
    load: &LoadArgs,
    sampler: crate::engine::SamplerParams,
    preset: Option<&Preset>,
    history: Option<&Store>,
) -> Result<i32, Failure> {
    let prompt = build_prompt(&args.input, preset)?;
    let options = load.to_options().map_err(Failure::bad_input)?;
    let (engine, mut events, info) = start_engine(&options)?;
    let mut sampler = sampler;
    sampler.top_logprobs = Some(args.alternatives.max(2));
    let request = GenerateRequest { prompt, sampler };
    let parent = run(&engine, &mut events, |e| e.generate(request.clone()))?;
    let at = args.at as usize;
    let Some(detail) = parent.details.get(at) else {
        return Err(Failure::bad_input(format!(
            "the response has {} tokens; --at must be below that",
            parent.details.len()
        )));
    };
    let alternative = match args.alternative {
        Some(rank) => detail.top.get(rank as usize).cloned().ok_or_else(|| {
            Failure::bad_input(format!(
                "token {at} has {} alternatives; --alternative goes from 0 to {}",
                detail.top.len(),
                detail.top.len().saturating_sub(1)
            ))
        })?,
        // The most likely token other than the one written.
        None => detail
            .top
            .iter()
            .find(|a| a.token != detail.token)
            .cloned()
            .ok_or_else(|| Failure::bad_input("no other token was possible there"))?,
    };
    let fork_request = ForkRequest {
        request: request.clone(),
        prefix: parent.details[..at].iter().map(|d| d.token).collect(),
        token: alternative.token,
    };
    let child = run(&engine, &mut events, |e| e.fork(fork_request.clone()))?;
    let (mut parent_id, mut child_id) = (None, None);
    if let Some(store) = history {
        parent_id = record(store, &info, &request, &parent);
        child_id = record(store, &info, &request, &child);
        if let (Some(parent), Some(child)) = (parent_id, child_id) {
            let link = ForkLink {
                parent,
                index: at as u32,
            };
            if let Err(error) = store.link_fork(child, link) {
                eprintln!("refrain: history: {error}");
            }
        }
    }
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let side = |outcome: &Outcome, run_id: Option<i64>| {
            json!({
                "run_id": run_id,
                "text": outcome.finished.text,
                "stop_reason": outcome.finished.stop_reason,
                "seed": outcome.finished.seed,
                "stats": outcome.finished.stats,
                "logprobs": openai_logprobs(&outcome.details),
            })
        };
        let value = json!({
            "at": at,
            "written": detail.text,
            "written_probability": detail.probability,
            "alternative": alternative,
            "parent": side(&parent, parent_id),
            "fork": side(&child, child_id),
        });
        let _ = writeln!(stdout, "{value}");
    } else {
        let _ = writeln!(stdout, "{}", child.finished.text.trim_end());
        if !args.quiet {
            eprintln!(
                "refrain: forked at token {at}: {:?} ({:.3}) → {:?} ({:.3}); the parent went on:\n{}",
                detail.text,
                detail.probability,
                alternative.text,
                alternative.probability,
                parent.finished.text.trim_end()
            );
        }
    }
    Ok(0)
}

fn run(
    engine: &EngineHandle,
    events: &mut Events,
    send: impl FnOnce(&EngineHandle) -> RequestId,
) -> Result<Outcome, Failure> {
    let id = send(engine);
    collect(events, id)
}
