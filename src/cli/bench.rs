//! `refrain bench`: llama-bench's pp/tg tests through refrain's engine.

use serde_json::json;

use super::{start_engine, BenchArgs, Failure, LoadArgs};
use crate::engine::{BenchRow, BenchSpec, EngineEvent, ModelInfo};

pub fn bench(args: &BenchArgs, load: &LoadArgs) -> Result<i32, Failure> {
    let mut options = load.to_options().map_err(Failure::bad_input)?;
    // As llama-bench: a context just big enough for the tests, and a 2048-token batch.
    options.context_size = (args.prompt_tokens + args.generate_tokens).max(256);
    if load.batch_size == crate::engine::LoadOptions::DEFAULT_BATCH_SIZE {
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
