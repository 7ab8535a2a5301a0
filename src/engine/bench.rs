//! A measurement done the way llama.cpp's `llama-bench` does it, so the two compare directly:
//! `pp` decodes a batch of random tokens, `tg` decodes one random token at a time without
//! sampling; each after one warm-up run, with the KV cache cleared before every repetition.

use std::time::Instant;

use llama_cpp_2::token::LlamaToken;
use tokio::sync::mpsc::UnboundedSender;

use super::error::EngineError;
use super::events::{BenchRow, EngineEvent};
use super::request::{BenchSpec, RequestId};
use super::worker::{CancelFlag, Session};

pub fn run(
    session: &mut Session<'_>,
    id: RequestId,
    spec: BenchSpec,
    events: &UnboundedSender<EngineEvent>,
    cancel: &CancelFlag,
) -> Result<(), EngineError> {
    let needed = spec.prompt_tokens.max(spec.generate_tokens);
    let context_size = session.context.n_ctx();
    if needed > context_size {
        return Err(EngineError::PromptTooLong {
            prompt_tokens: needed,
            context_size,
        });
    }
    let mut random = Lcg(42);
    let vocab_size = session.model.n_vocab().max(1) as u32;
    let mut random_token = move || LlamaToken((random.next() % vocab_size) as i32);

    let tests = [
        (
            format!("pp{}", spec.prompt_tokens),
            spec.prompt_tokens,
            true,
        ),
        (
            format!("tg{}", spec.generate_tokens),
            spec.generate_tokens,
            false,
        ),
    ];
    for (name, tokens, is_prompt) in tests {
        if tokens == 0 {
            continue;
        }
        let mut row = BenchRow {
            test: name,
            tokens,
            samples: Vec::with_capacity(spec.repetitions as usize),
        };
        // Warm-up, as llama-bench does: a full prompt, or a single generated token.
        let warmup_tokens = if is_prompt { tokens } else { 1 };
        measure(session, warmup_tokens, is_prompt, &mut random_token)?;
        for _ in 0..spec.repetitions {
            if cancel.is_cancelled(id) {
                return Ok(());
            }
            let seconds = measure(session, tokens, is_prompt, &mut random_token)?;
            row.samples
                .push(f64::from(tokens) / seconds.max(f64::EPSILON));
        }
        let _ = events.send(EngineEvent::BenchRow { id, row });
    }
    Ok(())
}

/// Decodes `count` tokens, as one prompt or one by one; returns the seconds it took.
fn measure(
    session: &mut Session<'_>,
    count: u32,
    is_prompt: bool,
    random_token: &mut impl FnMut() -> LlamaToken,
) -> Result<f64, EngineError> {
    let decode_error = |error: llama_cpp_2::DecodeError| EngineError::Decode {
        reason: error.to_string(),
    };
    let add_error = |error: llama_cpp_2::llama_batch::BatchAddError| EngineError::Decode {
        reason: error.to_string(),
    };
    session.context.clear_kv_cache();
    session.cached.clear();
    let batch_size = session.context.n_batch();
    let started = Instant::now();
    if is_prompt {
        let mut position = 0u32;
        while position < count {
            session.batch.clear();
            let end = (position + batch_size).min(count);
            for p in position..end {
                session
                    .batch
                    .add(random_token(), p as i32, &[0], p + 1 == count)
                    .map_err(add_error)?;
            }
            session
                .context
                .decode(&mut session.batch)
                .map_err(decode_error)?;
            position = end;
        }
    } else {
        for p in 0..count {
            session.batch.clear();
            session
                .batch
                .add(random_token(), p as i32, &[0], true)
                .map_err(add_error)?;
            session
                .context
                .decode(&mut session.batch)
                .map_err(decode_error)?;
        }
    }
    session.context.synchronize();
    Ok(started.elapsed().as_secs_f64())
}

/// Deterministic token ids; what matters is that they are valid and not all the same.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as u32
    }
}
