//! The engine on the real default model: determinism, stop reasons, cancel, UTF-8, limits.

mod common;

use common::{chat, greedy, seeded, TestEngine};
use refrain::engine::{EngineError, EngineEvent, Prompt, SamplerParams, StopReason};

#[test]
fn greedy_is_deterministic_and_streams_the_final_text() {
    let Some(mut engine) = TestEngine::start(2048) else {
        return;
    };
    let first = engine.generate(chat("Write two lines about the sea."), greedy(32));
    let second = engine.generate(chat("Write two lines about the sea."), greedy(32));
    assert!(!first.finished().text.trim().is_empty());
    assert_eq!(first.finished().text, second.finished().text);
    assert_eq!(first.streamed_text(), first.finished().text);
    let started = first.started.as_ref().expect("a Started event");
    assert!(started.templated_prompt.contains("<|im_start|>user"));
    assert!(started.prompt_tokens > 5);
    let stats = &first.finished().stats;
    assert!(stats.tokens_per_second > 0.0 && stats.prompt_tokens_per_second > 0.0);
    assert!(stats.time_to_first_token > std::time::Duration::ZERO);
    assert_eq!(stats.prompt_tokens, started.prompt_tokens);
}

#[test]
fn fixed_seed_repeats_and_another_seed_differs() {
    let Some(mut engine) = TestEngine::start(2048) else {
        return;
    };
    let prompt = || chat("Tell me a short story about a fox.");
    let a = engine.generate(prompt(), seeded(1.0, 7, 40));
    let b = engine.generate(prompt(), seeded(1.0, 7, 40));
    let c = engine.generate(prompt(), seeded(1.0, 8, 40));
    assert_eq!(a.finished().text, b.finished().text);
    assert_eq!(a.finished().seed, 7);
    assert_ne!(a.finished().text, c.finished().text);
}

#[test]
fn random_seed_is_reported_and_replays_exactly() {
    let Some(mut engine) = TestEngine::start(2048) else {
        return;
    };
    let mut params = seeded(1.0, 0, 24);
    params.seed = None;
    let first = engine.generate(chat("Name three colours."), params);
    let used = first.finished().seed;
    let replay = engine.generate(chat("Name three colours."), seeded(1.0, used, 24));
    assert_eq!(first.finished().text, replay.finished().text);
}

#[test]
fn max_tokens_is_exact() {
    let Some(mut engine) = TestEngine::start(2048) else {
        return;
    };
    for max in [1, 7, 20] {
        let outcome = engine.generate(
            Prompt::Raw("Once upon a time, in a small village by the river,".into()),
            greedy(max),
        );
        let finished = outcome.finished();
        assert_eq!(finished.stop_reason, StopReason::MaxTokens);
        assert_eq!(finished.stats.generated_tokens, max);
    }
}

#[test]
fn stop_string_ends_generation_and_is_not_shown() {
    let Some(mut engine) = TestEngine::start(2048) else {
        return;
    };
    let prompt = || Prompt::Raw("Count: 1, 2, 3, 4, 5,".into());
    let free = engine.generate(prompt(), greedy(30));
    let text = free.finished().text.clone();
    // A stop string from the middle of the free-running text, as the model would write it.
    let stop = "9,";
    let at = text
        .find(stop)
        .unwrap_or_else(|| panic!("greedy text {text:?} lacks {stop:?}"));
    let mut params = greedy(30);
    params.stop = vec![stop.to_owned()];
    let stopped = engine.generate(prompt(), params);
    let finished = stopped.finished();
    assert_eq!(finished.stop_reason, StopReason::StopString);
    assert_eq!(finished.text, text[..at]);
    assert!(!stopped.streamed_text().contains(stop));
    assert_eq!(stopped.streamed_text(), finished.text);
}

#[test]
fn cancel_stops_within_a_token_and_the_model_serves_the_next_request() {
    let Some(mut engine) = TestEngine::start(4096) else {
        return;
    };
    let mut params = seeded(1.0, 3, 100_000);
    params.stop.clear();
    let id = engine.handle.generate(refrain::engine::GenerateRequest {
        prompt: Prompt::Raw("Count: 1, 2, 3,".into()),
        sampler: SamplerParams {
            temperature: 0.0,
            ..params
        },
    });
    let mut cancelled_at = None;
    let outcome = engine.collect(id, |handle, generated| {
        if generated == 5 && cancelled_at.is_none() {
            handle.cancel(id);
            cancelled_at = Some(generated);
        }
    });
    let finished = outcome.finished();
    assert_eq!(finished.stop_reason, StopReason::Cancelled);
    // The token in flight when cancel arrived may still finish; nothing after it.
    assert!(
        finished.stats.generated_tokens <= 5 + 2,
        "generated {} tokens after cancelling at 5",
        finished.stats.generated_tokens
    );
    let next = engine.generate(chat("Say hello."), greedy(8));
    assert!(!next.finished().text.is_empty());
    assert!(
        std::iter::from_fn(|| engine.events.try_recv().ok())
            .all(|event| !matches!(event, EngineEvent::Loaded { .. })),
        "the model must not be reloaded"
    );
}

#[test]
fn chinese_streams_without_replacement_characters() {
    let Some(mut engine) = TestEngine::start(2048) else {
        return;
    };
    let outcome = engine.generate(chat("用中文写一首关于月亮的短诗。"), greedy(80));
    let text = &outcome.finished().text;
    assert!(
        text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "expected Chinese output, got {text:?}"
    );
    for piece in &outcome.pieces {
        assert!(!piece.contains('\u{fffd}'), "piece {piece:?} has U+FFFD");
    }
    assert_eq!(&outcome.streamed_text(), text);
}

#[test]
fn over_long_prompt_is_refused_with_both_counts() {
    let Some(mut engine) = TestEngine::start(256) else {
        return;
    };
    let long = "lyrics and melody ".repeat(200);
    let outcome = engine.generate(chat(&long), greedy(8));
    match outcome.result {
        Err(EngineError::PromptTooLong {
            prompt_tokens,
            context_size,
        }) => {
            assert!(prompt_tokens > context_size);
            let message = outcome.result.unwrap_err().to_string();
            assert!(message.contains(&prompt_tokens.to_string()), "{message}");
            assert!(message.contains(&context_size.to_string()), "{message}");
        }
        other => panic!(
            "expected PromptTooLong, got {:?}",
            other.map(|f| f.stop_reason)
        ),
    }
    // The engine still works afterwards.
    assert!(!engine
        .generate(chat("Hi"), greedy(4))
        .finished()
        .text
        .is_empty());
}

#[test]
fn tiny_context_stops_with_context_full() {
    let Some(mut engine) = TestEngine::start(128) else {
        return;
    };
    let outcome = engine.generate(
        Prompt::Raw("1, 2, 3, 4, 5, 6, 7, 8, 9, 10,".into()),
        greedy(100_000),
    );
    let finished = outcome.finished();
    assert_eq!(finished.stop_reason, StopReason::ContextFull);
    assert_eq!(finished.stats.context_used, finished.stats.context_size);
    assert!(finished.stats.generated_tokens > 50);
}

#[test]
fn prompts_longer_than_a_batch_are_decoded_in_chunks() {
    let prompt = || chat(&"Verse, chorus, verse, bridge. ".repeat(30));
    let Some(mut big_batch) = TestEngine::start(2048) else {
        return;
    };
    let reference = big_batch.generate(prompt(), greedy(16));
    drop(big_batch);
    let Some(mut small_batch) = TestEngine::start_with(|options| {
        options.context_size = 2048;
        options.batch_size = 16;
    }) else {
        return;
    };
    let chunked = small_batch.generate(prompt(), greedy(16));
    assert!(chunked.finished().stats.prompt_tokens > 100);
    // Other batch shapes sum in another order, so late tokens may drift; a broken chunking
    // (wrong positions, lost tokens) changes the answer from its first words.
    let opening = |text: &str| {
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        opening(&chunked.finished().text),
        opening(&reference.finished().text)
    );
}

#[test]
fn template_override_and_raw_mode() {
    let Some(mut engine) = TestEngine::start(2048) else {
        return;
    };
    let gemma = engine.generate(
        Prompt::Chat {
            system: None,
            user: "Hi".into(),
            template: Some("gemma".into()),
        },
        greedy(4),
    );
    let started = gemma.started.expect("Started");
    assert!(started.templated_prompt.contains("<start_of_turn>user"));
    assert!(started.template.contains("gemma"));
    let unknown = engine.generate(
        Prompt::Chat {
            system: None,
            user: "Hi".into(),
            template: Some("no-such-template".into()),
        },
        greedy(4),
    );
    let error = unknown.result.expect_err("unknown template must fail");
    assert!(error.to_string().contains("no-such-template"), "{error}");
    let raw = engine.generate(Prompt::Raw("The capital of France is".into()), greedy(4));
    assert_eq!(
        raw.started.expect("Started").templated_prompt,
        "The capital of France is"
    );
}

#[test]
fn invalid_sampler_values_are_refused() {
    let Some(mut engine) = TestEngine::start(2048) else {
        return;
    };
    let mut params = greedy(4);
    params.top_p = 0.0;
    let outcome = engine.generate(chat("Hi"), params);
    assert!(matches!(
        outcome.result,
        Err(EngineError::InvalidSampler { .. })
    ));
}

#[test]
fn loading_can_be_cancelled_and_a_later_load_works() {
    let Some(model) = common::model_path() else {
        return;
    };
    let (handle, mut events) = refrain::engine::EngineHandle::spawn();
    let mut options = refrain::engine::LoadOptions::new(&model);
    options.preflight = refrain::engine::Preflight::ChildProcess {
        program: env!("CARGO_BIN_EXE_refrain").into(),
    };
    let first = handle.load(options.clone());
    handle.cancel(first);
    loop {
        match common::recv(&mut events) {
            EngineEvent::Failed { id, error } if id == first => {
                assert!(
                    matches!(error, EngineError::LoadCancelled { .. }),
                    "{error}"
                );
                break;
            }
            EngineEvent::Loaded { id, .. } if id == first => panic!("cancelled load finished"),
            _ => {}
        }
    }
    let second = handle.load(options);
    loop {
        match common::recv(&mut events) {
            EngineEvent::Loaded { id, info } if id == second => {
                assert_eq!(info.quantization, "Q4_1");
                assert_eq!(info.architecture, "llama");
                assert!(info.has_chat_template);
                break;
            }
            EngineEvent::Failed { id, error } if id == second => panic!("{error}"),
            _ => {}
        }
    }
}

#[test]
fn a_model_without_a_chat_template_falls_back_to_chatml_and_says_so() {
    let Some(model) = common::model_path() else {
        return;
    };
    let mut bytes = std::fs::read(&model).unwrap();
    let key = b"tokenizer.chat_template";
    let at = bytes
        .windows(key.len())
        .position(|w| w == key)
        .expect("the default model has a chat template");
    // Same length, other name: llama.cpp no longer finds a template.
    bytes[at + key.len() - 1] = b'X';
    let dir = tempfile::tempdir().unwrap();
    let no_template = dir.path().join("no-template.gguf");
    std::fs::write(&no_template, &bytes).unwrap();
    let Some(mut engine) = TestEngine::start_with(|options| {
        options.model_path = no_template.clone();
        options.context_size = 1024;
    }) else {
        return;
    };
    assert!(!engine.info.has_chat_template);
    let outcome = engine.generate(chat("Hi"), greedy(4));
    let started = outcome.started.expect("Started");
    assert!(
        started.template.contains("fallback"),
        "{}",
        started.template
    );
    assert!(started.templated_prompt.contains("<|im_start|>user\nHi"));
    outcome.result.expect("generation works with the fallback");
}

#[test]
fn model_classifier_ranks_a_positive_line_above_a_negative_one() {
    let Some(mut engine) = TestEngine::start(2048) else {
        return;
    };
    // The conversation's cache must survive classification: same greedy text before and after.
    let before = engine.generate(chat("Name a fruit."), greedy(8));
    let id = engine.handle.classify(vec![
        "I love this song, it makes me so happy!".into(),
        "This is awful. I hate it and I feel miserable.".into(),
        "月亮很美，我很幸福。".into(),
    ]);
    let results = loop {
        match common::recv(&mut engine.events) {
            EngineEvent::Classified { id: got, results } if got == id => break results,
            EngineEvent::Failed { id: got, error } if got == id => panic!("{error}"),
            _ => {}
        }
    };
    assert_eq!(results.len(), 3);
    for r in &results {
        assert!((r.positive + r.negative + r.neutral - 1.0).abs() < 1e-9);
    }
    assert!(
        results[0].score() > results[1].score(),
        "positive {:?} should outrank negative {:?}",
        results[0],
        results[1]
    );
    let after = engine.generate(chat("Name a fruit."), greedy(8));
    assert_eq!(before.finished().text, after.finished().text);
}

#[test]
fn classification_can_be_cancelled_between_texts() {
    let Some(mut engine) = TestEngine::start(2048) else {
        return;
    };
    let id = engine.handle.classify(vec!["A fine day.".to_owned(); 500]);
    engine.handle.cancel(id);
    loop {
        match common::recv(&mut engine.events) {
            EngineEvent::Failed { id: got, error } if got == id => {
                assert_eq!(error, EngineError::Cancelled);
                break;
            }
            EngineEvent::Classified { id: got, .. } if got == id => panic!("cancel ignored"),
            _ => {}
        }
    }
    assert!(!engine
        .generate(chat("Hi"), greedy(4))
        .finished()
        .text
        .is_empty());
}
