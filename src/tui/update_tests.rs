//! `update` driven by message sequences: no terminal, no model.

use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::engine::{RunFinished, RunStarted, RunStats, SamplerParams};
use crate::tui::fixtures::model_info;
use crate::tui::state::State;
use crate::tui::theme::{Theme, ThemeName};

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ctrl(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn type_text(state: &mut State, text: &str) {
    for c in text.chars() {
        update(state, key(KeyCode::Char(c)));
    }
}

/// A studio with a loaded model, sized 100×30, keeping no history (the history tests open it).
fn ready_state() -> State {
    let mut state = State::new(SamplerParams::default(), Theme::named(ThemeName::Dark));
    state.model = ModelState::Ready(Box::new(model_info()));
    state.history.availability = crate::tui::history::Availability::Off("incognito".into());
    resize(&mut state, 100, 30);
    state
}

fn finished(text: &str, stop_reason: StopReason) -> RunFinished {
    RunFinished {
        text: text.into(),
        stop_reason,
        seed: 99,
        stats: RunStats {
            generated_tokens: 3,
            tokens_per_second: 120.0,
            time_to_first_token: Duration::from_millis(70),
            context_used: 20,
            context_size: 4096,
            prompt_tokens: 17,
            ..RunStats::default()
        },
    }
}

fn token(id: RequestId, text: &str, generated: u32) -> Msg {
    Msg::Engine(EngineEvent::Token {
        id,
        text: text.into(),
        generated,
        elapsed: Duration::from_millis(10 * u64::from(generated)),
    })
}

/// The history thread reports its database open, so runs are recorded.
fn history_opened(state: &mut State) {
    update(
        state,
        Msg::History(crate::store::worker::HistoryEvent::Opened {
            path: "/tmp/h.sqlite".into(),
        }),
    );
}

/// Types a prompt, sends it, and has the engine accept it as `id`.
fn send_prompt(state: &mut State, prompt: &str, id: RequestId) -> GenerateRequest {
    type_text(state, prompt);
    let effects = update(state, ctrl('s'));
    let [Effect::Generate(request)] = effects.as_slice() else {
        panic!("expected one Generate effect, got {effects:?}");
    };
    let request = request.clone();
    update(state, Msg::GenerationSent(id));
    request
}

#[test]
fn send_builds_a_chat_request_from_editors_and_controls() {
    let mut state = ready_state();
    update(&mut state, key(KeyCode::Tab));
    type_text(&mut state, "Be brief.");
    update(&mut state, key(KeyCode::BackTab));
    let request = send_prompt(&mut state, "Hello", 7);
    assert_eq!(
        request.prompt,
        Prompt::Chat {
            system: Some("Be brief.".into()),
            user: "Hello".into(),
            template: None
        }
    );
    let mut expected = state.controls.params.clone();
    expected.top_logprobs = Some(crate::tui::inspector::ALTERNATIVES);
    assert_eq!(
        request.sampler, expected,
        "the controls, with token probabilities recorded"
    );
    assert_eq!(state.run.id(), Some(7));
}

#[test]
fn tokens_stream_into_the_output_and_stale_ids_are_dropped() {
    let mut state = ready_state();
    send_prompt(&mut state, "Hi", 7);
    update(
        &mut state,
        Msg::Engine(EngineEvent::Started {
            id: 7,
            started: RunStarted {
                templated_prompt: "…".into(),
                template: "embedded".into(),
                prompt_tokens: 17,
                context_size: 4096,
                seed: 99,
            },
        }),
    );
    update(
        &mut state,
        Msg::Engine(EngineEvent::FirstToken {
            id: 7,
            time_to_first_token: Duration::from_millis(65),
        }),
    );
    assert!(matches!(
        state.run,
        RunState::Generating { time_to_first_token: Some(t), .. } if t == Duration::from_millis(65)
    ));
    update(&mut state, token(7, "月光", 1));
    update(&mut state, token(3, "stale", 1));
    update(&mut state, token(7, "照", 2));
    update(&mut state, token(7, "床", 3));
    assert_eq!(state.output.text(), "月光照床");
    assert!(state.live_tokens_per_second().unwrap() > 0.0);
    update(
        &mut state,
        Msg::Engine(EngineEvent::Finished {
            id: 7,
            finished: finished("月光照床", StopReason::EndOfGeneration),
        }),
    );
    assert_eq!(state.run, RunState::Idle);
    let last = state.last_run.as_ref().unwrap();
    assert_eq!(last.stop_reason, StopReason::EndOfGeneration);
    assert_eq!(last.seed, 99);
}

#[test]
fn escape_cancels_a_running_generation_only() {
    let mut state = ready_state();
    assert!(update(&mut state, key(KeyCode::Esc)).is_empty());
    send_prompt(&mut state, "Hi", 4);
    assert_eq!(
        update(&mut state, key(KeyCode::Esc)),
        vec![Effect::Cancel(4)]
    );
    assert!(matches!(
        state.run,
        RunState::Generating {
            cancelling: true,
            ..
        }
    ));
    update(
        &mut state,
        Msg::Engine(EngineEvent::Finished {
            id: 4,
            finished: finished("", StopReason::Cancelled),
        }),
    );
    assert_eq!(state.run, RunState::Idle);
    assert_eq!(state.last_run.unwrap().stop_reason, StopReason::Cancelled);
}

#[test]
fn ctrl_c_cancels_when_busy_and_quits_when_idle() {
    let mut state = ready_state();
    send_prompt(&mut state, "Hi", 2);
    assert_eq!(update(&mut state, ctrl('c')), vec![Effect::Cancel(2)]);
    assert!(!state.quit);
    state.run = RunState::Idle;
    assert_eq!(update(&mut state, ctrl('c')), vec![Effect::Quit]);
    assert!(state.quit);
}

#[test]
fn sending_while_generating_cancels_the_old_run_first() {
    let mut state = ready_state();
    send_prompt(&mut state, "One", 1);
    type_text(&mut state, " more");
    let effects = update(&mut state, ctrl('s'));
    assert_eq!(effects.len(), 2);
    assert_eq!(effects[0], Effect::Cancel(1));
    assert!(
        matches!(&effects[1], Effect::Generate(r) if matches!(&r.prompt, Prompt::Chat { user, .. } if user == "One more"))
    );
    update(&mut state, Msg::GenerationSent(2));
    update(&mut state, token(1, "old", 5));
    assert_eq!(
        state.output.text(),
        "",
        "the cancelled run's tokens are dropped"
    );
}

#[test]
fn regenerate_reuses_the_prompt_with_current_controls() {
    let mut state = ready_state();
    assert!(
        update(&mut state, ctrl('g')).is_empty(),
        "nothing to regenerate yet"
    );
    send_prompt(&mut state, "Write a chorus", 1);
    update(
        &mut state,
        Msg::Engine(EngineEvent::Finished {
            id: 1,
            finished: finished("la la", StopReason::EndOfGeneration),
        }),
    );
    // Turn the temperature up two fine steps, then regenerate.
    update(&mut state, key(KeyCode::Tab));
    update(&mut state, key(KeyCode::Tab));
    assert_eq!(state.focus, Focus::Controls);
    update(&mut state, key(KeyCode::Right));
    update(&mut state, key(KeyCode::Right));
    let effects = update(&mut state, key(KeyCode::F(6)));
    let [Effect::Generate(request)] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert!(matches!(&request.prompt, Prompt::Chat { user, .. } if user == "Write a chorus"));
    assert!((request.sampler.temperature - 0.9).abs() < 1e-6);
    assert_eq!(
        request.sampler.seed, None,
        "random seed: a new one each run"
    );
    // A fixed seed is kept.
    update(&mut state, Msg::GenerationSent(2));
    state.run = RunState::Idle;
    state.controls.selected = 6;
    update(&mut state, key(KeyCode::Char('r')));
    let effects = update(&mut state, ctrl('g'));
    let [Effect::Generate(request)] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(request.sampler.seed, Some(42));
}

#[test]
fn sampler_values_are_typed_validated_and_clamped() {
    let mut state = ready_state();
    state.focus = Focus::Controls;
    type_text(&mut state, "9");
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(state.controls.params.temperature, 5.0);
    assert!(state.controls.hint.as_deref().unwrap().contains("clamped"));
    update(&mut state, key(KeyCode::Down));
    type_text(&mut state, "x");
    assert!(state
        .controls
        .hint
        .as_deref()
        .unwrap()
        .contains("not part of a number"));
    type_text(&mut state, "25");
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(state.controls.params.top_k, 25);
    update(
        &mut state,
        Msg::Key(KeyEvent::new(KeyCode::Left, KeyModifiers::SHIFT)),
    );
    assert_eq!(state.controls.params.top_k, 15);
    update(&mut state, key(KeyCode::Char('d')));
    assert_eq!(state.controls.params.top_k, 40);
}

#[test]
fn output_follows_until_scrolled_up_and_end_resumes() {
    let mut state = ready_state();
    send_prompt(&mut state, "Long", 1);
    for i in 0..100u32 {
        update(&mut state, token(1, &format!("line {i}\n"), i + 1));
    }
    assert!(state.output.is_following());
    update(&mut state, key(KeyCode::PageUp));
    assert!(!state.output.is_following());
    let top = state.output.scroll_top();
    update(&mut state, token(1, "more\n", 101));
    assert_eq!(state.output.scroll_top(), top);
    state.focus = Focus::Output;
    update(&mut state, key(KeyCode::End));
    assert!(state.output.is_following());
    update(&mut state, key(KeyCode::Home));
    assert_eq!(state.output.scroll_top(), 0);
}

#[test]
fn help_overlay_eats_keys_until_closed() {
    let mut state = ready_state();
    update(&mut state, key(KeyCode::F(1)));
    assert!(state.help_open);
    update(&mut state, key(KeyCode::Char('a')));
    assert_eq!(
        state.prompt.lines(),
        [""],
        "typing goes nowhere while help is open"
    );
    update(&mut state, key(KeyCode::Esc));
    assert!(!state.help_open);
    // '?' is text in the editor, help in the output pane.
    type_text(&mut state, "?");
    assert!(!state.help_open);
    state.focus = Focus::Output;
    update(&mut state, key(KeyCode::Char('?')));
    assert!(state.help_open);
}

#[test]
fn empty_prompt_and_missing_model_explain_instead_of_sending() {
    let mut state = ready_state();
    assert!(update(&mut state, ctrl('s')).is_empty());
    assert!(state.notice.as_ref().unwrap().text.contains("empty"));
    state.model = ModelState::Failed("bad.gguf is not a usable GGUF model".into());
    type_text(&mut state, "Hi");
    assert!(update(&mut state, ctrl('s')).is_empty());
    assert!(state.notice.as_ref().unwrap().text.contains("bad.gguf"));
}

#[test]
fn paste_goes_to_the_focused_editor() {
    let mut state = ready_state();
    update(&mut state, Msg::Paste("verse one\r\nverse two".into()));
    assert_eq!(state.prompt.lines(), ["verse one", "verse two"]);
    update(&mut state, ctrl('z'));
    assert_eq!(state.prompt.lines(), [""], "undo removes the paste");
    update(&mut state, ctrl('r'));
    assert_eq!(state.prompt.lines(), ["verse one", "verse two"]);
}

#[test]
fn load_progress_then_ready_or_failed() {
    let mut state = ready_state();
    state.load_options = Some(crate::engine::LoadOptions::new("models/x.gguf"));
    let effects = start(&mut state);
    assert!(matches!(effects.as_slice(), [Effect::Load(_)]));
    update(&mut state, Msg::LoadSent(1));
    update(
        &mut state,
        Msg::Engine(EngineEvent::LoadProgress {
            id: 1,
            fraction: 0.5,
        }),
    );
    assert!(matches!(state.model, ModelState::Loading { fraction, .. } if fraction == 0.5));
    // Sending while loading is queued behind the load.
    let request = send_prompt(&mut state, "Hi", 2);
    assert!(matches!(request.prompt, Prompt::Chat { .. }));
    update(
        &mut state,
        Msg::Engine(EngineEvent::Loaded {
            id: 1,
            info: model_info(),
        }),
    );
    assert!(matches!(state.model, ModelState::Ready(_)));

    let mut failing = ready_state();
    failing.load_options = Some(crate::engine::LoadOptions::new("models/x.gguf"));
    start(&mut failing);
    update(&mut failing, Msg::LoadSent(5));
    update(
        &mut failing,
        Msg::Engine(EngineEvent::Failed {
            id: 5,
            error: crate::engine::EngineError::ModelMissing {
                path: "models/x.gguf".into(),
            },
        }),
    );
    assert!(matches!(&failing.model, ModelState::Failed(m) if m.contains("x.gguf")));
}

#[test]
fn signals_quit_and_cancel() {
    let mut state = ready_state();
    send_prompt(&mut state, "Hi", 3);
    assert_eq!(
        update(&mut state, Msg::Terminate),
        vec![Effect::Cancel(3), Effect::Quit]
    );
    assert!(state.quit);
}

#[test]
fn copy_sends_the_output_to_the_clipboard() {
    let mut state = ready_state();
    assert!(update(&mut state, ctrl('o')).is_empty());
    send_prompt(&mut state, "Hi", 1);
    update(&mut state, token(1, "copy me", 1));
    assert_eq!(
        update(&mut state, ctrl('o')),
        vec![Effect::CopyToClipboard("copy me".into())]
    );
}

#[test]
fn sentiment_lexicon_streams_and_the_model_classifies_after_the_response() {
    use crate::analysis::lines::LineSentiment;
    use crate::engine::ModelSentiment;
    use crate::tui::sentiment::ModelReadout;

    let mut state = ready_state();
    send_prompt(&mut state, "A song", 1);
    assert_eq!(state.sentiment.model, ModelReadout::AfterResponse);
    update(&mut state, token(1, "I love the sun", 1));
    assert!(
        matches!(state.sentiment.lexicon.current_line(), Some(LineSentiment::Scored(c)) if c > 0.0)
    );
    update(&mut state, token(1, "\n我爱你\nI hate the rain", 2));
    assert_eq!(state.sentiment.lexicon.lines().len(), 2);
    let effects = update(
        &mut state,
        Msg::Engine(EngineEvent::Finished {
            id: 1,
            finished: finished(
                "I love the sun\n我爱你\nI hate the rain",
                StopReason::EndOfGeneration,
            ),
        }),
    );
    let [Effect::Classify(texts)] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(texts.len(), 4, "three lines and the whole response");
    assert_eq!(texts[1], "我爱你");
    let readout = state.sentiment.lexicon.readout();
    assert_eq!(
        (readout.positive, readout.negative, readout.not_applicable),
        (1, 1, 1)
    );
    update(&mut state, Msg::ClassifySent(9));
    assert_eq!(state.sentiment.model, ModelReadout::Running(9));
    let score = |p: f64, n: f64| ModelSentiment {
        positive: p,
        negative: n,
        neutral: 1.0 - p - n,
    };
    update(
        &mut state,
        Msg::Engine(EngineEvent::Classified {
            id: 9,
            results: vec![
                score(0.8, 0.1),
                score(0.3, 0.3),
                score(0.1, 0.8),
                score(0.4, 0.4),
            ],
        }),
    );
    let ModelReadout::Done { lines, whole } = &state.sentiment.model else {
        panic!("{:?}", state.sentiment.model)
    };
    assert_eq!(lines.len(), 3);
    assert_eq!(whole.positive, 0.4);
}

#[test]
fn model_sentiment_is_recorded_when_it_arrives() {
    use crate::engine::ModelSentiment;
    use crate::store::worker::HistoryCommand;
    let mut state = ready_state();
    history_opened(&mut state);
    send_prompt(&mut state, "A song", 1);
    update(&mut state, token(1, "I love the sun", 1));
    update(
        &mut state,
        Msg::Engine(EngineEvent::Finished {
            id: 1,
            finished: finished("I love the sun", StopReason::EndOfGeneration),
        }),
    );
    update(&mut state, Msg::ClassifySent(4));
    let score = ModelSentiment {
        positive: 0.7,
        negative: 0.1,
        neutral: 0.2,
    };
    let effects = update(
        &mut state,
        Msg::Engine(EngineEvent::Classified {
            id: 4,
            results: vec![score, score],
        }),
    );
    let [Effect::History(HistoryCommand::Sentiment(record))] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(record.model, Some(score));
    assert_eq!(record.model_lines.len(), 1);
    assert!(record.lexicon_mean.is_some());
}

#[test]
fn a_new_run_cancels_a_classification_still_running() {
    let mut state = ready_state();
    send_prompt(&mut state, "A song", 1);
    update(&mut state, token(1, "I love the sun", 1));
    update(
        &mut state,
        Msg::Engine(EngineEvent::Finished {
            id: 1,
            finished: finished("I love the sun", StopReason::EndOfGeneration),
        }),
    );
    update(&mut state, Msg::ClassifySent(2));
    type_text(&mut state, " again");
    let effects = update(&mut state, ctrl('s'));
    assert_eq!(effects[0], Effect::Cancel(2));
    assert!(matches!(effects[1], Effect::Generate(_)));
}

#[test]
fn lexicon_only_method_never_asks_the_model() {
    let mut state = ready_state();
    update(&mut state, key(KeyCode::F(3)));
    assert_eq!(
        state.sentiment.method,
        crate::analysis::SentimentMethod::Lexicon
    );
    send_prompt(&mut state, "Hi", 1);
    update(&mut state, token(1, "good day", 1));
    let effects = update(
        &mut state,
        Msg::Engine(EngineEvent::Finished {
            id: 1,
            finished: finished("good day", StopReason::EndOfGeneration),
        }),
    );
    assert!(effects.is_empty());
    assert_eq!(state.sentiment.lexicon.lines().len(), 1);
}

mod history {
    use super::*;
    use crate::store::worker::{HistoryCommand, HistoryEvent, Purpose};
    use crate::store::{NewRun, RunRecord, RunStatus, RunSummary};

    fn summary(id: i64, prompt: &str) -> RunSummary {
        RunSummary {
            id,
            started_at: 1_700_000_000_000,
            model_name: "Test Model".into(),
            temperature: 0.8,
            seed: 5,
            first_line: prompt.into(),
            status: RunStatus::Finished,
            stop_reason: Some(StopReason::MaxTokens),
            starred: false,
            sentiment: Some(0.4),
            sweep_id: None,
        }
    }

    fn record(id: i64) -> RunRecord {
        let sampler = SamplerParams {
            seed: Some(5),
            temperature: 1.3,
            ..SamplerParams::default()
        };
        RunRecord {
            id,
            started_at: 1,
            ended_at: Some(2),
            status: RunStatus::Finished,
            model_sha256: None,
            run: NewRun {
                model_name: "Test Model".into(),
                model_path: "models/test.gguf".into(),
                model_size: 1,
                engine_version: "v".into(),
                templated_prompt: "t".into(),
                system_prompt: Some("Be kind.".into()),
                user_prompt: "Sing of the sea".into(),
                raw: false,
                template: None,
                sampler,
            },
            output: "waves".into(),
            stop_reason: Some(StopReason::EndOfGeneration),
            stats: None,
            sentiment: None,
            starred: false,
            note: String::new(),
            error: None,
            sweep: None,
            fork: None,
        }
    }

    fn open_history(state: &mut State) {
        history_opened(state);
        let effects = update(state, key(KeyCode::F(4)));
        assert!(matches!(
            effects.as_slice(),
            [Effect::History(HistoryCommand::Query { .. })]
        ));
        assert!(state.history.open);
        update(
            state,
            Msg::History(HistoryEvent::Listed {
                query_id: state.history.latest_query,
                rows: vec![summary(2, "Sing of the sea"), summary(1, "Older")],
            }),
        );
    }

    #[test]
    fn runs_are_recorded_as_they_stream() {
        let mut state = ready_state();
        history_opened(&mut state);
        send_prompt(&mut state, "Hi", 1);
        let effects = update(
            &mut state,
            Msg::Engine(EngineEvent::Started {
                id: 1,
                started: RunStarted {
                    templated_prompt: "<t>Hi".into(),
                    template: "embedded".into(),
                    prompt_tokens: 3,
                    context_size: 4096,
                    seed: 11,
                },
            }),
        );
        let [Effect::History(HistoryCommand::Begin { run, .. })] = effects.as_slice() else {
            panic!("{effects:?}")
        };
        assert_eq!(
            run.sampler.seed,
            Some(11),
            "the seed actually used is recorded"
        );
        assert_eq!(run.templated_prompt, "<t>Hi");
        assert_eq!(
            update(&mut state, token(1, "Hello", 1)),
            vec![Effect::History(HistoryCommand::Progress("Hello".into()))]
        );
        // A new send while generating closes the old record as interrupted before anything else.
        let effects = update(&mut state, ctrl('s'));
        assert_eq!(effects[0], Effect::Cancel(1));
        assert_eq!(
            effects[1],
            Effect::History(HistoryCommand::Abandon {
                status: RunStatus::Interrupted,
                error: None
            })
        );
        update(&mut state, Msg::GenerationSent(2));
        // Quitting mid-run keeps it as interrupted.
        let effects = update(&mut state, ctrl('q'));
        assert!(effects.contains(&Effect::History(HistoryCommand::Abandon {
            status: RunStatus::Interrupted,
            error: None
        })));
    }

    #[test]
    fn incognito_or_broken_history_records_nothing() {
        let mut state = ready_state();
        update(
            &mut state,
            Msg::History(HistoryEvent::Unavailable(
                "/x/history.sqlite is not a SQLite database".into(),
            )),
        );
        assert!(state
            .notice
            .as_ref()
            .unwrap()
            .text
            .contains("/x/history.sqlite"));
        send_prompt(&mut state, "Hi", 1);
        assert!(update(&mut state, token(1, "Hello", 1)).is_empty());
        assert!(update(&mut state, key(KeyCode::F(4))).is_empty());
        assert!(!state.history.open);
    }

    #[test]
    fn typing_searches_incrementally_and_stale_answers_are_dropped() {
        let mut state = ready_state();
        open_history(&mut state);
        let first = update(&mut state, key(KeyCode::Char('s')));
        let second = update(&mut state, key(KeyCode::Char('e')));
        let [Effect::History(HistoryCommand::Query { text, query_id, .. })] = second.as_slice()
        else {
            panic!("{second:?}")
        };
        assert_eq!(text, "se");
        assert!(matches!(
            first.as_slice(),
            [Effect::History(HistoryCommand::Query { .. })]
        ));
        update(
            &mut state,
            Msg::History(HistoryEvent::Listed {
                query_id: query_id - 1,
                rows: vec![],
            }),
        );
        assert_eq!(
            state.history.rows.len(),
            2,
            "an older query's answer is ignored"
        );
        update(
            &mut state,
            Msg::History(HistoryEvent::Listed {
                query_id: *query_id,
                rows: vec![summary(2, "Sing of the sea")],
            }),
        );
        assert_eq!(state.history.rows.len(), 1);
        update(&mut state, key(KeyCode::Backspace));
        assert_eq!(state.history.query, "s");
    }

    #[test]
    fn enter_loads_prompt_system_prompt_and_settings() {
        let mut state = ready_state();
        open_history(&mut state);
        update(&mut state, key(KeyCode::Down));
        update(&mut state, key(KeyCode::Up));
        let effects = update(&mut state, key(KeyCode::Enter));
        assert_eq!(
            effects,
            vec![Effect::History(HistoryCommand::Get {
                id: 2,
                purpose: Purpose::Load
            })]
        );
        update(
            &mut state,
            Msg::History(HistoryEvent::Fetched {
                record: Box::new(record(2)),
                purpose: Purpose::Load,
            }),
        );
        assert!(!state.history.open);
        assert_eq!(state.prompt.lines(), ["Sing of the sea"]);
        assert_eq!(state.system.lines(), ["Be kind."]);
        assert_eq!(state.controls.params.temperature, 1.3);
        assert_eq!(
            state.controls.params.seed,
            Some(5),
            "the recorded seed, fixed"
        );
    }

    #[test]
    fn replay_runs_the_record_again_and_reports_the_match() {
        let mut state = ready_state();
        open_history(&mut state);
        let effects = update(&mut state, ctrl('p'));
        assert_eq!(
            effects,
            vec![Effect::History(HistoryCommand::Get {
                id: 2,
                purpose: Purpose::Replay
            })]
        );
        let effects = update(
            &mut state,
            Msg::History(HistoryEvent::Fetched {
                record: Box::new(record(2)),
                purpose: Purpose::Replay,
            }),
        );
        let [Effect::Generate(request)] = effects.as_slice() else {
            panic!("{effects:?}")
        };
        assert_eq!(request.sampler.seed, Some(5));
        update(&mut state, Msg::GenerationSent(8));
        update(&mut state, token(8, "waves", 1));
        update(
            &mut state,
            Msg::Engine(EngineEvent::Finished {
                id: 8,
                finished: finished("waves", StopReason::EndOfGeneration),
            }),
        );
        assert_eq!(state.history.replay.as_ref().unwrap().verdict, Some(None));
        assert!(state.notice.as_ref().unwrap().text.contains("matched"));
    }

    #[test]
    fn star_and_delete_with_confirmation() {
        let mut state = ready_state();
        open_history(&mut state);
        assert_eq!(
            update(&mut state, ctrl('t')),
            vec![Effect::History(HistoryCommand::Star {
                id: 2,
                starred: true
            })]
        );
        assert!(update(&mut state, key(KeyCode::Delete)).is_empty());
        assert!(
            update(&mut state, key(KeyCode::Char('n'))).is_empty(),
            "anything but y keeps it"
        );
        update(&mut state, key(KeyCode::Delete));
        assert_eq!(
            update(&mut state, key(KeyCode::Char('y'))),
            vec![Effect::History(HistoryCommand::Delete { id: 2 })]
        );
        assert!(matches!(
            update(&mut state, Msg::History(HistoryEvent::Changed)).as_slice(),
            [Effect::History(HistoryCommand::Query { .. })]
        ));
        update(&mut state, key(KeyCode::Esc));
        assert!(!state.history.open);
    }
}

fn f(n: u8) -> Msg {
    key(KeyCode::F(n))
}

fn found_model(name: &str, path: &str) -> crate::models::discover::FoundModel {
    crate::models::discover::FoundModel {
        name: name.into(),
        path: path.into(),
        size: 98_362_432,
        parts: 1,
        source: crate::models::discover::Source {
            kind: "models dir",
            root: "models".into(),
        },
        summary: Ok(crate::models::gguf::GgufSummary {
            version: 3,
            architecture: Some("llama".into()),
            name: Some(name.into()),
            quantization: Some("Q4_1".into()),
            parameters: 134_515_008,
            context_length: Some(8192),
            layers: Some(30),
            embedding_length: Some(576),
            head_count: Some(9),
            head_count_kv: Some(3),
            has_chat_template: true,
            tensor_count: 272,
            tensor_bytes: 98_000_000,
        }),
    }
}

#[test]
fn a_prompt_preset_fills_editors_and_controls_and_selects_the_first_blank() {
    let mut state = ready_state();
    update(&mut state, f(7));
    assert!(state.picker.is_some());
    type_text(&mut state, "haiku");
    assert_eq!(
        state
            .picker
            .as_ref()
            .unwrap()
            .selected_entry()
            .unwrap()
            .name,
        "haiku"
    );
    update(&mut state, key(KeyCode::Enter));
    assert!(state.picker.is_none());
    assert_eq!(
        state.prompt.lines().join("\n"),
        "Write a haiku about {subject} in {season}."
    );
    assert!(state.system.lines().join(" ").contains("kigo"));
    assert_eq!(state.controls.params.max_tokens, 80);
    assert_eq!(state.controls.params.temperature, 0.8);
    // Typing replaces the selected first blank.
    type_text(&mut state, "rain");
    assert_eq!(
        state.prompt.lines().join("\n"),
        "Write a haiku about rain in {season}."
    );
    // A send with a blank left warns once, then sends as is.
    assert!(update(&mut state, ctrl('s')).is_empty());
    let notice = state.notice.clone().unwrap();
    assert!(
        notice.text.contains("still blank: {season}"),
        "{}",
        notice.text
    );
    let effects = update(&mut state, ctrl('s'));
    assert!(matches!(effects.as_slice(), [Effect::Generate(_)]));
}

#[test]
fn a_sampler_preset_changes_only_the_controls() {
    let mut state = ready_state();
    type_text(&mut state, "my prompt");
    state.controls.params.seed = Some(5);
    update(&mut state, f(7));
    type_text(&mut state, "wild");
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(
        state.prompt.lines().join(""),
        "my prompt",
        "prompt untouched"
    );
    assert_eq!(state.controls.params.temperature, 1.5);
    assert_eq!(state.controls.params.top_k, 0);
    assert_eq!(
        state.controls.params.seed,
        Some(5),
        "the seed choice is kept"
    );
    // Back to precise: greedy, and the values wild changed are restored.
    update(&mut state, f(7));
    type_text(&mut state, "precise");
    update(&mut state, key(KeyCode::Enter));
    assert_eq!(state.controls.params.temperature, 0.0);
    assert_eq!(state.controls.params.top_k, 40);
}

#[test]
fn picker_filters_fuzzily_and_escape_closes_without_change() {
    let mut state = ready_state();
    update(&mut state, f(7));
    type_text(&mut state, "qyj");
    let picker = state.picker.as_ref().unwrap();
    assert_eq!(picker.selected_entry().unwrap().name, "qiyan-jueju");
    update(&mut state, key(KeyCode::Backspace));
    update(&mut state, key(KeyCode::Backspace));
    update(&mut state, key(KeyCode::Backspace));
    assert_eq!(
        state.picker.as_ref().unwrap().visible.len(),
        state.presets.len(),
        "an empty filter shows everything"
    );
    let before = state.controls.params.clone();
    update(&mut state, key(KeyCode::Esc));
    assert!(state.picker.is_none());
    assert_eq!(state.controls.params, before);
}

#[test]
fn model_picker_discovers_off_thread_and_switches_the_model() {
    let mut state = ready_state();
    state.load_options = Some(LoadOptions::new("models/current.gguf"));
    state.model_dirs = vec!["/extra".into()];
    let effects = update(&mut state, f(8));
    assert_eq!(
        effects,
        vec![Effect::DiscoverModels(vec!["/extra".into()])],
        "discovery is an effect, not done in update"
    );
    assert!(state.picker.as_ref().unwrap().searching);
    update(
        &mut state,
        Msg::ModelsFound(vec![
            found_model("current", "models/current.gguf"),
            found_model("other", "models/other.gguf"),
        ]),
    );
    let picker = state.picker.as_ref().unwrap();
    assert!(!picker.searching);
    assert_eq!(
        picker.selected_entry().unwrap().name,
        "current",
        "starts on the loaded model"
    );
    // Switching while a run streams cancels it (kept as interrupted) and loads the new one.
    state.run = RunState::Generating {
        id: 7,
        prompt_tokens: 1,
        context_size: 4096,
        seed: None,
        generated: 1,
        elapsed: Duration::ZERO,
        time_to_first_token: None,
        cancelling: false,
    };
    update(&mut state, key(KeyCode::Down));
    let effects = update(&mut state, key(KeyCode::Enter));
    assert!(effects.contains(&Effect::Cancel(7)));
    let loads: Vec<_> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Load(options) => Some(options.model_path.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(loads, vec![std::path::PathBuf::from("models/other.gguf")]);
    assert!(matches!(state.model, ModelState::Loading { ref name, .. } if name == "other.gguf"));
    assert_eq!(state.run, RunState::Idle);
    // The studio stays usable while it loads: typing works.
    type_text(&mut state, "x");
    assert_eq!(state.prompt.lines().join(""), "x");
}

#[test]
fn rebound_keys_drive_dispatch_and_help() {
    let mut state = ready_state();
    let overrides = [(
        Action::OpenPresets,
        vec!["ctrl+l".parse::<crate::tui::keymap::Key>().unwrap()],
    )]
    .into();
    state.keymap = crate::tui::keymap::Keymap::with_overrides(&overrides).unwrap();
    update(&mut state, f(7));
    assert!(state.picker.is_none(), "F7 no longer opens presets");
    update(&mut state, ctrl('l'));
    assert!(state.picker.is_some());
}

mod sweep {
    use super::*;
    use crate::engine::SweepSummary;
    use crate::store::worker::HistoryCommand;

    fn variant_done(id: RequestId, variant: usize, text: &str, reason: StopReason) -> Msg {
        Msg::Engine(EngineEvent::SweepVariantFinished {
            id,
            variant,
            finished: RunFinished {
                seed: 42,
                ..finished(text, reason)
            },
        })
    }

    /// A ready studio with history open, a prompt typed, and a 3-way temperature sweep sent.
    fn swept() -> (State, crate::engine::SweepRequest) {
        let mut state = ready_state();
        history_opened(&mut state);
        type_text(&mut state, "A song about rain");
        update(&mut state, f(9));
        assert!(state.sweep_editor.is_some());
        let effects = update(&mut state, key(KeyCode::Enter));
        let request = effects
            .iter()
            .find_map(|e| match e {
                Effect::Sweep(request) => Some(request.clone()),
                _ => None,
            })
            .expect("the sweep is sent");
        update(&mut state, Msg::SweepSent(11));
        (state, request)
    }

    #[test]
    fn the_editor_plans_variants_over_the_controls_with_one_seed() {
        let (state, request) = swept();
        assert_eq!(request.variants.len(), 3);
        let temperatures: Vec<f32> = request.variants.iter().map(|v| v.temperature).collect();
        assert_eq!(temperatures, vec![0.3, 0.8, 1.3]);
        let seeds: Vec<Option<u32>> = request.variants.iter().map(|v| v.seed).collect();
        assert!(
            seeds.iter().all(|s| s.is_some() && *s == seeds[0]),
            "{seeds:?}"
        );
        assert!(
            request.variants.iter().all(|v| v.top_k == 40),
            "the rest from the controls"
        );
        assert_eq!(state.focus, Focus::Output);
        assert_eq!(state.sweep.as_ref().unwrap().id, Some(11));
        assert!(state.sweep_editor.is_none());
    }

    #[test]
    fn a_bad_list_keeps_the_editor_open_with_the_reason() {
        let mut state = ready_state();
        type_text(&mut state, "x");
        update(&mut state, f(9));
        update(&mut state, key(KeyCode::Backspace));
        type_text(&mut state, ", 9");
        assert!(update(&mut state, key(KeyCode::Enter)).is_empty());
        assert!(state.sweep_editor.is_some());
        assert!(state
            .notice
            .as_ref()
            .unwrap()
            .text
            .contains("not a valid temperature"));
    }

    #[test]
    fn events_stream_into_columns_and_every_variant_is_recorded() {
        let (mut state, _) = swept();
        let started = RunStarted {
            templated_prompt: "<prompt>".into(),
            template: "chatml".into(),
            prompt_tokens: 9,
            context_size: 4096,
            seed: 42,
        };
        let effects = update(
            &mut state,
            Msg::Engine(EngineEvent::SweepStarted {
                id: 11,
                started,
                seeds: vec![42, 42, 42],
            }),
        );
        match effects.as_slice() {
            [Effect::History(HistoryCommand::BeginSweep { varied, runs })] => {
                assert_eq!(varied, "temperature");
                assert_eq!(runs.len(), 3);
                assert_eq!(runs[2].sampler.temperature, 1.3);
                assert_eq!(runs[0].sampler.seed, Some(42));
            }
            other => panic!("{other:?}"),
        }
        update(
            &mut state,
            Msg::Engine(EngineEvent::SweepToken {
                id: 11,
                variant: 1,
                text: "Rain on the roof".into(),
                generated: 4,
                elapsed: Duration::from_millis(90),
            }),
        );
        let sweep = state.sweep.as_ref().unwrap();
        assert_eq!(sweep.columns[1].output.text(), "Rain on the roof");
        assert_eq!(sweep.columns[0].output.text(), "");
        let effects = update(
            &mut state,
            variant_done(11, 1, "Rain on the roof", StopReason::EndOfGeneration),
        );
        assert!(matches!(
            effects.as_slice(),
            [Effect::History(HistoryCommand::SweepFinish {
                variant: 1,
                ..
            })]
        ));
        assert!(state.sweep.as_ref().unwrap().diversity.is_some());
        // A stale sweep's events are ignored.
        let stale = update(
            &mut state,
            Msg::Engine(EngineEvent::SweepToken {
                id: 3,
                variant: 0,
                text: "old".into(),
                generated: 1,
                elapsed: Duration::ZERO,
            }),
        );
        assert!(stale.is_empty());
        assert_eq!(state.sweep.as_ref().unwrap().columns[0].output.text(), "");
    }

    #[test]
    fn focus_cancel_one_cancel_all_keep_and_close() {
        let (mut state, _) = swept();
        update(&mut state, key(KeyCode::Right));
        assert_eq!(state.sweep.as_ref().unwrap().focused, 1);
        let effects = update(&mut state, key(KeyCode::Char('x')));
        assert_eq!(effects, vec![Effect::CancelVariant(11, 1)]);
        assert!(state.sweep.as_ref().unwrap().columns[1].cancelling);
        update(&mut state, key(KeyCode::Char('m')));
        assert!(state.sweep.as_ref().unwrap().maximised);
        update(&mut state, key(KeyCode::Char('m')));
        // Esc while running cancels the whole sweep.
        assert_eq!(
            update(&mut state, key(KeyCode::Esc)),
            vec![Effect::Cancel(11)]
        );
        update(
            &mut state,
            variant_done(11, 0, "soft rain", StopReason::EndOfGeneration),
        );
        update(
            &mut state,
            variant_done(11, 1, "rai", StopReason::Cancelled),
        );
        update(
            &mut state,
            variant_done(11, 2, "a flood", StopReason::Cancelled),
        );
        update(
            &mut state,
            Msg::Engine(EngineEvent::SweepFinished {
                id: 11,
                summary: SweepSummary::default(),
            }),
        );
        assert!(!state.sweep.as_ref().unwrap().running);
        // Keep variant 1 (t 0.3): its text becomes the output, its settings the controls.
        update(&mut state, key(KeyCode::Left));
        update(&mut state, key(KeyCode::Enter));
        assert!(state.sweep.is_none());
        assert_eq!(state.output.text(), "soft rain");
        assert_eq!(state.controls.params.temperature, 0.3);
        assert_eq!(
            state.controls.params.seed,
            Some(42),
            "the seed is fixed to the kept one"
        );
        assert_eq!(
            state.sentiment.model,
            crate::tui::sentiment::ModelReadout::None,
            "no model readout that would have no run to be recorded with"
        );
        let regenerate = update(&mut state, ctrl('g'));
        assert!(matches!(
            regenerate.as_slice(),
            [Effect::Generate(GenerateRequest { sampler, .. })] if sampler.temperature == 0.3
        ));
    }

    #[test]
    fn a_plain_send_or_quit_stops_a_running_sweep_and_keeps_its_variants() {
        let (mut state, _) = swept();
        state.focus = Focus::Prompt;
        let effects = update(&mut state, ctrl('s'));
        assert!(effects.contains(&Effect::Cancel(11)));
        assert!(
            effects.contains(&Effect::History(HistoryCommand::AbandonSweep {
                status: RunStatus::Interrupted,
                error: None,
            }))
        );
        assert!(state.sweep.is_none());
        let (mut state, _) = swept();
        let effects = update(&mut state, ctrl('q'));
        assert!(effects.contains(&Effect::Cancel(11)));
        assert!(effects.contains(&Effect::Quit));
    }
}

mod inspector {
    use super::*;
    use crate::store::worker::{HistoryCommand, HistoryEvent};
    use crate::tui::fixtures::inspected_state;

    fn to_output(state: &mut State) {
        state.focus = Focus::Output;
    }

    #[test]
    fn details_map_onto_the_output_and_heat_toggles() {
        let mut state = inspected_state(100, 30, Theme::named(ThemeName::Dark));
        assert_eq!(state.inspector.details.len(), 12);
        let text = state.output.text().to_owned();
        let answers = state.inspector.spans[9].clone();
        assert_eq!(&text[answers], " answers");
        assert!(!state.inspector.heat);
        update(&mut state, f(10));
        assert!(state.inspector.heat);
    }

    #[test]
    fn inspect_moves_over_tokens_and_forks_with_an_alternative() {
        let mut state = inspected_state(100, 30, Theme::named(ThemeName::Dark));
        update(&mut state, Msg::History(HistoryEvent::Began { id: 77 }));
        to_output(&mut state);
        update(&mut state, key(KeyCode::Char('i')));
        assert_eq!(state.inspector.cursor, Some(11), "starts at the last token");
        update(&mut state, key(KeyCode::Left));
        update(&mut state, key(KeyCode::Left));
        assert_eq!(state.inspector.cursor, Some(9));
        update(&mut state, key(KeyCode::Down));
        assert_eq!(state.inspector.alternative, 1);
        let chosen = state.inspector.details[9].top[1].clone();
        let effects = update(&mut state, key(KeyCode::Enter));
        let fork = effects
            .iter()
            .find_map(|e| match e {
                Effect::Fork(fork) => Some(fork.clone()),
                _ => None,
            })
            .expect("a fork is sent");
        assert_eq!(fork.prefix, (100..109).collect::<Vec<i32>>());
        assert_eq!(fork.token, chosen.token);
        assert_eq!(fork.request.sampler.top_logprobs, Some(5));
        assert_eq!(
            state.output.text(),
            "The lamp turns all night,\nthe sea",
            "the kept text"
        );
        assert_eq!(state.inspector.details.len(), 9);
        assert_eq!(state.inspector.cursor, None);
        assert_eq!(state.run, RunState::Requested);
        // Recorded as a run of its own, linked to its parent.
        history_opened(&mut state);
        update(&mut state, Msg::GenerationSent(2));
        let started = RunStarted {
            templated_prompt: String::new(),
            template: "chatml".into(),
            prompt_tokens: 31,
            context_size: 4096,
            seed: 1,
        };
        let effects = update(
            &mut state,
            Msg::Engine(EngineEvent::Started { id: 2, started }),
        );
        assert!(matches!(
            effects.as_slice(),
            [
                Effect::History(HistoryCommand::Begin { .. }),
                Effect::History(HistoryCommand::LinkFork {
                    parent: 77,
                    index: 9
                })
            ]
        ));
    }

    #[test]
    fn escape_leaves_inspect_mode_and_no_data_is_explained() {
        let mut state = inspected_state(100, 30, Theme::named(ThemeName::Dark));
        to_output(&mut state);
        update(&mut state, key(KeyCode::Char('i')));
        assert!(state.inspector.cursor.is_some());
        assert!(update(&mut state, key(KeyCode::Esc)).is_empty());
        assert!(state.inspector.cursor.is_none());
        let mut empty = ready_state();
        empty.focus = Focus::Output;
        update(&mut empty, key(KeyCode::Char('i')));
        assert!(empty.inspector.cursor.is_none());
        assert!(empty.notice.unwrap().text.contains("no token data"));
    }
}

#[test]
fn a_server_from_the_model_picker_replaces_the_local_model() {
    use crate::tui::picker::ServerModels;
    let mut state = ready_state();
    let endpoint = crate::engine::remote::Endpoint::new(
        "gpu-box",
        "http://127.0.0.1:9",
        None,
        None,
        Duration::from_secs(1),
    )
    .unwrap();
    state.endpoints = vec![(
        "gpu-box".into(),
        "http://127.0.0.1:9".into(),
        Ok(endpoint.clone()),
    )];
    let effects = update(&mut state, f(8));
    assert!(effects
        .iter()
        .any(|e| matches!(e, Effect::DiscoverServers(servers) if servers.len() == 1)));
    update(&mut state, Msg::ModelsFound(Vec::new()));
    update(
        &mut state,
        Msg::ServersFound(vec![ServerModels {
            name: "gpu-box".into(),
            url: "http://127.0.0.1:9".into(),
            endpoint: Ok(endpoint),
            models: Ok(vec!["qwen-72b".into()]),
        }]),
    );
    assert_eq!(
        state
            .picker
            .as_ref()
            .unwrap()
            .selected_entry()
            .unwrap()
            .name,
        "gpu-box: qwen-72b"
    );
    let effects = update(&mut state, key(KeyCode::Enter));
    match effects.as_slice() {
        [Effect::Load(options)] => {
            let remote = options.remote.as_ref().expect("a server load");
            assert_eq!(remote.model.as_deref(), Some("qwen-72b"));
            assert_eq!(remote.public_url(), "http://127.0.0.1:9/v1");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(state.model, ModelState::Loading { ref name, .. } if name == "gpu-box: qwen-72b")
    );
}
