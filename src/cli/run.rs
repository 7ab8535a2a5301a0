//! `refrain run`: one generation, streamed to stdout.

use std::io::{IsTerminal, Read, Write};

use serde_json::json;

use super::{start_engine, Failure, LoadArgs, RunArgs};
use crate::config::presets::Preset;
use crate::engine::{EngineEvent, GenerateRequest, Prompt, RunFinished, StopReason};
use crate::store::recorder::{lexicon_record, Recorder};
use crate::store::{NewRun, RunStatus, Store};

/// The prompt of a run or sweep: the PROMPT argument (or stdin), else the preset's template
/// filled from `--var`; the system prompt from `--system`, else the preset's.
pub(super) fn build_prompt(
    input: &super::PromptArgs,
    preset: Option<&Preset>,
) -> Result<Prompt, Failure> {
    let prompt_text = match (
        input.prompt.as_deref(),
        preset.and_then(|p| p.prompt.as_ref()),
    ) {
        (Some("-"), _) => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|error| {
                    Failure::bad_input(format!("could not read the prompt from stdin: {error}"))
                })?;
            text
        }
        (Some(prompt), _) => prompt.to_owned(),
        (None, Some(template)) => fill_blanks(template, &input.vars, preset)?,
        (None, None) => {
            return Err(Failure::bad_input(
                "no prompt: give one (or '-' to read stdin), or a prompt preset with --preset \
                 (`refrain presets` lists them)",
            ))
        }
    };
    let system = match (&input.system, preset.and_then(|p| p.system.as_ref())) {
        (Some(system), _) => Some(system.clone()),
        (None, Some(template)) => Some(fill_blanks(template, &input.vars, preset)?),
        (None, None) => None,
    };
    let prompt = if input.raw {
        Prompt::Raw(prompt_text)
    } else {
        Prompt::Chat {
            system,
            user: prompt_text,
            template: input.template.clone(),
        }
    };
    Ok(prompt)
}

/// A preset template with every blank filled from `--var`, or which ones are missing.
fn fill_blanks(
    template: &str,
    vars: &[(String, String)],
    preset: Option<&Preset>,
) -> Result<String, Failure> {
    crate::config::presets::fill(template, vars).map_err(|missing| {
        let name = preset.map_or("the preset", |p| p.name.as_str());
        let flags: Vec<String> = missing.iter().map(|m| format!("--var {m}=…")).collect();
        Failure::bad_input(format!("{name} has blanks to fill: {}", flags.join(" ")))
    })
}

/// Exit code when the run was interrupted by a signal (as shells report SIGINT).
const EXIT_INTERRUPTED: i32 = 130;

pub fn run(
    args: &RunArgs,
    load: &LoadArgs,
    preset: Option<&Preset>,
    history: Option<&Store>,
) -> Result<i32, Failure> {
    let prompt = build_prompt(&args.input, preset)?;
    let options = load.to_options().map_err(Failure::bad_input)?;
    let (engine, mut events, info) = start_engine(&options)?;
    if options.gpu_layers != crate::engine::GpuLayers::Count(0) && !info.gpu_offload_supported {
        eprintln!("refrain: {}", crate::engine::no_gpu_hint());
    }
    let mut sampler = args.sampler.to_params();
    sampler.top_logprobs = args.logprobs;
    let request = GenerateRequest { prompt, sampler };
    let mut details: Vec<crate::engine::inspect::TokenDetail> = Vec::new();
    let id = engine.generate(request.clone());
    let mut recorder = Recorder::default();
    // Hashing a model file is slow the first time: do it beside the generation.
    let mut fingerprint = history.map(|store| {
        let (path, model) = (store.path().to_path_buf(), info.path.clone());
        std::thread::spawn(move || Store::open(&path).ok()?.fingerprint(&model).ok()?)
    });
    let warn = |error: crate::store::StoreError| eprintln!("refrain: history: {error}");
    let interrupted = watch_signals(engine.canceller(), id);

    let mut stdout = std::io::stdout().lock();
    let mut write = |text: &str| {
        // A closed pipe (`| head`) is the reader's choice, not our error.
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    };
    while let Some(event) = events.blocking_recv() {
        if event.id() != id {
            continue;
        }
        if let Some(store) = history {
            let result = match &event {
                EngineEvent::Started { started, .. } => recorder
                    .started(store, &NewRun::new(&info, &request, started))
                    .map(drop),
                EngineEvent::Token { text, .. } => recorder.token(store, text),
                EngineEvent::Finished { finished, .. } => {
                    let run_id = recorder.run_id();
                    let result =
                        recorder.finished(store, finished, Some(&lexicon_record(&finished.text)));
                    let digest = fingerprint
                        .take()
                        .and_then(|hashing| await_fingerprint(hashing, &interrupted));
                    if let (Some(run_id), Some(digest)) = (run_id, digest) {
                        let _ = store.set_fingerprint(run_id, &digest);
                    }
                    result
                }
                EngineEvent::Failed { error, .. } => {
                    recorder.abandoned(store, RunStatus::after(error), Some(error.to_string()))
                }
                _ => Ok(()),
            };
            if let Err(error) = result {
                warn(error);
            }
        }
        match event {
            EngineEvent::Started { started, .. } if args.json => write(&format!(
                "{}\n",
                json!({
                    "type": "start",
                    "model": info.name,
                    "prompt_tokens": started.prompt_tokens,
                    "context_size": started.context_size,
                    "seed": started.seed,
                    "template": started.template,
                })
            )),
            EngineEvent::TokenDetail { detail, .. } => details.push(detail),
            EngineEvent::Token {
                text, generated, ..
            } => {
                if args.json {
                    write(&format!(
                        "{}\n",
                        json!({"type": "token", "text": text, "index": generated - 1})
                    ));
                } else {
                    write(&text);
                }
            }
            EngineEvent::Finished { finished, .. } => {
                if args.json {
                    write(&format!(
                        "{}\n",
                        json!({
                            "type": "done",
                            "text": finished.text,
                            "stop_reason": finished.stop_reason,
                            "seed": finished.seed,
                            "stats": finished.stats,
                            "model": info,
                            "logprobs": args.logprobs.map(|_| openai_logprobs(&details)),
                        })
                    ));
                } else if !finished.text.ends_with('\n') && std::io::stdout().is_terminal() {
                    write("\n");
                }
                if !args.quiet {
                    eprintln!("{}", stats_line(&finished));
                }
                if args.logprobs.is_some() && !args.json {
                    eprint!("{}", logprob_table(&details));
                }
                let interrupted = interrupted.load(std::sync::atomic::Ordering::SeqCst);
                return Ok(
                    if finished.stop_reason == StopReason::Cancelled && interrupted {
                        EXIT_INTERRUPTED
                    } else {
                        0
                    },
                );
            }
            EngineEvent::Failed { error, .. } => return Err(error.into()),
            _ => {}
        }
    }
    Err(crate::engine::EngineError::WorkerGone.into())
}

/// How long the end of a run waits for a first-time model hash (a 100 MB model takes well
/// under a second; a 50 GB one is not worth the wait: its next run finds it cached or tries again).
const FINGERPRINT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The model's fingerprint if hashing finishes within `FINGERPRINT_WAIT`; Ctrl+C stops waiting.
fn await_fingerprint(
    hashing: std::thread::JoinHandle<Option<String>>,
    interrupted: &std::sync::atomic::AtomicBool,
) -> Option<String> {
    let started = std::time::Instant::now();
    while !hashing.is_finished() {
        if started.elapsed() > FINGERPRINT_WAIT
            || interrupted.load(std::sync::atomic::Ordering::SeqCst)
        {
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    hashing.join().ok().flatten()
}

/// Token details in the OpenAI chat-completions `logprobs` shape (`content[].token`,
/// `logprob`, `bytes`, `top_logprobs[]`), with refrain's extras beside them (`token_id`,
/// `probability`, `sampler_probability`, `entropy`, `stages`).
pub fn openai_logprobs(details: &[crate::engine::inspect::TokenDetail]) -> serde_json::Value {
    let content: Vec<serde_json::Value> = details
        .iter()
        .map(|d| {
            json!({
                "token": d.text,
                "logprob": d.logprob,
                "bytes": d.bytes,
                "top_logprobs": d.top.iter().map(|a| json!({
                    "token": a.text,
                    "logprob": a.logprob,
                    "bytes": a.bytes,
                    "token_id": a.token,
                })).collect::<Vec<_>>(),
                "token_id": d.token,
                "index": d.index,
                "probability": d.probability,
                "sampler_probability": d.sampler_probability,
                "entropy": d.entropy,
                "stages": d.stages,
            })
        })
        .collect();
    json!({ "content": content })
}

/// One line per token: its probability, the distribution's entropy, the stage counts and the
/// alternatives.
fn logprob_table(details: &[crate::engine::inspect::TokenDetail]) -> String {
    let mut out = String::from("\n   # token              p     H  kept        alternatives\n");
    for d in details {
        let kept = d
            .stages
            .last()
            .map(|s| s.candidates.to_string())
            .unwrap_or_default();
        let alternatives: Vec<String> = d
            .top
            .iter()
            .filter(|a| a.token != d.token)
            .map(|a| format!("{:?} {:.2}", a.text, a.probability))
            .collect();
        out.push_str(&format!(
            "{:>4} {:<16} {:>5.2} {:>5.2}  {:<10} {}\n",
            d.index,
            format!("{:?}", d.text),
            d.probability,
            d.entropy,
            kept,
            alternatives.join(", ")
        ));
    }
    out
}

/// The stats line printed to stderr after a run.
pub fn stats_line(finished: &RunFinished) -> String {
    let stats = &finished.stats;
    format!(
        "[{stop}] prompt {pt} tok in {pe:.0} ms ({pps:.1} tok/s) · first token {ttft:.0} ms · \
         {gt} tok at {tps:.1} tok/s · context {used}/{size} · load {load:.0} ms · seed {seed}",
        stop = finished.stop_reason,
        pt = stats.prompt_tokens,
        pe = stats.prompt_eval_time.as_secs_f64() * 1000.0,
        pps = stats.prompt_tokens_per_second,
        ttft = stats.time_to_first_token.as_secs_f64() * 1000.0,
        gt = stats.generated_tokens,
        tps = stats.tokens_per_second,
        used = stats.context_used,
        size = stats.context_size,
        load = stats.load_time.as_secs_f64() * 1000.0,
        seed = finished.seed,
    )
}

/// Ctrl+C, SIGTERM and SIGHUP cancel the generation; what was written stays printed.
pub(super) fn watch_signals(
    canceller: crate::engine::Canceller,
    id: crate::engine::RequestId,
) -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let interrupted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    if let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
        let flag = interrupted.clone();
        std::thread::spawn(move || {
            if signals.forever().next().is_some() {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
                canceller.cancel(id);
            }
        });
    }
    interrupted
}
