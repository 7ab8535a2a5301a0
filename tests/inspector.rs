//! The token inspector and forking on the real model.

mod common;

use common::{chat, greedy, seeded, TestEngine};
use refrain::engine::inspect::TokenDetail;
use refrain::engine::{EngineEvent, ForkRequest, GenerateRequest, RequestId, RunFinished};

/// Runs `request` (or a fork) and returns its token details and result.
fn collect(engine: &mut TestEngine, id: RequestId) -> (Vec<TokenDetail>, RunFinished) {
    let mut details = Vec::new();
    loop {
        let event = common::recv(&mut engine.events);
        if event.id() != id {
            continue;
        }
        match event {
            EngineEvent::TokenDetail { detail, .. } => details.push(detail),
            EngineEvent::Finished { finished, .. } => return (details, finished),
            EngineEvent::Failed { error, .. } => panic!("{error}"),
            _ => {}
        }
    }
}

fn inspected(mut params: refrain::engine::SamplerParams) -> refrain::engine::SamplerParams {
    params.top_logprobs = Some(5);
    params
}

const PROMPT: &str = "Write a line about autumn leaves.";

#[test]
fn greedy_always_takes_the_top_alternative() {
    let Some(mut engine) = TestEngine::start(1024) else {
        return;
    };
    let id = engine.handle.generate(GenerateRequest {
        prompt: chat(PROMPT),
        sampler: inspected(greedy(24)),
    });
    let (details, finished) = collect(&mut engine, id);
    assert_eq!(details.len() as u32, finished.stats.generated_tokens);
    for (i, detail) in details.iter().enumerate() {
        assert_eq!(detail.index as usize, i);
        assert_eq!(
            detail.top[0].token, detail.token,
            "token {i}: greedy takes the top"
        );
        assert_eq!(detail.top.len(), 5);
        assert_eq!(detail.sampler_probability, 1.0);
        assert!(detail
            .top
            .windows(2)
            .all(|w| w[0].probability >= w[1].probability));
        assert!(detail.entropy >= 0.0);
    }
    let text: String = details.iter().map(|d| d.text.as_str()).collect();
    assert_eq!(text, finished.text, "the tokens spell the text");
}

#[test]
fn inspecting_changes_nothing_that_is_generated() {
    let Some(mut engine) = TestEngine::start(1024) else {
        return;
    };
    let plain = engine.generate(chat(PROMPT), seeded(0.9, 11, 32));
    let id = engine.handle.generate(GenerateRequest {
        prompt: chat(PROMPT),
        sampler: inspected(seeded(0.9, 11, 32)),
    });
    let (details, finished) = collect(&mut engine, id);
    assert_eq!(finished.text, plain.finished().text);
    // A seeded draw at 0.9 with the default chain keeps few candidates; the counts say so.
    for detail in &details {
        let names: Vec<&str> = detail.stages.iter().map(|s| s.stage.as_str()).collect();
        assert_eq!(names, ["vocabulary", "top-k", "top-p", "min-p"]);
        let counts: Vec<usize> = detail.stages.iter().map(|s| s.candidates).collect();
        assert_eq!(counts[0], engine.info.vocab_size as usize);
        assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
        assert!(counts[1] <= 40);
        assert!(
            detail.sampler_probability > 0.0,
            "the drawn token survived the chain"
        );
    }
}

#[test]
fn fork_keeps_the_prefix_and_places_the_alternative() {
    let Some(mut engine) = TestEngine::start(1024) else {
        return;
    };
    let request = GenerateRequest {
        prompt: chat(PROMPT),
        sampler: inspected(greedy(30)),
    };
    let id = engine.handle.generate(request.clone());
    let (parent, parent_finished) = collect(&mut engine, id);
    let at = 6;
    let alternative = parent[at].top[1].clone();
    let fork = ForkRequest {
        request: request.clone(),
        prefix: parent[..at].iter().map(|d| d.token).collect(),
        token: alternative.token,
    };
    let id = engine.handle.fork(fork.clone());
    let (child, child_finished) = collect(&mut engine, id);
    assert_eq!(
        child[0].index as usize, at,
        "the fork's tokens continue the numbering"
    );
    assert_eq!(
        child[0].token, alternative.token,
        "token i is the chosen alternative"
    );
    assert!(
        (child[0].probability - alternative.probability).abs() < 1e-6,
        "its probability is the one the parent's inspector showed"
    );
    let kept: String = parent[..at].iter().map(|d| d.text.as_str()).collect();
    assert!(
        child_finished.text.starts_with(&kept),
        "the first i tokens are the parent's"
    );
    assert_eq!(
        child_finished.text[kept.len()..].chars().next(),
        alternative.text.chars().next()
    );
    assert_ne!(child_finished.text, parent_finished.text);

    // The same fork with the cache no longer holding the parent (recomputed) gives the same.
    engine.generate(chat("Something else entirely."), greedy(8));
    let id = engine.handle.fork(fork);
    let (_, recomputed) = collect(&mut engine, id);
    assert_eq!(recomputed.text, child_finished.text);
}
