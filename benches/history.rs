//! History at scale: with 100,000 runs stored, the studio's list and a full-text search must
//! each take under 50 ms; recording a run must cost far under 1 % of generating it.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use refrain::engine::{RunStats, SamplerParams, StopReason};
use refrain::store::{Filter, NewRun, RunOutcome, RunStatus, Store};

const WORDS: &[&str] = &[
    "moon", "river", "silver", "night", "heart", "rain", "ocean", "fire", "dream", "road", "city",
    "summer", "winter", "song", "light", "shadow", "home", "tide", "star", "wind",
];

fn run(i: usize) -> NewRun {
    let word = |k: usize| WORDS[(i * 7 + k * 13) % WORDS.len()];
    NewRun {
        model_name: "SmolLM2 135M".into(),
        model_path: "/models/smollm2.gguf".into(),
        model_size: 98_362_432,
        engine_version: refrain::store::ENGINE_VERSION.into(),
        templated_prompt: format!(
            "<|im_start|>user\nWrite a song about the {} and the {}",
            word(0),
            word(1)
        ),
        system_prompt: None,
        user_prompt: format!("Write a song about the {} and the {}", word(0), word(1)),
        raw: false,
        template: None,
        sampler: SamplerParams {
            seed: Some(i as u32),
            ..SamplerParams::default()
        },
    }
}

fn outcome(i: usize) -> RunOutcome {
    let lyric: Vec<&str> = (0..60).map(|k| WORDS[(i + k * 3) % WORDS.len()]).collect();
    RunOutcome {
        status: RunStatus::Finished,
        output: lyric.join(" "),
        stop_reason: Some(StopReason::EndOfGeneration),
        stats: Some(RunStats {
            generated_tokens: 80,
            tokens_per_second: 120.0,
            ..RunStats::default()
        }),
        error: None,
    }
}

fn history(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("history.sqlite")).unwrap();
    store
        .in_transaction(|store| {
            for i in 0..100_000 {
                let id = store.begin_run(&run(i))?;
                store.finish_run(id, &outcome(i))?;
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(store.count().unwrap(), 100_000);
    let filter = Filter {
        limit: 500,
        ..Filter::default()
    };
    let mut group = c.benchmark_group("history with 100,000 runs");
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("open the list (newest 500)", |b| {
        b.iter(|| store.list(&filter).unwrap())
    });
    group.bench_function("full-text search 'silver moon'", |b| {
        b.iter(|| store.search("silver moon", &filter).unwrap())
    });
    group.bench_function("incremental search 'sil'", |b| {
        b.iter(|| store.search("sil", &filter).unwrap())
    });
    group.bench_function("open the database", |b| {
        b.iter(|| Store::open(&dir.path().join("history.sqlite")).unwrap())
    });
    // A 256-token run at ~100 tok/s lasts ~2.5 s: begin, progress every 300 ms (8 writes), finish.
    let mut i = 100_000;
    group.bench_function("record one 2.5 s run (begin + 8 progress + finish)", |b| {
        b.iter(|| {
            i += 1;
            let id = store.begin_run(&run(i)).unwrap();
            let full = outcome(i).output;
            for step in 1..=8 {
                store
                    .record_progress(id, &full[..full.len() * step / 8])
                    .unwrap();
            }
            store.finish_run(id, &outcome(i)).unwrap();
        })
    });
    group.finish();
}

criterion_group!(benches, history);
criterion_main!(benches);
