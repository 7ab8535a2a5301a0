//! Ready-made states for tests, snapshots and the draw benchmark (not used by the studio).

use std::time::Duration;

use super::state::{ModelState, State};
use super::theme::Theme;
use super::update::{resize, update, Msg};
use crate::engine::{EngineEvent, ModelInfo, RunStarted, SamplerParams};

/// A plausible loaded model: the default SmolLM2 on CPU.
pub fn model_info() -> ModelInfo {
    ModelInfo {
        path: "models/SmolLM2-135M-Instruct.Q4_1.gguf".into(),
        name: "SmolLM2 135M Instruct".into(),
        architecture: "llama".into(),
        quantization: "Q4_1".into(),
        parameters: 134_515_008,
        size_bytes: 98_362_432,
        layers: 30,
        gpu_layers_offloaded: 0,
        gpu_offload_supported: false,
        offload: Vec::new(),
        context_size: 4096,
        trained_context: 8192,
        batch_size: 512,
        threads: 2,
        vocab_size: 49_152,
        has_chat_template: true,
        load_time: Duration::from_millis(120),
    }
}

/// A studio of `width`×`height` with a loaded model that is streaming `pieces` as run 1.
pub fn streaming_state<'a>(
    width: u16,
    height: u16,
    theme: Theme,
    prompt: &str,
    pieces: impl IntoIterator<Item = &'a str>,
) -> State {
    let mut state = State::new(SamplerParams::default(), theme);
    state.model = ModelState::Ready(Box::new(model_info()));
    resize(&mut state, width, height);
    update(&mut state, Msg::Paste(prompt.into()));
    update(
        &mut state,
        Msg::Key(ratatui::crossterm::event::KeyEvent::new(
            ratatui::crossterm::event::KeyCode::Char('s'),
            ratatui::crossterm::event::KeyModifiers::CONTROL,
        )),
    );
    update(&mut state, Msg::GenerationSent(1));
    update(
        &mut state,
        Msg::Engine(EngineEvent::Started {
            id: 1,
            started: RunStarted {
                templated_prompt: String::new(),
                template: "embedded".into(),
                prompt_tokens: 31,
                context_size: 4096,
                seed: 1234,
            },
        }),
    );
    for (i, piece) in pieces.into_iter().enumerate() {
        update(
            &mut state,
            Msg::Engine(EngineEvent::Token {
                id: 1,
                text: piece.into(),
                generated: i as u32 + 1,
                elapsed: Duration::from_millis(8 * i as u64),
            }),
        );
    }
    state
}

/// A studio whose finished response has token details: each piece with a made-up
/// probability, entropy and alternatives (for inspector snapshots and tests).
pub fn inspected_state(width: u16, height: u16, theme: Theme) -> State {
    use crate::engine::inspect::{Alternative, StageCount, TokenDetail};
    const TOKENS: [(&str, f64); 12] = [
        ("The", 0.82),
        (" lamp", 0.41),
        (" turns", 0.18),
        (" all", 0.66),
        (" night", 0.93),
        (",", 0.55),
        ("\n", 0.71),
        ("the", 0.38),
        (" sea", 0.25),
        (" answers", 0.04),
        (" in", 0.61),
        (" silver", 0.07),
    ];
    let mut state = streaming_state(width, height, theme, "A line about a lighthouse", []);
    for (i, (text, probability)) in TOKENS.iter().enumerate() {
        let alternatives = [
            (*text, *probability),
            (" light", (1.0 - probability) * 0.5),
            (" sea", (1.0 - probability) * 0.3),
        ];
        let mut top: Vec<Alternative> = alternatives
            .iter()
            .enumerate()
            .map(|(k, (t, p))| Alternative {
                token: if k == 0 {
                    100 + i as i32
                } else {
                    900 + k as i32
                },
                text: (*t).into(),
                bytes: t.as_bytes().to_vec(),
                probability: *p,
                logprob: p.ln(),
            })
            .collect();
        top.sort_by(|a, b| b.probability.total_cmp(&a.probability));
        update(
            &mut state,
            Msg::Engine(EngineEvent::TokenDetail {
                id: 1,
                detail: TokenDetail {
                    index: i as u32,
                    token: 100 + i as i32,
                    text: (*text).into(),
                    bytes: text.as_bytes().to_vec(),
                    probability: *probability,
                    logprob: probability.ln(),
                    sampler_probability: (probability * 1.3).min(1.0),
                    entropy: 0.2 + (1.0 - probability) * 3.0,
                    top,
                    stages: vec![
                        StageCount {
                            stage: "vocabulary".into(),
                            candidates: 49_152,
                        },
                        StageCount {
                            stage: "top-k".into(),
                            candidates: 40,
                        },
                        StageCount {
                            stage: "top-p".into(),
                            candidates: 11 - i.min(9),
                        },
                        StageCount {
                            stage: "min-p".into(),
                            candidates: 6 - i.min(5),
                        },
                    ],
                },
            }),
        );
        update(
            &mut state,
            Msg::Engine(EngineEvent::Token {
                id: 1,
                text: (*text).into(),
                generated: i as u32 + 1,
                elapsed: Duration::from_millis(8 * i as u64),
            }),
        );
    }
    let text: String = TOKENS.iter().map(|(t, _)| *t).collect();
    update(
        &mut state,
        Msg::Engine(EngineEvent::Finished {
            id: 1,
            finished: crate::engine::RunFinished {
                text,
                stop_reason: crate::engine::StopReason::EndOfGeneration,
                seed: 1234,
                stats: crate::engine::RunStats {
                    generated_tokens: TOKENS.len() as u32,
                    tokens_per_second: 118.0,
                    context_size: 4096,
                    context_used: 43,
                    prompt_tokens: 31,
                    ..Default::default()
                },
            },
        }),
    );
    state
}
