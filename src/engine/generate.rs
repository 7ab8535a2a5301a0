//! The decode loop: prompt in chunks of `n_batch`, then sample → end check → text → decode,
//! streaming each token as an event and checking for cancel before every token.

use std::time::{Duration, Instant};

use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::DecodeError;
use tokio::sync::mpsc::UnboundedSender;

use super::error::EngineError;
use super::events::{EngineEvent, RunFinished, RunStarted, RunStats, StopReason};
use super::inspect::{inspect, Alternative, TokenDetail};
use super::request::{ForkRequest, GenerateRequest, Prompt, RequestId, SamplerParams};
use super::template::render_prompt;
use super::text_stream::{StopMatcher, StopScan, Utf8Stream};
use super::worker::{CancelFlag, Session};

pub fn run(
    session: &mut Session<'_>,
    id: RequestId,
    request: &GenerateRequest,
    events: &UnboundedSender<EngineEvent>,
    cancel: &CancelFlag,
) -> Result<RunFinished, EngineError> {
    run_from(session, id, request, None, events, cancel)
}

/// Continues an earlier response from token `fork.prefix.len()` with `fork.token` instead of
/// what was sampled there. The prompt and the kept tokens are not recomputed when the cache
/// still holds them (the last run): it is cut back to that position.
pub fn fork(
    session: &mut Session<'_>,
    id: RequestId,
    fork: &ForkRequest,
    events: &UnboundedSender<EngineEvent>,
    cancel: &CancelFlag,
) -> Result<RunFinished, EngineError> {
    run_from(session, id, &fork.request, Some(fork), events, cancel)
}

fn run_from(
    session: &mut Session<'_>,
    id: RequestId,
    request: &GenerateRequest,
    fork: Option<&ForkRequest>,
    events: &UnboundedSender<EngineEvent>,
    cancel: &CancelFlag,
) -> Result<RunFinished, EngineError> {
    let started = Instant::now();
    let sampler_params = &request.sampler;
    validate(sampler_params)?;
    let model = session.model;
    let (templated_prompt, template, tokens) = prepare_prompt(model, &request.prompt)?;
    let context_size = session.context.n_ctx();
    let prompt_tokens = tokens.len() as u32;
    // A fork reads the kept part of the earlier response as if it were prompt.
    let prefix: Vec<LlamaToken> = fork
        .map(|f| f.prefix.iter().map(|t| LlamaToken(*t)).collect())
        .unwrap_or_default();
    let mut full = tokens.clone();
    full.extend_from_slice(&prefix);
    // One free slot at least, or nothing can be generated.
    if full.len() as u32 >= context_size {
        return Err(EngineError::PromptTooLong {
            prompt_tokens: full.len() as u32,
            context_size,
        });
    }
    let seed = sampler_params.seed.unwrap_or_else(random_seed);
    let mut sampler = build_sampler(model, sampler_params, seed);
    // Penalties remember the kept tokens as if they had just been sampled.
    sampler.accept_many(&prefix);
    let _ = events.send(EngineEvent::Started {
        id,
        started: RunStarted {
            templated_prompt,
            template,
            prompt_tokens,
            context_size,
            seed,
        },
    });

    let mut stats = RunStats {
        load_time: session.info.load_time,
        prompt_tokens,
        context_size,
        ..RunStats::default()
    };
    let mut text = String::new();
    let finish = |text: String, stop_reason, stats: RunStats| RunFinished {
        text,
        stop_reason,
        seed,
        stats,
    };

    let prompt_started = Instant::now();
    // Reuse the cache when it holds exactly this prompt and prefix (a fork of the last run):
    // drop what follows and re-read only the last kept token, for its logits.
    let reusable = fork.is_some()
        && session.cached.len() >= full.len()
        && session.cached[..full.len()] == full[..];
    let (to_read, mut position): (&[LlamaToken], i32) = if reusable {
        let keep = full.len() - 1;
        let _ = session
            .context
            .clear_kv_cache_seq(Some(0), Some(keep as u32), None);
        (&full[keep..], keep as i32)
    } else {
        session.context.clear_kv_cache();
        (&full[..], 0)
    };
    session.cached.clear();
    if !read_tokens(session, to_read, position, || cancel.is_cancelled(id))? {
        stats.prompt_eval_time = prompt_started.elapsed();
        return Ok(finish(text, StopReason::Cancelled, stats));
    }
    position += to_read.len() as i32;
    stats.prompt_eval_time = prompt_started.elapsed();
    stats.prompt_tokens_per_second = per_second(prompt_tokens, stats.prompt_eval_time);

    let vocab = model.vocab();
    let mut utf8 = Utf8Stream::default();
    let mut stops = StopMatcher::new(&sampler_params.stop);
    let mut piece = Vec::with_capacity(32);
    // The kept text of a fork; a character split at the fork point stays pending in `utf8`.
    let mut prefix_text = String::new();
    for token in &prefix {
        piece.clear();
        vocab.token_to_piece_into(*token, &mut piece, false, None);
        prefix_text.push_str(&utf8.push(&piece));
    }
    let mut forced = fork.map(|f| LlamaToken(f.token));
    let mut decoded: Vec<LlamaToken> = Vec::new();
    let mut logits_index = session.batch.n_tokens() - 1;
    let mut generated: u32 = 0;
    let generation_started = Instant::now();
    let mut first_token_at: Option<Instant> = None;
    let emit = |text_piece: String, generated: u32, first: Option<Instant>| {
        let _ = events.send(EngineEvent::Token {
            id,
            text: text_piece,
            generated,
            elapsed: first.map(|t| t.elapsed()).unwrap_or(Duration::ZERO),
        });
    };

    let stop_reason = loop {
        if cancel.is_cancelled(id) {
            break StopReason::Cancelled;
        }
        if generated >= sampler_params.max_tokens {
            break StopReason::MaxTokens;
        }
        let token = match forced.take() {
            Some(token) => {
                sampler.accept(token);
                token
            }
            None => sampler.sample(&session.context, logits_index),
        };
        if vocab.is_eog(token) {
            break StopReason::EndOfGeneration;
        }
        generated += 1;
        if first_token_at.is_none() {
            first_token_at = Some(Instant::now());
            stats.time_to_first_token = started.elapsed();
            let _ = events.send(EngineEvent::FirstToken {
                id,
                time_to_first_token: stats.time_to_first_token,
            });
        }
        piece.clear();
        vocab.token_to_piece_into(token, &mut piece, false, None);
        if let Some(top) = sampler_params.top_logprobs {
            let detail = detail(
                session,
                logits_index,
                token,
                &piece,
                sampler_params,
                top as usize,
                prefix.len() as u32 + generated - 1,
            );
            let _ = events.send(EngineEvent::TokenDetail { id, detail });
        }
        let shown_text = utf8.push(&piece);
        match stops.push(&shown_text) {
            StopScan::Continue(shown) => {
                text.push_str(&shown);
                emit(shown, generated, first_token_at);
            }
            StopScan::Stopped(shown) => {
                text.push_str(&shown);
                emit(shown, generated, first_token_at);
                break StopReason::StopString;
            }
        }
        if generated >= sampler_params.max_tokens {
            break StopReason::MaxTokens;
        }
        if position as u32 >= context_size {
            break StopReason::ContextFull;
        }
        session.batch.clear();
        add(&mut session.batch, token, position, true)?;
        match session.context.decode(&mut session.batch) {
            Ok(()) => {}
            Err(DecodeError::NoKvCacheSlot) => break StopReason::ContextFull,
            Err(error) => {
                return Err(EngineError::Decode {
                    reason: error.to_string(),
                })
            }
        }
        decoded.push(token);
        position += 1;
        logits_index = 0;
    };
    // What the cache holds now, for a fork of this response.
    session.cached = full;
    session.cached.extend(decoded);

    if stop_reason != StopReason::StopString {
        let held = stops.flush();
        if !held.is_empty() {
            text.push_str(&held);
            emit(held, generated, first_token_at);
        }
    }
    stats.generated_tokens = generated;
    stats.generation_time = generation_started.elapsed();
    stats.tokens_per_second = per_second(generated, stats.generation_time);
    stats.context_used = position as u32;
    if first_token_at.is_none() {
        stats.time_to_first_token = started.elapsed();
    }
    Ok(finish(prefix_text + &text, stop_reason, stats))
}

/// The inspector's record of `token`, sampled from the logits at `logits_index`.
fn detail(
    session: &Session<'_>,
    logits_index: i32,
    token: LlamaToken,
    piece: &[u8],
    params: &SamplerParams,
    top: usize,
    index: u32,
) -> TokenDetail {
    let logits = session.context.get_logits_ith(logits_index);
    let numbers = inspect(logits, token.0, params, top);
    let vocab = session.model.vocab();
    let mut bytes = Vec::with_capacity(16);
    let top = numbers
        .top
        .iter()
        .map(|&(alternative, probability, logprob)| {
            bytes.clear();
            vocab.token_to_piece_into(LlamaToken(alternative), &mut bytes, false, None);
            Alternative {
                token: alternative,
                text: String::from_utf8_lossy(&bytes).into_owned(),
                bytes: bytes.clone(),
                probability,
                logprob,
            }
        })
        .collect();
    TokenDetail {
        index,
        token: token.0,
        text: String::from_utf8_lossy(piece).into_owned(),
        bytes: piece.to_vec(),
        probability: numbers.probability,
        logprob: numbers.logprob,
        sampler_probability: numbers.sampler_probability,
        entropy: numbers.entropy,
        top,
        stages: numbers.stages,
    }
}

/// Decodes `tokens` into sequence 0 from `position`, a batch at a time, with logits for the
/// last one only; `false` when `cancelled` said so between batches.
pub(super) fn read_tokens(
    session: &mut Session<'_>,
    tokens: &[LlamaToken],
    mut position: i32,
    cancelled: impl Fn() -> bool,
) -> Result<bool, EngineError> {
    let batch_size = session.context.n_batch() as usize;
    let end = position as usize + tokens.len();
    for chunk in tokens.chunks(batch_size) {
        if cancelled() {
            return Ok(false);
        }
        session.batch.clear();
        for token in chunk {
            add(
                &mut session.batch,
                *token,
                position,
                position as usize == end - 1,
            )?;
            position += 1;
        }
        session
            .context
            .decode(&mut session.batch)
            .map_err(|error| EngineError::Decode {
                reason: format!("while reading the prompt: {error}"),
            })?;
    }
    Ok(true)
}

fn add(
    batch: &mut llama_cpp_2::llama_batch::LlamaBatch<'_>,
    token: LlamaToken,
    position: i32,
    logits: bool,
) -> Result<(), EngineError> {
    batch
        .add(token, position, &[0], logits)
        .map_err(|error| EngineError::Decode {
            reason: error.to_string(),
        })
}

/// The prompt rendered through its template, and its tokens (never empty).
pub(super) fn prepare_prompt(
    model: &LlamaModel,
    prompt: &Prompt,
) -> Result<(String, String, Vec<LlamaToken>), EngineError> {
    let (templated, template) = render_prompt(model, prompt)?;
    let tokens = tokenize(model, &templated, prompt);
    if tokens.is_empty() {
        return Err(EngineError::EmptyPrompt);
    }
    Ok((templated, template, tokens))
}

/// Tokenizes the rendered prompt. The BOS token is added only when the vocabulary wants one and
/// the template has not already written it, so it is never doubled.
pub fn tokenize(model: &LlamaModel, text: &str, prompt: &Prompt) -> Vec<LlamaToken> {
    let vocab = model.vocab();
    let mut add_bos = vocab.should_add_bos();
    if add_bos && matches!(prompt, Prompt::Chat { .. }) {
        let bos_text = vocab.token_to_piece(vocab.bos(), true, None);
        if !bos_text.is_empty() && text.as_bytes().starts_with(&bos_text) {
            add_bos = false;
        }
    }
    vocab.tokenize(text.as_bytes(), add_bos, true)
}

pub fn per_second(tokens: u32, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds <= 0.0 {
        0.0
    } else {
        f64::from(tokens) / seconds
    }
}

pub(super) fn validate(params: &SamplerParams) -> Result<(), EngineError> {
    let bad = |reason: String| Err(EngineError::InvalidSampler { reason });
    if !params.temperature.is_finite() || params.temperature < 0.0 {
        return bad(format!(
            "temperature must be 0 or more, got {}",
            params.temperature
        ));
    }
    if !(params.top_p > 0.0 && params.top_p <= 1.0) {
        return bad(format!("top-p must be in (0, 1], got {}", params.top_p));
    }
    if !(0.0..=1.0).contains(&params.min_p) {
        return bad(format!("min-p must be in [0, 1], got {}", params.min_p));
    }
    if !params.repeat_penalty.is_finite() || params.repeat_penalty <= 0.0 {
        return bad(format!(
            "repeat penalty must be above 0, got {}",
            params.repeat_penalty
        ));
    }
    if !params.presence_penalty.is_finite() || !params.frequency_penalty.is_finite() {
        return bad("presence and frequency penalties must be finite numbers".into());
    }
    if params.top_k < 0 {
        return bad(format!(
            "top-k must be 0 (off) or more, got {}",
            params.top_k
        ));
    }
    if params.repeat_last_n < 0 {
        return bad(format!(
            "repeat-last-n must be 0 or more, got {}",
            params.repeat_last_n
        ));
    }
    Ok(())
}

/// The sampler chain, in llama.cpp's own order: penalties → top-k → top-p → min-p →
/// temperature → draw. Stages that would do nothing are left out, and top-k comes before any
/// sort so that large vocabularies stay cheap.
pub fn build_sampler(model: &LlamaModel, params: &SamplerParams, seed: u32) -> LlamaSampler {
    let mut chain = Vec::with_capacity(6);
    let penalties_active = params.repeat_last_n > 0
        && (params.repeat_penalty != 1.0
            || params.presence_penalty != 0.0
            || params.frequency_penalty != 0.0);
    if penalties_active {
        chain.push(LlamaSampler::penalties(
            model.n_vocab(),
            params.repeat_last_n,
            params.repeat_penalty,
            params.frequency_penalty,
            params.presence_penalty,
        ));
    }
    if params.temperature <= 0.0 {
        chain.push(LlamaSampler::greedy());
        return LlamaSampler::chain_simple(chain);
    }
    if params.top_k > 0 {
        chain.push(LlamaSampler::top_k(params.top_k));
    }
    if params.top_p < 1.0 {
        chain.push(LlamaSampler::top_p(params.top_p, 1));
    }
    if params.min_p > 0.0 {
        chain.push(LlamaSampler::min_p(params.min_p, 1));
    }
    chain.push(LlamaSampler::temp(params.temperature));
    chain.push(LlamaSampler::dist(seed));
    LlamaSampler::chain_simple(chain)
}

/// A seed from the clock and the process's hash keys; no need for a random-number crate.
pub fn random_seed() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    hasher.finish() as u32
}
