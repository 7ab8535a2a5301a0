//! The token inspector's cost per token (`inspect` over a 49,152-entry vocabulary, as the
//! default model's), to compare with the ~9 ms a token takes to generate here: the target is
//! under 10 %.

use criterion::{criterion_group, criterion_main, Criterion};
use refrain::engine::inspect::inspect;
use refrain::engine::SamplerParams;

/// Logits shaped like a small model's: most far below a few dozen likely tokens.
fn logits() -> Vec<f32> {
    let mut state = 0x2545_f491_u32;
    (0..49_152)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let noise = (state % 1000) as f32 / 100.0;
            if i % 997 == 0 {
                14.0 + noise / 4.0
            } else {
                noise - 4.0
            }
        })
        .collect()
}

fn inspector(c: &mut Criterion) {
    let logits = logits();
    let mut group = c.benchmark_group("inspector");
    let default = SamplerParams::default();
    group.bench_function("one token, default chain, 5 alternatives", |b| {
        b.iter(|| inspect(&logits, 997, &default, 5))
    });
    let nucleus = SamplerParams {
        top_k: 0,
        ..SamplerParams::default()
    };
    group.bench_function("one token, top-p without top-k", |b| {
        b.iter(|| inspect(&logits, 997, &nucleus, 5))
    });
    group.finish();
}

criterion_group!(benches, inspector);
criterion_main!(benches);
