//! Drawing a full studio frame on TestBackend with a 50,000-token answer, and appending one
//! token to it: both must stay far below a frame's budget (target: draw < 2 ms).

use criterion::{criterion_group, criterion_main, Criterion};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use refrain::engine::EngineEvent;
use refrain::tui::fixtures::streaming_state;
use refrain::tui::panes;
use refrain::tui::theme::{Theme, ThemeName};
use refrain::tui::update::{update, Msg};

/// 50,000 pieces of lyric-like text: words, CJK, and a line break every dozen tokens.
fn pieces() -> Vec<String> {
    let words = [
        "moon", " light", " 月", "光", " on", " the", " sea", ",", " 静", "夜", " we", " sing",
    ];
    (0..50_000)
        .map(|i| {
            let word = words[i % words.len()];
            if i % 12 == 11 {
                format!("{word}\n")
            } else {
                word.to_owned()
            }
        })
        .collect()
}

fn draw_benchmarks(c: &mut Criterion) {
    let pieces = pieces();
    let state = streaming_state(
        120,
        40,
        Theme::named(ThemeName::Dark),
        "Write a long song.",
        pieces.iter().map(String::as_str),
    );
    assert!(state.output.total_rows() > 4_000);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    c.bench_function("draw 120x40 frame, 50k-token output", |b| {
        b.iter(|| {
            terminal.draw(|frame| panes::draw(frame, &state)).unwrap();
        })
    });

    let mut streaming = streaming_state(
        120,
        40,
        Theme::named(ThemeName::Dark),
        "Write a long song.",
        pieces.iter().map(String::as_str),
    );
    let mut generated = 50_000;
    c.bench_function("append one token to a 50k-token output", |b| {
        b.iter(|| {
            generated += 1;
            update(
                &mut streaming,
                Msg::Engine(EngineEvent::Token {
                    id: 1,
                    text: " tide".into(),
                    generated,
                    elapsed: std::time::Duration::from_secs(1),
                }),
            )
        })
    });
}

criterion_group!(benches, draw_benchmarks);
criterion_main!(benches);
