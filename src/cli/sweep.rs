//! `refrain sweep`: one prompt, several sampler settings at once; each variant's text, stats,
//! sentiment and diversity, and every variant recorded in history under one sweep id.

use std::io::Write;

use serde_json::json;

use super::run::{build_prompt, watch_signals};
use super::{start_engine, Failure, LoadArgs, SweepArgs};
use crate::analysis::diversity::diversity;
use crate::config::presets::Preset;
use crate::engine::sweep_plan::{plan, varied, PlannedVariant, SweepAxis, SweepParam};
use crate::engine::{
    EngineEvent, GenerateRequest, RunFinished, SamplerParams, StopReason, SweepRequest,
};
use crate::store::recorder::{lexicon_record, Recorder};
use crate::store::{NewRun, RunStatus, Store, SweepLink};

/// Exit code when a signal interrupted the sweep.
const EXIT_INTERRUPTED: i32 = 130;

/// The variants a sweep's flags ask for, over `base` (config, preset and root flags merged).
pub fn planned(args: &SweepArgs, base: &SamplerParams) -> Result<Vec<PlannedVariant>, String> {
    let mut base = base.clone();
    if let Some(max_tokens) = args.max_tokens {
        base.max_tokens = max_tokens;
    }
    if let Some(penalty) = args.repeat_penalty {
        base.repeat_penalty = penalty;
    }
    if !args.stop.is_empty() {
        base.stop = args.stop.clone();
    }
    let lists = [
        (SweepParam::Temperature, &args.temperature),
        (SweepParam::Seed, &args.seeds),
        (SweepParam::TopP, &args.top_p),
        (SweepParam::MinP, &args.min_p),
        (SweepParam::TopK, &args.top_k),
    ];
    let axes = lists
        .iter()
        .filter_map(|(param, list)| list.as_ref().map(|l| SweepAxis::parse(*param, l)))
        .collect::<Result<Vec<_>, _>>()?;
    plan(&base, &axes, crate::engine::random_seed())
}

pub fn sweep(
    args: &SweepArgs,
    load: &LoadArgs,
    base: &SamplerParams,
    preset: Option<&Preset>,
    history: Option<&Store>,
) -> Result<i32, Failure> {
    let variants = planned(args, base).map_err(Failure::bad_input)?;
    let prompt = build_prompt(&args.input, preset)?;
    let options = load.to_options().map_err(Failure::bad_input)?;
    let (engine, mut events, info) = start_engine(&options)?;
    let id = engine.sweep(SweepRequest {
        prompt: prompt.clone(),
        variants: variants.iter().map(|v| v.sampler.clone()).collect(),
    });
    let interrupted = watch_signals(engine.canceller(), id);
    let warn = |error: crate::store::StoreError| eprintln!("refrain: history: {error}");
    let mut recorders: Vec<Recorder> = variants.iter().map(|_| Recorder::default()).collect();
    let mut run_ids: Vec<Option<i64>> = vec![None; variants.len()];
    let mut sweep_id: Option<i64> = None;
    let mut results: Vec<Option<RunFinished>> = vec![None; variants.len()];
    let show_progress = !args.quiet && !args.json;

    while let Some(event) = events.blocking_recv() {
        if event.id() != id {
            continue;
        }
        match event {
            EngineEvent::SweepStarted { started, seeds, .. } => {
                let Some(store) = history else { continue };
                match store.begin_sweep(&varied(&variants)) {
                    Ok(new_sweep) => sweep_id = Some(new_sweep),
                    Err(error) => warn(error),
                }
                for (index, variant) in variants.iter().enumerate() {
                    let mut started = started.clone();
                    started.seed = seeds[index];
                    let request = GenerateRequest {
                        prompt: prompt.clone(),
                        sampler: variant.sampler.clone(),
                    };
                    let run = NewRun::new(&info, &request, &started);
                    match recorders[index].started(store, &run) {
                        Ok(run_id) => {
                            run_ids[index] = Some(run_id);
                            if let Some(sweep) = sweep_id {
                                let link = SweepLink {
                                    id: sweep,
                                    index: index as u32,
                                };
                                if let Err(error) = store.link_to_sweep(run_id, link) {
                                    warn(error);
                                }
                            }
                        }
                        Err(error) => warn(error),
                    }
                }
            }
            EngineEvent::SweepToken { variant, text, .. } => {
                if let Some(store) = history {
                    if let Err(error) = recorders[variant].token(store, &text) {
                        warn(error);
                    }
                }
            }
            EngineEvent::SweepVariantFinished {
                variant, finished, ..
            } => {
                if let Some(store) = history {
                    let sentiment = lexicon_record(&finished.text);
                    if let Err(error) =
                        recorders[variant].finished(store, &finished, Some(&sentiment))
                    {
                        warn(error);
                    }
                }
                if show_progress {
                    let done = results.iter().filter(|r| r.is_some()).count() + 1;
                    eprintln!(
                        "refrain: [{done}/{}] {} — {} tokens, {}",
                        variants.len(),
                        variants[variant].label(),
                        finished.stats.generated_tokens,
                        finished.stop_reason
                    );
                }
                results[variant] = Some(finished);
            }
            EngineEvent::SweepFinished { summary, .. } => {
                let finished: Vec<RunFinished> = results.into_iter().flatten().collect();
                let texts: Vec<&str> = finished.iter().map(|f| f.text.as_str()).collect();
                let metrics = diversity(&texts);
                let mut stdout = std::io::stdout().lock();
                let mut write = |text: String| {
                    let _ = stdout.write_all(text.as_bytes());
                };
                if args.json {
                    for (index, (variant, result)) in variants.iter().zip(&finished).enumerate() {
                        let sentiment = lexicon_record(&result.text);
                        let settings: serde_json::Map<String, serde_json::Value> = variant
                            .settings
                            .iter()
                            .map(|(param, value)| (param.name().to_owned(), json!(value)))
                            .collect();
                        write(format!(
                            "{}\n",
                            json!({
                                "type": "variant",
                                "index": index,
                                "run_id": run_ids[index],
                                "varied": settings,
                                "sampler": variant.sampler,
                                "text": result.text,
                                "stop_reason": result.stop_reason,
                                "seed": result.seed,
                                "stats": result.stats,
                                "metrics": {
                                    "distinct_1": metrics.distinct_1.get(index),
                                    "distinct_2": metrics.distinct_2.get(index),
                                    "overlap": metrics.overlap.get(index),
                                    "sentiment": sentiment.lexicon_mean,
                                },
                            })
                        ));
                    }
                    write(format!(
                        "{}\n",
                        json!({
                            "type": "summary",
                            "sweep_id": sweep_id,
                            "varied": varied(&variants),
                            "model": info.name,
                            "prompt_tokens": summary.prompt_tokens,
                            "prompt_eval_ms": summary.prompt_eval_time.as_secs_f64() * 1000.0,
                            "generated_tokens": summary.generated_tokens,
                            "generation_ms": summary.generation_time.as_secs_f64() * 1000.0,
                            "tokens_per_second": summary.tokens_per_second,
                            "mean_overlap": metrics.mean_overlap,
                            "self_bleu": metrics.self_bleu,
                        })
                    ));
                } else {
                    for (index, (variant, result)) in variants.iter().zip(&finished).enumerate() {
                        write(format!(
                            "{}── [{}] {} ──\n{}\n",
                            if index == 0 { "" } else { "\n" },
                            index + 1,
                            variant.label(),
                            result.text.trim_end()
                        ));
                    }
                    if !args.quiet {
                        eprintln!("{}", table(&variants, &finished, &metrics));
                        eprintln!(
                            "sweep{}: {} variants, {} tokens at {:.1} tok/s together; prompt {} tokens read once in {:.0} ms",
                            sweep_id.map(|s| format!(" {s}")).unwrap_or_default(),
                            variants.len(),
                            summary.generated_tokens,
                            summary.tokens_per_second,
                            summary.prompt_tokens,
                            summary.prompt_eval_time.as_secs_f64() * 1000.0
                        );
                    }
                }
                let interrupted = interrupted.load(std::sync::atomic::Ordering::SeqCst);
                let cancelled = finished
                    .iter()
                    .any(|f| f.stop_reason == StopReason::Cancelled);
                return Ok(if interrupted && cancelled {
                    EXIT_INTERRUPTED
                } else {
                    0
                });
            }
            EngineEvent::Failed { error, .. } => {
                if let Some(store) = history {
                    for recorder in &mut recorders {
                        let _ = recorder.abandoned(
                            store,
                            RunStatus::after(&error),
                            Some(error.to_string()),
                        );
                    }
                }
                return Err(error.into());
            }
            _ => {}
        }
    }
    Err(crate::engine::EngineError::WorkerGone.into())
}

/// Per-variant numbers and the pairwise overlap, for stderr.
fn table(
    variants: &[PlannedVariant],
    finished: &[RunFinished],
    metrics: &crate::analysis::diversity::Diversity,
) -> String {
    let number = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| format!("{v:.2}"));
    let mut out = format!(
        "\n{:<4} {:<22} {:>6} {:>8} {:<18} {:>9} {:>6} {:>6}\n",
        "#", "settings", "tokens", "tok/s", "stop", "sentiment", "dist-1", "dist-2"
    );
    for (index, (variant, result)) in variants.iter().zip(finished).enumerate() {
        let sentiment = lexicon_record(&result.text).lexicon_mean;
        out.push_str(&format!(
            "{:<4} {:<22} {:>6} {:>8.1} {:<18} {:>9} {:>6} {:>6}\n",
            index + 1,
            variant.label(),
            result.stats.generated_tokens,
            result.stats.tokens_per_second,
            result.stop_reason.label(),
            sentiment.map_or_else(|| "n/a".to_owned(), |s| format!("{s:+.2}")),
            number(metrics.distinct_1.get(index).copied().flatten()),
            number(metrics.distinct_2.get(index).copied().flatten()),
        ));
    }
    out.push_str("\nshared 4-grams (Jaccard)\n     ");
    for index in 0..finished.len() {
        out.push_str(&format!("{:>6}", index + 1));
    }
    out.push('\n');
    for (row, values) in metrics.overlap.iter().enumerate() {
        out.push_str(&format!("{:<5}", row + 1));
        for value in values {
            out.push_str(&format!(
                "{:>6}",
                value.map_or_else(|| "·".to_owned(), |v| format!("{v:.2}"))
            ));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "mean overlap {} · self-BLEU {} (lower is more diverse)",
        number(metrics.mean_overlap),
        number(metrics.self_bleu)
    ));
    out
}
