//! The studio's panes drawn on ratatui's TestBackend, snapshotted at several sizes.

use std::time::Duration;

use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Color;
use ratatui::Terminal;
use refrain::engine::{EngineEvent, RunFinished, RunStats, SamplerParams, StopReason};
use refrain::tui::state::{ModelState, State};
use refrain::tui::theme::{Theme, ThemeName};
use refrain::tui::update::{resize, update, Msg};
use refrain::tui::{fixtures, panes};

const ANSWER: &str = "静夜思\n床前明月光，疑是地上霜。\n举头望明月，低头思故乡。\n\nMoonlight on the floor — I lift my eyes, then bow my head and think of home. 🌙";

/// A studio after one finished run whose answer is a Chinese poem.
fn finished_state(width: u16, height: u16, theme: Theme) -> State {
    let mut state = fixtures::streaming_state(
        width,
        height,
        theme,
        "Write a quatrain about the moon, in Chinese.",
        ANSWER.split_inclusive(['，', '\n', ' ']),
    );
    update(
        &mut state,
        Msg::Engine(EngineEvent::Finished {
            id: 1,
            finished: RunFinished {
                text: ANSWER.into(),
                stop_reason: StopReason::EndOfGeneration,
                seed: 1234,
                stats: RunStats {
                    prompt_tokens: 31,
                    generated_tokens: 64,
                    tokens_per_second: 131.4,
                    time_to_first_token: Duration::from_millis(72),
                    context_used: 95,
                    context_size: 4096,
                    ..RunStats::default()
                },
            },
        }),
    );
    state
}

fn draw(state: &State, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| panes::draw(frame, state)).unwrap();
    terminal
}

#[test]
fn full_layout_80x24_with_cjk_answer() {
    let state = finished_state(80, 24, Theme::named(ThemeName::Dark));
    insta::assert_snapshot!(draw(&state, 80, 24).backend());
}

#[test]
fn full_layout_120x40_with_cjk_answer() {
    let state = finished_state(120, 40, Theme::named(ThemeName::Dark));
    insta::assert_snapshot!(draw(&state, 120, 40).backend());
}

#[test]
fn sentiment_pane_with_lexicon_and_model_readouts() {
    use refrain::engine::ModelSentiment;
    let mut state = finished_state(100, 30, Theme::named(ThemeName::Dark));
    update(&mut state, Msg::ClassifySent(2));
    let lines = ANSWER.lines().filter(|l| !l.trim().is_empty()).count();
    let results = (0..=lines)
        .map(|i| {
            let positive = 0.2 + 0.1 * i as f64;
            ModelSentiment {
                positive,
                negative: 0.3,
                neutral: 0.7 - positive,
            }
        })
        .collect();
    update(
        &mut state,
        Msg::Engine(EngineEvent::Classified { id: 2, results }),
    );
    insta::assert_snapshot!(draw(&state, 100, 30).backend());
}

#[test]
fn history_list_over_the_output() {
    use refrain::store::worker::HistoryEvent;
    use refrain::store::{RunStatus, RunSummary};
    let mut state = finished_state(110, 30, Theme::named(ThemeName::Dark));
    update(
        &mut state,
        Msg::History(HistoryEvent::Opened {
            path: "/tmp/history.sqlite".into(),
        }),
    );
    update(
        &mut state,
        Msg::Key(KeyEvent::new(KeyCode::F(4), KeyModifiers::NONE)),
    );
    for c in "moon".chars() {
        update(
            &mut state,
            Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
        );
    }
    // Fixed local-time-independent timestamps: noon UTC on two days.
    let row = |id: i64,
               day: i64,
               prompt: &str,
               starred: bool,
               status: RunStatus,
               sentiment: Option<f64>| RunSummary {
        id,
        started_at: 1_796_040_000_000 + day * 86_400_000,
        model_name: "SmolLM2 135M".into(),
        temperature: 0.8 + id as f64 / 10.0,
        seed: 7,
        first_line: prompt.into(),
        status,
        stop_reason: None,
        starred,
        sentiment,
        sweep_id: None,
    };
    let rows = vec![
        row(
            3,
            1,
            "Write a quatrain about the moon, in Chinese.",
            true,
            RunStatus::Finished,
            Some(0.6),
        ),
        row(
            2,
            0,
            "A lullaby for the moon",
            false,
            RunStatus::Interrupted,
            Some(-0.3),
        ),
        row(
            1,
            0,
            "moon river, wider than a mile",
            false,
            RunStatus::Finished,
            None,
        ),
    ];
    let query_id = state.history.latest_query;
    update(
        &mut state,
        Msg::History(HistoryEvent::Listed { query_id, rows }),
    );
    update(
        &mut state,
        Msg::Key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE)),
    );
    let screen = draw(&state, 110, 30).backend().to_string();
    // The time column depends on the machine's time zone; mask it for the snapshot.
    let masked = regex_lite_mask(&screen);
    insta::assert_snapshot!(masked);
}

/// Replaces "MM-DD HH:MM" with a fixed mask.
fn regex_lite_mask(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let window: String = chars[i..(i + 11).min(chars.len())].iter().collect();
        let shape = window.chars().enumerate().all(|(k, c)| match k {
            2 => c == '-',
            5 => c == ' ',
            8 => c == ':',
            _ => c.is_ascii_digit(),
        });
        if window.chars().count() == 11 && shape {
            out.push_str("MM-DD hh:mm");
            i += 11;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[test]
fn too_small_terminal_says_so() {
    let state = finished_state(30, 8, Theme::named(ThemeName::Dark));
    let terminal = draw(&state, 30, 8);
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn loading_shows_a_progress_bar() {
    let mut state = State::new(SamplerParams::default(), Theme::named(ThemeName::Dark));
    state.model = ModelState::Loading {
        id: Some(1),
        name: "SmolLM2-135M-Instruct.Q4_1.gguf".into(),
        fraction: 0.4,
    };
    resize(&mut state, 80, 24);
    insta::assert_snapshot!(draw(&state, 80, 24).backend());
}

#[test]
fn help_overlay_lists_the_keymap() {
    let mut state = finished_state(100, 40, Theme::named(ThemeName::Dark));
    update(
        &mut state,
        Msg::Key(KeyEvent::new(KeyCode::F(1), KeyModifiers::NONE)),
    );
    insta::assert_snapshot!(draw(&state, 100, 40).backend());
}

#[test]
fn cjk_rows_never_exceed_the_pane() {
    use unicode_width::UnicodeWidthStr;
    let state = finished_state(64, 20, Theme::named(ThemeName::Dark));
    let areas = refrain::tui::layout::areas(64, 20).unwrap();
    let inner = refrain::tui::layout::inner(areas.output);
    let rows: Vec<&str> = state.output.visible_rows().collect();
    assert!(rows.iter().any(|r| r.contains('月')));
    for row in rows {
        assert!(
            row.width() <= inner.width as usize,
            "{row:?} overflows {}",
            inner.width
        );
    }
}

/// Colour output uses only the 16 ANSI colours; NO_COLOR uses none at all.
#[test]
fn sixteen_colours_and_no_color() {
    let basic = |c: Color| !matches!(c, Color::Rgb(..) | Color::Indexed(_));
    let colored = draw(
        &finished_state(100, 30, Theme::named(ThemeName::Dark)),
        100,
        30,
    );
    let cells = colored.backend().buffer().content();
    assert!(cells.iter().all(|cell| basic(cell.fg) && basic(cell.bg)));
    assert!(
        cells.iter().any(|cell| cell.fg != Color::Reset),
        "colour is used"
    );

    let mono = draw(
        &finished_state(100, 30, Theme::named(ThemeName::Mono)),
        100,
        30,
    );
    let cells = mono.backend().buffer().content();
    assert!(
        cells
            .iter()
            .all(|cell| cell.fg == Color::Reset && cell.bg == Color::Reset),
        "NO_COLOR: no colours at all"
    );
}

fn press(state: &mut State, code: KeyCode) {
    update(state, Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

#[test]
fn preset_picker_shows_forms_and_details() {
    let mut state = finished_state(110, 34, Theme::named(ThemeName::Dark));
    press(&mut state, KeyCode::F(7));
    for c in "tanka".chars() {
        press(&mut state, KeyCode::Char(c));
    }
    insta::assert_snapshot!(draw(&state, 110, 34).backend());
}

#[test]
fn preset_picker_grouped_on_a_narrow_terminal() {
    let mut state = finished_state(64, 24, Theme::named(ThemeName::Dark));
    press(&mut state, KeyCode::F(7));
    insta::assert_snapshot!(draw(&state, 64, 24).backend());
}

#[test]
fn model_picker_with_metadata_and_an_invalid_file() {
    use refrain::models::discover::{FoundModel, Source};
    use refrain::models::gguf::GgufSummary;
    let mut state = finished_state(110, 30, Theme::named(ThemeName::Dark));
    state.load_options = Some(refrain::engine::LoadOptions::new(
        "models/SmolLM2-135M-Instruct.Q4_1.gguf",
    ));
    press(&mut state, KeyCode::F(8));
    let searching = draw(&state, 110, 30);
    let summary = |arch: &str, params: u64, quant: &str, layers: u64| GgufSummary {
        version: 3,
        architecture: Some(arch.into()),
        name: None,
        quantization: Some(quant.into()),
        parameters: params,
        context_length: Some(32768),
        layers: Some(layers),
        embedding_length: Some(4096),
        head_count: Some(32),
        head_count_kv: Some(8),
        has_chat_template: true,
        tensor_count: 300,
        tensor_bytes: params / 2,
    };
    let found = vec![
        FoundModel {
            name: "SmolLM2-135M-Instruct.Q4_1".into(),
            path: "models/SmolLM2-135M-Instruct.Q4_1.gguf".into(),
            size: 98_362_432,
            parts: 1,
            source: Source {
                kind: "models dir",
                root: "models".into(),
            },
            summary: Ok(summary("llama", 134_515_008, "Q4_1", 30)),
        },
        FoundModel {
            name: "Qwen/Qwen2.5-7B-Instruct-GGUF/qwen2.5-7b-instruct-q4_k_m".into(),
            path: "/home/u/.cache/huggingface/hub/models--Qwen--Qwen2.5-7B-Instruct-GGUF/snapshots/abc/qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf".into(),
            size: 4_683_074_240,
            parts: 2,
            source: Source {
                kind: "Hugging Face",
                root: "/home/u/.cache/huggingface/hub".into(),
            },
            summary: Ok(summary("qwen2", 7_615_616_512, "Q4_K_M", 28)),
        },
        FoundModel {
            name: "llama3.2:1b".into(),
            path: "/home/u/.ollama/models/blobs/sha256-74701a8c35f6".into(),
            size: 1_321_082_688,
            parts: 1,
            source: Source {
                kind: "Ollama",
                root: "/home/u/.ollama/models".into(),
            },
            summary: Ok(summary("llama", 1_235_814_432, "Q8_0", 16)),
        },
        FoundModel {
            name: "broken".into(),
            path: "models/broken.gguf".into(),
            size: 1024,
            parts: 1,
            source: Source {
                kind: "models dir",
                root: "models".into(),
            },
            summary: Err("not a GGUF file (the magic bytes are not GGUF)".into()),
        },
    ];
    update(&mut state, Msg::ModelsFound(found));
    press(&mut state, KeyCode::Down);
    insta::assert_snapshot!("model_picker_searching", searching.backend());
    insta::assert_snapshot!(draw(&state, 110, 30).backend());
}

#[test]
fn help_and_hints_show_rebound_keys() {
    use refrain::tui::keymap::{Action, Key, Keymap};
    let mut state = finished_state(100, 40, Theme::named(ThemeName::Dark));
    let overrides = [(Action::Send, vec!["ctrl+enter".parse::<Key>().unwrap()])].into();
    state.keymap = Keymap::with_overrides(&overrides).unwrap();
    let hints = draw(&state, 100, 40);
    let bottom: String = (0..100)
        .map(|x| hints.backend().buffer()[(x, 39)].symbol().to_owned())
        .collect();
    assert!(bottom.contains("Ctrl+Enter send"), "{bottom}");
    press(&mut state, KeyCode::F(1));
    let help = format!("{}", draw(&state, 100, 40).backend());
    let line = help
        .lines()
        .find(|l| l.contains("send the prompt"))
        .unwrap()
        .to_owned();
    assert!(line.contains("Ctrl+Enter"), "{line}");
    assert!(!line.contains("Ctrl+S"), "{line}");
}

const VERSES: [&str; 8] = [
    "Salt wind on the stair,\nthe lamp turns all night long.\n",
    "The keeper counts the waves;\nhis heart is full of light.\n",
    "Ice on the railings, cold and grey,\nno ship comes home today.\n",
    "燈塔守夜人\n海風吹雪\n",
    "Storm, storm, the glass is black;\nI hate this lonely shore.\n",
    "A gull, a bell, a kettle's song;\nthe winter isn't long.\n",
    "Beam after beam,\nhope after hope.\n",
    "Nothing but the sea and me,\nand the dark.\n",
];

/// A studio after a sweep over `temperatures` (one variant per value) with `done` variants
/// finished and the rest streaming.
fn sweep_state(width: u16, height: u16, temperatures: &str, done: usize) -> State {
    use refrain::engine::{RunStarted, SweepSummary};
    let mut state = finished_state(width, height, Theme::named(ThemeName::Dark));
    press(&mut state, KeyCode::F(9));
    for _ in 0..20 {
        press(&mut state, KeyCode::Backspace);
    }
    for c in temperatures.chars() {
        press(&mut state, KeyCode::Char(c));
    }
    press(&mut state, KeyCode::Enter);
    update(&mut state, Msg::SweepSent(9));
    let count = temperatures.split(',').count();
    update(
        &mut state,
        Msg::Engine(EngineEvent::SweepStarted {
            id: 9,
            started: RunStarted {
                templated_prompt: String::new(),
                template: "chatml".into(),
                prompt_tokens: 31,
                context_size: 4096,
                seed: 42,
            },
            seeds: vec![42; count],
        }),
    );
    for variant in 0..count {
        let verse = VERSES[variant % VERSES.len()];
        for (i, piece) in verse.split_inclusive([' ', '\n']).enumerate() {
            update(
                &mut state,
                Msg::Engine(EngineEvent::SweepToken {
                    id: 9,
                    variant,
                    text: piece.into(),
                    generated: i as u32 + 1,
                    elapsed: Duration::from_millis(40 * i as u64),
                }),
            );
        }
        if variant < done {
            update(
                &mut state,
                Msg::Engine(EngineEvent::SweepVariantFinished {
                    id: 9,
                    variant,
                    finished: RunFinished {
                        text: verse.into(),
                        stop_reason: if variant == 1 {
                            StopReason::MaxTokens
                        } else {
                            StopReason::EndOfGeneration
                        },
                        seed: 42,
                        stats: RunStats {
                            generated_tokens: 12 + variant as u32,
                            tokens_per_second: 30.0 + variant as f64,
                            ..RunStats::default()
                        },
                    },
                }),
            );
        }
    }
    if done == count {
        update(
            &mut state,
            Msg::Engine(EngineEvent::SweepFinished {
                id: 9,
                summary: SweepSummary {
                    prompt_tokens: 31,
                    generated_tokens: 100,
                    tokens_per_second: 121.5,
                    ..SweepSummary::default()
                },
            }),
        );
    }
    state
}

#[test]
fn sweep_editor_previews_the_variants() {
    let mut state = finished_state(100, 30, Theme::named(ThemeName::Dark));
    press(&mut state, KeyCode::F(9));
    press(&mut state, KeyCode::Tab);
    press(&mut state, KeyCode::Right);
    press(&mut state, KeyCode::Right);
    insta::assert_snapshot!(draw(&state, 100, 30).backend());
}

#[test]
fn sweep_two_columns_done() {
    let state = sweep_state(110, 30, "0.3,1.2", 2);
    insta::assert_snapshot!(draw(&state, 110, 30).backend());
}

#[test]
fn sweep_four_columns_streaming() {
    let state = sweep_state(160, 34, "0.2,0.6,1.0,1.4", 2);
    insta::assert_snapshot!(draw(&state, 160, 34).backend());
}

#[test]
fn sweep_eight_variants_as_a_grid() {
    let state = sweep_state(180, 44, "0.1,0.3,0.5,0.7,0.9,1.1,1.3,1.5", 8);
    insta::assert_snapshot!(draw(&state, 180, 44).backend());
}

#[test]
fn sweep_on_a_narrow_terminal_uses_tabs() {
    let mut state = sweep_state(64, 22, "0.3,0.8,1.3,1.8", 4);
    press(&mut state, KeyCode::Right);
    insta::assert_snapshot!(draw(&state, 64, 22).backend());
}

#[test]
fn token_heat_colours_the_output_by_probability() {
    use ratatui::style::Modifier;
    let mut state = fixtures::inspected_state(100, 30, Theme::named(ThemeName::Dark));
    press(&mut state, KeyCode::F(10));
    let terminal = draw(&state, 100, 30);
    insta::assert_snapshot!(terminal.backend());
    let buffer = terminal.backend().buffer();
    // " answers" (p 0.04) is red; " night" (p 0.93) keeps the default colour.
    let find = |word: &str| -> (u16, u16) {
        for y in 0..30 {
            let row: String = (0..100)
                .map(|x| buffer[(x, y)].symbol().to_owned())
                .collect();
            if let Some(at) = row.find(word) {
                let x = row[..at].chars().count() as u16;
                return (x, y);
            }
        }
        panic!("{word} not drawn");
    };
    let (x, answers_row) = find("answers");
    assert_eq!(buffer[(x, answers_row)].fg, Color::Red);
    let (x, night_row) = find("night");
    assert_eq!(buffer[(x, night_row)].fg, Color::Reset);
    // Without colour the long shots are underlined instead.
    let mut mono = fixtures::inspected_state(100, 30, Theme::named(ThemeName::Mono));
    press(&mut mono, KeyCode::F(10));
    let terminal = draw(&mono, 100, 30);
    let buffer = terminal.backend().buffer();
    let row: String = (0..100)
        .map(|x| buffer[(x, answers_row)].symbol().to_owned())
        .collect();
    let x = row[..row.find("answers").unwrap()].chars().count() as u16;
    assert!(buffer[(x, answers_row)]
        .modifier
        .contains(Modifier::UNDERLINED));
    assert!(buffer.content().iter().all(|c| c.fg == Color::Reset));
}

#[test]
fn inspect_popup_shows_alternatives_and_stages() {
    let mut state = fixtures::inspected_state(100, 34, Theme::named(ThemeName::Dark));
    press(&mut state, KeyCode::Tab);
    press(&mut state, KeyCode::Tab);
    press(&mut state, KeyCode::Tab);
    press(&mut state, KeyCode::Char('i'));
    for _ in 0..2 {
        press(&mut state, KeyCode::Left);
    }
    press(&mut state, KeyCode::Down);
    insta::assert_snapshot!(draw(&state, 100, 34).backend());
}
