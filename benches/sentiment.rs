//! The live lexicon scorer's cost per streamed token, to compare with the time a token takes
//! to generate (~8 ms for the default model here): the target is under 1 %.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use refrain::analysis::lines::LineScorer;

/// A 1,000-token lyric as the model streams it: word pieces, spaces, line breaks.
fn pieces() -> Vec<&'static str> {
    let verse = [
        "I", " walk", "ed", " down", " the", " lonely", " road", " tonight", ",\n", "the",
        " stars", " were", " shining", " bright", " and", " warm", "\n", "but", " my", " heart",
        " was", " heavy", " with", " the", " rain", "\n\n", "oh", " love", ",", " don't", " let",
        " me", " go", "!\n",
    ];
    verse.iter().copied().cycle().take(1000).collect()
}

fn scoring(c: &mut Criterion) {
    let pieces = pieces();
    let mut group = c.benchmark_group("lexicon scoring");
    group.throughput(Throughput::Elements(pieces.len() as u64));
    group.bench_function("stream 1,000 tokens", |b| {
        b.iter(|| {
            let mut scorer = LineScorer::default();
            for piece in &pieces {
                scorer.push_str(piece);
            }
            scorer.finish();
            scorer.readout()
        })
    });
    group.finish();
}

criterion_group!(benches, scoring);
criterion_main!(benches);
