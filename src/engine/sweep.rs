//! A sweep: one prompt, several sampler settings. The prompt is read once into sequence 0 and
//! its cache copied to one sequence per variant; then every step decodes one token of each
//! running variant in a single batch, and each variant samples from its own logits with its own
//! sampler chain. N variants cost about one prompt plus N tokens per step, not N runs.

use std::time::{Duration, Instant};

use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::DecodeError;
use tokio::sync::mpsc::UnboundedSender;

use super::error::EngineError;
use super::events::{EngineEvent, RunFinished, RunStarted, RunStats, StopReason, SweepSummary};
use super::generate::{
    build_sampler, per_second, prepare_prompt, random_seed, read_tokens, validate,
};
use super::request::{RequestId, SweepRequest, MAX_SWEEP_VARIANTS};
use super::text_stream::{StopMatcher, StopScan, Utf8Stream};
use super::worker::{CancelFlag, Session};

/// One variant's decoding state.
struct Variant {
    sampler: LlamaSampler,
    seed: u32,
    max_tokens: u32,
    utf8: Utf8Stream,
    stops: StopMatcher,
    text: String,
    generated: u32,
    /// Where its next token goes in the sequence.
    position: i32,
    /// Index of its logits in the last decoded batch.
    logits_index: i32,
    first_token_at: Option<Instant>,
    time_to_first_token: Duration,
    ended: Option<StopReason>,
    ended_at: Option<Instant>,
}

pub fn run(
    session: &mut Session<'_>,
    id: RequestId,
    request: &SweepRequest,
    events: &UnboundedSender<EngineEvent>,
    cancel: &CancelFlag,
) -> Result<SweepSummary, EngineError> {
    let started = Instant::now();
    let count = request.variants.len();
    if !(2..=MAX_SWEEP_VARIANTS).contains(&count) {
        return Err(EngineError::InvalidSampler {
            reason: format!("a sweep has 2 to {MAX_SWEEP_VARIANTS} variants, got {count}"),
        });
    }
    for params in &request.variants {
        validate(params)?;
    }
    let model = session.model;
    let (templated_prompt, template, tokens) = prepare_prompt(model, &request.prompt)?;
    let context_size = session.context.n_ctx();
    let prompt_tokens = tokens.len() as u32;
    // The variants share the cache: the prompt plus one token each must fit.
    if prompt_tokens + count as u32 > context_size {
        return Err(EngineError::PromptTooLong {
            prompt_tokens,
            context_size,
        });
    }
    let mut variants: Vec<Variant> = request
        .variants
        .iter()
        .map(|params| {
            let seed = params.seed.unwrap_or_else(random_seed);
            Variant {
                sampler: build_sampler(model, params, seed),
                seed,
                max_tokens: params.max_tokens,
                utf8: Utf8Stream::default(),
                stops: StopMatcher::new(&params.stop),
                text: String::new(),
                generated: 0,
                position: prompt_tokens as i32,
                logits_index: 0,
                first_token_at: None,
                time_to_first_token: Duration::ZERO,
                ended: None,
                ended_at: None,
            }
        })
        .collect();
    let _ = events.send(EngineEvent::SweepStarted {
        id,
        started: RunStarted {
            templated_prompt,
            template,
            prompt_tokens,
            context_size,
            seed: variants[0].seed,
        },
        seeds: variants.iter().map(|v| v.seed).collect(),
    });

    // The prompt, once, into sequence 0; then a copy of its cache for every other variant.
    session.context.clear_kv_cache();
    session.cached.clear();
    let prompt_started = Instant::now();
    if !read_tokens(session, &tokens, 0, || cancel.is_cancelled(id))? {
        return Ok(finish_all(
            id,
            &mut variants,
            events,
            StopReason::Cancelled,
            started,
        ));
    }
    let prompt_eval_time = prompt_started.elapsed();
    for sequence in 1..count as i32 {
        session
            .context
            .copy_kv_cache_seq(0, sequence, None, None)
            .map_err(|error| EngineError::Decode {
                reason: format!("could not share the prompt's cache: {error}"),
            })?;
    }
    let prompt_logits = session.batch.n_tokens() - 1;
    for variant in &mut variants {
        variant.logits_index = prompt_logits;
    }

    let vocab = model.vocab();
    let mut piece = Vec::with_capacity(32);
    let generation_started = Instant::now();
    // Cells in use: the prompt once, plus every variant's tokens.
    let mut cells_used = prompt_tokens;
    loop {
        // Sample one token for every running variant from the last batch's logits.
        let mut next: Vec<(usize, llama_cpp_2::token::LlamaToken)> = Vec::new();
        for (index, variant) in variants.iter_mut().enumerate() {
            if variant.ended.is_some() {
                continue;
            }
            if cancel.is_variant_cancelled(id, index) {
                end(variant, StopReason::Cancelled);
                continue;
            }
            if variant.generated >= variant.max_tokens {
                end(variant, StopReason::MaxTokens);
                continue;
            }
            let token = variant
                .sampler
                .sample(&session.context, variant.logits_index);
            if vocab.is_eog(token) {
                end(variant, StopReason::EndOfGeneration);
                continue;
            }
            variant.generated += 1;
            if variant.first_token_at.is_none() {
                variant.first_token_at = Some(Instant::now());
                variant.time_to_first_token = started.elapsed();
            }
            piece.clear();
            vocab.token_to_piece_into(token, &mut piece, false, None);
            let decoded = variant.utf8.push(&piece);
            let (shown, stopped) = match variant.stops.push(&decoded) {
                StopScan::Continue(shown) => (shown, false),
                StopScan::Stopped(shown) => (shown, true),
            };
            variant.text.push_str(&shown);
            variant.emit(id, index, shown, events);
            if stopped {
                end(variant, StopReason::StopString);
            } else if variant.generated >= variant.max_tokens {
                end(variant, StopReason::MaxTokens);
            } else if variant.position as u32 >= context_size {
                end(variant, StopReason::ContextFull);
            } else {
                next.push((index, token));
            }
        }
        for (index, variant) in variants.iter_mut().enumerate() {
            if variant.ended.is_some() && variant.ended_at.is_none() {
                variant.ended_at = Some(Instant::now());
                let timing = Timing {
                    prompt_tokens,
                    context_size,
                    prompt_eval_time,
                    generation_started,
                };
                report(id, index, variant, events, &timing);
            }
        }
        if next.is_empty() {
            break;
        }
        if cells_used + next.len() as u32 > context_size {
            for &(index, _) in &next {
                end(&mut variants[index], StopReason::ContextFull);
            }
            continue;
        }
        // One batch: the next token of every running variant, each in its own sequence.
        session.batch.clear();
        for (slot, &(index, token)) in next.iter().enumerate() {
            let variant = &mut variants[index];
            session
                .batch
                .add(token, variant.position, &[index as i32], true)
                .map_err(decode_error)?;
            variant.logits_index = slot as i32;
        }
        match session.context.decode(&mut session.batch) {
            Ok(()) => {}
            Err(DecodeError::NoKvCacheSlot) => {
                for &(index, _) in &next {
                    end(&mut variants[index], StopReason::ContextFull);
                }
                continue;
            }
            Err(error) => return Err(decode_error(error)),
        }
        cells_used += next.len() as u32;
        for &(index, _) in &next {
            variants[index].position += 1;
        }
    }
    let generated_tokens = variants.iter().map(|v| v.generated).sum();
    let generation_time = generation_started.elapsed();
    Ok(SweepSummary {
        prompt_tokens,
        prompt_eval_time,
        generation_time,
        generated_tokens,
        tokens_per_second: per_second(generated_tokens, generation_time),
    })
}

impl Variant {
    /// Streams a piece of this variant's text.
    fn emit(
        &self,
        id: RequestId,
        index: usize,
        text: String,
        events: &UnboundedSender<EngineEvent>,
    ) {
        let _ = events.send(EngineEvent::SweepToken {
            id,
            variant: index,
            text,
            generated: self.generated,
            elapsed: self.first_token_at.map(|t| t.elapsed()).unwrap_or_default(),
        });
    }
}

fn end(variant: &mut Variant, reason: StopReason) {
    if variant.ended.is_none() {
        variant.ended = Some(reason);
    }
}

/// What every variant's stats share.
struct Timing {
    prompt_tokens: u32,
    context_size: u32,
    prompt_eval_time: Duration,
    generation_started: Instant,
}

/// Sends a variant's final event: its text (held-back text flushed unless a stop string cut
/// it) and its own measurements (its tokens over the time until it ended, as `run` counts).
fn report(
    id: RequestId,
    index: usize,
    variant: &mut Variant,
    events: &UnboundedSender<EngineEvent>,
    timing: &Timing,
) {
    let reason = variant.ended.unwrap_or(StopReason::Cancelled);
    if reason != StopReason::StopString {
        let held = variant.stops.flush();
        if !held.is_empty() {
            variant.text.push_str(&held);
            variant.emit(id, index, held, events);
        }
    }
    let generation_time = variant
        .ended_at
        .map(|end| end.saturating_duration_since(timing.generation_started))
        .unwrap_or_default();
    let stats = RunStats {
        prompt_tokens: timing.prompt_tokens,
        prompt_eval_time: timing.prompt_eval_time,
        prompt_tokens_per_second: per_second(timing.prompt_tokens, timing.prompt_eval_time),
        time_to_first_token: variant.time_to_first_token,
        generated_tokens: variant.generated,
        generation_time,
        tokens_per_second: per_second(variant.generated, generation_time),
        context_used: timing.prompt_tokens + variant.generated,
        context_size: timing.context_size,
        ..RunStats::default()
    };
    let _ = events.send(EngineEvent::SweepVariantFinished {
        id,
        variant: index,
        finished: RunFinished {
            text: variant.text.clone(),
            stop_reason: reason,
            seed: variant.seed,
            stats,
        },
    });
}

/// Cancelled before any token: every variant ends at once.
fn finish_all(
    id: RequestId,
    variants: &mut [Variant],
    events: &UnboundedSender<EngineEvent>,
    reason: StopReason,
    started: Instant,
) -> SweepSummary {
    let timing = Timing {
        prompt_tokens: 0,
        context_size: 0,
        prompt_eval_time: started.elapsed(),
        generation_started: started,
    };
    for (index, variant) in variants.iter_mut().enumerate() {
        variant.ended = Some(reason);
        variant.ended_at = Some(Instant::now());
        report(id, index, variant, events, &timing);
    }
    SweepSummary::default()
}

fn decode_error(error: impl std::fmt::Display) -> EngineError {
    EngineError::Decode {
        reason: error.to_string(),
    }
}
