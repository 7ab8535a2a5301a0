//! `refrain bench`: llama-bench's pp/tg tests through refrain's engine.

use serde_json::json;

use super::{start_engine, BenchArgs, Failure, LoadArgs};
use crate::engine::{BenchRow, BenchSpec, EngineEvent, ModelInfo};

pub fn bench(args: &BenchArgs, load: &LoadArgs) -> Result<i32, Failure> {
    let mut options = load.to_options().map_err(Failure::bad_input)?;
    // As llama-bench: a context just big enough for the tests, and a 2048-token batch.
    options.context_size = (args.prompt_tokens + args.generate_tokens).max(256);
    if load.batch_size.is_none() {
        options.batch_size = 2048;
    }
    let (engine, mut events, info) = start_engine(&options)?;
    let id = engine.bench(BenchSpec {
        prompt_tokens: args.prompt_tokens,
        generate_tokens: args.generate_tokens,
        repetitions: args.repetitions.max(1),
    });
    if !args.json {
        println!("{}", table_header());
    }
    let mut rows = Vec::new();
    while let Some(event) = events.blocking_recv() {
        match event {
            EngineEvent::BenchRow { id: got, row } if got == id => {
                if !args.json {
                    println!("{}", table_row(&info, &row));
                }
                rows.push(row);
            }
            EngineEvent::BenchDone { id: got } if got == id => {
                if args.json {
                    let rows: Vec<_> = rows
                        .iter()
                        .map(|row| {
                            json!({
                                "test": row.test,
                                "tokens": row.tokens,
                                "samples": row.samples,
                                "mean": row.mean(),
                                "stddev": row.stddev(),
                                "min": row.min(),
                                "median": row.median(),
                            })
                        })
                        .collect();
                    println!(
                        "{}",
                        json!({
                            "model": info.name,
                            "quantization": info.quantization,
                            "threads": info.threads,
                            "gpu_layers": info.gpu_layers_offloaded,
                            "llama_cpp_2": LLAMA_CPP_2_VERSION,
                            "rows": rows,
                        })
                    );
                }
                return Ok(0);
            }
            EngineEvent::Failed { id: got, error } if got == id => return Err(error.into()),
            _ => {}
        }
    }
    Err(crate::engine::EngineError::WorkerGone.into())
}

/// The llama-cpp-2 crate version this binary was built with (its vendored llama.cpp follows it).
pub const LLAMA_CPP_2_VERSION: &str = "0.1.160";

fn table_header() -> String {
    "| model | size | params | backend | threads | test | t/s | min | median |\n\
     | ----- | ---: | -----: | ------- | ------: | ---: | --: | --: | -----: |"
        .to_owned()
}

fn table_row(info: &ModelInfo, row: &BenchRow) -> String {
    let backend = if info.gpu_layers_offloaded > 0 {
        "GPU"
    } else {
        "CPU"
    };
    format!(
        "| {arch} {quant} | {size:.2} MiB | {params:.2} M | {backend} | {threads} | {test} | {mean:.2} ± {sd:.2} | {min:.2} | {median:.2} |",
        arch = info.architecture,
        quant = info.quantization,
        size = info.size_bytes as f64 / (1024.0 * 1024.0),
        params = info.parameters as f64 / 1e6,
        threads = info.threads,
        test = row.test,
        mean = row.mean(),
        sd = row.stddev(),
        min = row.min(),
        median = row.median(),
    )
}

/// The prompt `bench --ui` generates from; long answers, so the rate settles.
const UI_BENCH_PROMPT: &str =
    "Write a long song about a lighthouse keeper, with verses and a chorus.";

/// The long, seeded request the studio and inspector comparisons generate from.
fn song_request(args: &BenchArgs) -> crate::engine::GenerateRequest {
    use crate::engine::{GenerateRequest, Prompt, SamplerParams};
    GenerateRequest {
        prompt: Prompt::Chat {
            system: None,
            user: UI_BENCH_PROMPT.into(),
            template: None,
        },
        sampler: SamplerParams {
            seed: Some(7),
            max_tokens: args.generate_tokens.max(16),
            ..SamplerParams::default()
        },
    }
}

/// `refrain bench --ui`: the same generation with and without the studio's update + draw loop
/// running beside it. Reports the engine's decode rate and the rate the UI saw.
pub fn bench_ui(args: &BenchArgs, load: &LoadArgs) -> Result<i32, Failure> {
    let options = load.to_options().map_err(Failure::bad_input)?;
    let (engine, mut events, info) = start_engine(&options)?;
    let request = song_request(args);
    let mut plain = Vec::new();
    let mut studio = Vec::new();
    let mut frames = 0usize;
    for _ in 0..args.repetitions.max(1) {
        plain.push(plain_rate(&engine, &mut events, &request)?);
        let (rate, drawn) = studio_rate(&engine, &mut events, &request)?;
        studio.push(rate);
        frames += drawn;
    }
    let tokens = request.sampler.max_tokens;
    let ratio = report_pair(
        args.json,
        &info,
        ("plain", "generate (refrain run)", plain),
        ("studio", "generate in the studio", studio),
        tokens,
        json!({"frames_drawn": frames}),
    );
    if !args.json {
        println!("studio / plain (median): {ratio:.3} · {frames} frames drawn");
    }
    Ok(0)
}

/// Two rows of the same test, `(json key, table name, samples)`: as JSON (with `extra`) or
/// as a llama-bench table. Returns the ratio of their medians, second over first.
fn report_pair(
    as_json: bool,
    info: &ModelInfo,
    first: (&str, &str, Vec<f64>),
    second: (&str, &str, Vec<f64>),
    tokens: u32,
    extra: serde_json::Value,
) -> f64 {
    let row = |name: &str, samples: Vec<f64>| BenchRow {
        test: name.to_owned(),
        tokens,
        samples,
    };
    let (first_key, second_key) = (first.0, second.0);
    let first = row(first.1, first.2);
    let second = row(second.1, second.2);
    let ratio = second.median() / first.median().max(f64::EPSILON);
    if as_json {
        let mut value = json!({
            "model": info.name,
            "threads": info.threads,
            first_key: {"samples": first.samples, "median": first.median()},
            second_key: {"samples": second.samples, "median": second.median()},
            "ratio": ratio,
        });
        if let (Some(object), Some(more)) = (value.as_object_mut(), extra.as_object()) {
            object.extend(more.clone());
        }
        println!("{value}");
    } else {
        println!("{}", table_header());
        println!("{}", table_row(info, &first));
        println!("{}", table_row(info, &second));
    }
    ratio
}

type Events = tokio::sync::mpsc::UnboundedReceiver<EngineEvent>;

fn plain_rate(
    engine: &crate::engine::EngineHandle,
    events: &mut Events,
    request: &crate::engine::GenerateRequest,
) -> Result<f64, Failure> {
    let id = engine.generate(request.clone());
    while let Some(event) = events.blocking_recv() {
        match event {
            EngineEvent::Finished { id: got, finished } if got == id => {
                return Ok(finished.stats.tokens_per_second)
            }
            EngineEvent::Failed { id: got, error } if got == id => return Err(error.into()),
            _ => {}
        }
    }
    Err(crate::engine::EngineError::WorkerGone.into())
}

/// Runs the request through the studio's `update` and draws frames as the studio does;
/// returns the decode rate the engine measured meanwhile, and the frames drawn.
fn studio_rate(
    engine: &crate::engine::EngineHandle,
    events: &mut Events,
    request: &crate::engine::GenerateRequest,
) -> Result<(f64, usize), Failure> {
    use std::time::Instant;

    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    use crate::tui::state::{ModelState, RunState, State};
    use crate::tui::update::{resize, update, Msg};
    use crate::tui::{
        fixtures, panes,
        theme::{Theme, ThemeName},
        FRAME_INTERVAL,
    };

    let mut state = State::new(request.sampler.clone(), Theme::named(ThemeName::Dark));
    resize(&mut state, 120, 40);
    state.model = ModelState::Ready(Box::new(fixtures::model_info()));
    state.run = RunState::Requested;
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).map_err(|e| Failure {
        message: e.to_string(),
        exit_code: 1,
    })?;
    // As the studio sends it: with token probabilities for the inspector, heat colouring on.
    let mut request = request.clone();
    request.sampler.top_logprobs = Some(crate::tui::inspector::ALTERNATIVES);
    state.inspector.heat = true;
    let id = engine.generate(request);
    update(&mut state, Msg::GenerationSent(id));
    let mut frames = 0;
    let mut last_draw = Instant::now();
    while let Some(event) = events.blocking_recv() {
        let finished = match &event {
            EngineEvent::Finished { id: got, finished } if *got == id => {
                Some(finished.stats.tokens_per_second)
            }
            EngineEvent::Failed { id: got, error } if *got == id => {
                return Err(error.clone().into())
            }
            _ => None,
        };
        update(&mut state, Msg::Engine(event));
        if last_draw.elapsed() >= FRAME_INTERVAL || finished.is_some() {
            let _ = terminal.draw(|frame| panes::draw(frame, &state));
            frames += 1;
            last_draw = Instant::now();
        }
        if let Some(rate) = finished {
            return Ok((rate, frames));
        }
    }
    Err(crate::engine::EngineError::WorkerGone.into())
}

/// `refrain bench --sweep N`: N variants as one sweep against the same N as separate runs.
/// Both read the prompt and generate `--n-gen` tokens per variant (end of generation is not
/// allowed to stop them early, so the token counts match); the ratio of total tokens/s is
/// what sharing the prompt cache and batching the variants buys.
pub fn bench_sweep(args: &BenchArgs, ways: usize, load: &LoadArgs) -> Result<i32, Failure> {
    use crate::engine::{GenerateRequest, Prompt, SamplerParams, SweepRequest};
    use std::time::{Duration, Instant};

    if !(2..=crate::engine::MAX_SWEEP_VARIANTS).contains(&ways) {
        return Err(Failure::bad_input(format!(
            "--sweep takes 2 to {} variants",
            crate::engine::MAX_SWEEP_VARIANTS
        )));
    }
    let options = load.to_options().map_err(Failure::bad_input)?;
    let (engine, mut events, info) = start_engine(&options)?;
    let prompt = Prompt::Raw(UI_BENCH_PROMPT.repeat(4));
    let variants: Vec<SamplerParams> = (0..ways)
        .map(|i| SamplerParams {
            temperature: 0.6 + 0.6 * i as f32 / (ways - 1) as f32,
            seed: Some(7),
            max_tokens: args.generate_tokens.max(16),
            // A raw completion rarely ends early; a logit bias is not exposed, so count tokens.
            ..SamplerParams::default()
        })
        .collect();
    let mut sequential = Vec::new();
    let mut swept = Vec::new();
    let mut tokens = (0u32, 0u32);
    for _ in 0..args.repetitions.max(1) {
        let started = Instant::now();
        let mut generated = 0;
        for sampler in &variants {
            let id = engine.generate(GenerateRequest {
                prompt: prompt.clone(),
                sampler: sampler.clone(),
            });
            loop {
                match events.blocking_recv() {
                    Some(EngineEvent::Finished { id: got, finished }) if got == id => {
                        generated += finished.stats.generated_tokens;
                        break;
                    }
                    Some(EngineEvent::Failed { id: got, error }) if got == id => {
                        return Err(error.into())
                    }
                    Some(_) => {}
                    None => return Err(crate::engine::EngineError::WorkerGone.into()),
                }
            }
        }
        sequential.push(f64::from(generated) / started.elapsed().as_secs_f64());
        tokens.0 = generated;

        let started = Instant::now();
        let id = engine.sweep(SweepRequest {
            prompt: prompt.clone(),
            variants: variants.clone(),
        });
        loop {
            match events.blocking_recv() {
                Some(EngineEvent::SweepFinished { id: got, summary }) if got == id => {
                    let elapsed = started.elapsed().max(Duration::from_micros(1));
                    swept.push(f64::from(summary.generated_tokens) / elapsed.as_secs_f64());
                    tokens.1 = summary.generated_tokens;
                    break;
                }
                Some(EngineEvent::Failed { id: got, error }) if got == id => {
                    return Err(error.into())
                }
                Some(_) => {}
                None => return Err(crate::engine::EngineError::WorkerGone.into()),
            }
        }
    }
    let row = |name: String, samples: Vec<f64>, tokens: u32| BenchRow {
        test: name,
        tokens,
        samples,
    };
    let sequential = row(
        format!("{ways} runs one after another"),
        sequential,
        tokens.0,
    );
    let swept = row(format!("{ways}-way sweep"), swept, tokens.1);
    let ratio = swept.median() / sequential.median().max(f64::EPSILON);
    if args.json {
        println!(
            "{}",
            json!({
                "model": info.name,
                "threads": info.threads,
                "ways": ways,
                "tokens_per_variant": args.generate_tokens,
                "sequential": {"tokens": sequential.tokens, "samples": sequential.samples, "median": sequential.median()},
                "sweep": {"tokens": swept.tokens, "samples": swept.samples, "median": swept.median()},
                "ratio": ratio,
            })
        );
    } else {
        println!("{}", table_header());
        println!("{}", table_row(&info, &sequential));
        println!("{}", table_row(&info, &swept));
        println!(
            "\nsweep / sequential (total tokens/s, prompt reading included): {ratio:.2}× \
             ({} vs {} tokens)",
            swept.tokens, sequential.tokens
        );
    }
    Ok(0)
}

/// `refrain bench --inspector`: the cost of the token inspector (probabilities, 5 alternatives,
/// entropy and stage counts for every token) on generation speed.
pub fn bench_inspector(args: &BenchArgs, load: &LoadArgs) -> Result<i32, Failure> {
    let options = load.to_options().map_err(Failure::bad_input)?;
    let (engine, mut events, info) = start_engine(&options)?;
    let plain = song_request(args);
    let mut inspected = plain.clone();
    inspected.sampler.top_logprobs = Some(5);
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for _ in 0..args.repetitions.max(1) {
        without.push(plain_rate(&engine, &mut events, &plain)?);
        with.push(plain_rate(&engine, &mut events, &inspected)?);
    }
    let ratio = report_pair(
        args.json,
        &info,
        ("without", "generate", without),
        ("with", "generate + inspector", with),
        plain.sampler.max_tokens,
        json!({}),
    );
    if !args.json {
        println!(
            "\ninspector on / off: {ratio:.3} (slowdown {:.1} %)",
            (1.0 - ratio) * 100.0
        );
    }
    Ok(0)
}
