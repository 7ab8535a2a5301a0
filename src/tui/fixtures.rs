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
