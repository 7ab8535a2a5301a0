//! The remote backend: an OpenAI-compatible server (llama-server, vLLM, Ollama, …) behind the
//! same commands and events as the local engine. Answers stream over server-sent events; a
//! reader thread feeds the worker, so a cancel or a stalled server is noticed at once.

use std::io::{BufRead, BufReader};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedSender;

use super::error::EngineError;
use super::events::{EngineEvent, ModelInfo, RunFinished, RunStarted, RunStats, StopReason};
use super::generate::per_second;
use super::inspect::{Alternative, TokenDetail};
use super::request::{GenerateRequest, Prompt, RequestId, SamplerParams, SweepRequest};
use super::worker::CancelFlag;
use super::Command;

/// A server to talk to. The API key is read from the environment when the endpoint is made and
/// never printed: not in `Debug`, errors, logs or history.
#[derive(Clone)]
pub struct Endpoint {
    /// The config name, or the URL.
    pub label: String,
    /// Up to and including `/v1`, no trailing slash.
    pub base_url: String,
    /// The model id to ask for; `None`: the first the server lists.
    pub model: Option<String>,
    api_key: Option<String>,
    /// Longest silence from the server before giving up.
    pub timeout: Duration,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("label", &self.label)
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "(set)"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl PartialEq for Endpoint {
    fn eq(&self, other: &Self) -> bool {
        self.label == other.label && self.base_url == other.base_url && self.model == other.model
    }
}

/// How long connecting may take: an unreachable server fails well within 5 s.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

impl Endpoint {
    /// `url` may be the server's root (`http://host:8080`) or its `/v1`; `api_key_env` names
    /// the environment variable holding the key.
    pub fn new(
        label: &str,
        url: &str,
        model: Option<String>,
        api_key_env: Option<&str>,
        timeout: Duration,
    ) -> Result<Self, String> {
        let url = url.trim().trim_end_matches('/');
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("'{url}' is not an http:// or https:// URL"));
        }
        let base_url = if url.ends_with("/v1") {
            url.to_owned()
        } else {
            format!("{url}/v1")
        };
        let api_key = match api_key_env {
            Some(var) => Some(std::env::var(var).map_err(|_| {
                format!("the API key variable {var} is not set (the key itself never goes in flags or files)")
            })?),
            None => None,
        };
        Ok(Self {
            label: label.to_owned(),
            base_url,
            model,
            api_key,
            timeout,
        })
    }

    /// The URL without credentials, as history records it.
    pub fn public_url(&self) -> String {
        strip_userinfo(&self.base_url)
    }
}

/// `http://user:pass@host/v1` → `http://host/v1`.
pub fn strip_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            if path.is_empty() {
                format!("{scheme}://{host}")
            } else {
                format!("{scheme}://{host}/{path}")
            }
        }
        None => url.to_owned(),
    }
}

/// Connects within [`CONNECT_TIMEOUT`]; waits for a response's headers as long as the endpoint
/// allows silence (the body's silences are watched by the stream reader).
fn agent(endpoint: &Endpoint) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_recv_response(Some(endpoint.timeout))
        .http_status_as_error(false)
        .build()
        .into()
}

/// The worker for a remote endpoint: the local worker's protocol, spoken over HTTP.
pub struct RemoteWorker {
    pub commands: std::sync::mpsc::Receiver<Command>,
    pub events: UnboundedSender<EngineEvent>,
    pub cancel: CancelFlag,
    pub endpoint: Endpoint,
}

impl RemoteWorker {
    fn send(&self, event: EngineEvent) {
        let _ = self.events.send(event);
    }

    pub fn run(self) {
        let agent = agent(&self.endpoint);
        let mut model: Option<String> = None;
        let mut info: Option<ModelInfo> = None;
        while let Ok(command) = self.commands.recv() {
            match command {
                Command::Load { id, .. } => {
                    let started = Instant::now();
                    self.send(EngineEvent::LoadProgress { id, fraction: 0.0 });
                    match choose_model(&agent, &self.endpoint) {
                        Ok(chosen) => {
                            let described = describe(&self.endpoint, &chosen, started.elapsed());
                            model = Some(chosen);
                            info = Some(described.clone());
                            self.send(EngineEvent::Loaded {
                                id,
                                info: described,
                            });
                        }
                        Err(error) => self.send(EngineEvent::Failed { id, error }),
                    }
                }
                Command::Generate { id, request } => {
                    let Some(model) = &model else {
                        self.fail(id, EngineError::NoModel);
                        continue;
                    };
                    let load_time = info.as_ref().map(|i| i.load_time).unwrap_or_default();
                    let cancel = self.cancel.clone();
                    let events = self.events.clone();
                    let result = generate(
                        &agent,
                        &self.endpoint,
                        model,
                        &request,
                        load_time,
                        &|| cancel.is_cancelled(id),
                        &mut |event| {
                            let _ = events.send(event.into_engine(id, None));
                        },
                    );
                    match result {
                        Ok(finished) => self.send(EngineEvent::Finished { id, finished }),
                        Err(error) => self.fail(id, error),
                    }
                }
                Command::Sweep { id, request } => {
                    let Some(model) = &model else {
                        self.fail(id, EngineError::NoModel);
                        continue;
                    };
                    match sweep(&agent, &self.endpoint, model, id, &request, &self.events, &self.cancel) {
                        Ok(summary) => self.send(EngineEvent::SweepFinished { id, summary }),
                        Err(error) => self.fail(id, error),
                    }
                }
                Command::Classify { id, .. } => self.fail(
                    id,
                    unsupported("model sentiment needs the local engine (it reads the model's own probabilities); the lexicon readout still works"),
                ),
                Command::Fork { id, .. } => self.fail(
                    id,
                    unsupported("forking needs the local engine (it cuts the model's cache back); on a remote server, edit the prompt instead"),
                ),
                Command::Bench { id, .. } => self.fail(
                    id,
                    unsupported("refrain bench measures the local engine; a server has its own benchmarks"),
                ),
                Command::Shutdown => break,
            }
        }
    }

    fn fail(&self, id: RequestId, error: EngineError) {
        self.send(EngineEvent::Failed { id, error });
    }
}

fn unsupported(what: &str) -> EngineError {
    EngineError::Unsupported { what: what.into() }
}

fn describe(endpoint: &Endpoint, model: &str, load_time: Duration) -> ModelInfo {
    ModelInfo {
        path: endpoint.public_url().into(),
        name: model.to_owned(),
        architecture: "remote".into(),
        quantization: "remote".into(),
        parameters: 0,
        size_bytes: 0,
        layers: 0,
        gpu_layers_offloaded: 0,
        gpu_offload_supported: false,
        offload: Vec::new(),
        context_size: 0,
        trained_context: 0,
        batch_size: 0,
        threads: 0,
        vocab_size: 0,
        has_chat_template: true,
        load_time,
    }
}

/// An error for the user from a failed request: what failed, the server's own message, and
/// what to check. Never includes the API key.
fn request_error(endpoint: &Endpoint, error: ureq::Error) -> EngineError {
    let url = endpoint.public_url();
    let text = error.to_string();
    let reason = if text.contains("Connection refused") || text.contains("connection refused") {
        format!("cannot reach {url}: connection refused (is the server running on that port?)")
    } else if matches!(error, ureq::Error::HostNotFound) || text.contains("resolve") {
        format!("cannot reach {url}: the host name does not resolve (DNS)")
    } else if matches!(error, ureq::Error::Timeout(_)) {
        format!(
            "{url} did not answer within {} s (the endpoint's timeout)",
            endpoint.timeout.as_secs()
        )
    } else {
        format!("cannot reach {url}: {text}")
    };
    EngineError::Remote { reason }
}

/// The server's message from an error response (`{"error": {"message": …}}` or plain text).
fn http_error(endpoint: &Endpoint, status: u16, body: &str) -> EngineError {
    let message = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .or_else(|| v.get("error"))
                .or_else(|| v.get("message"))
                .and_then(|m| m.as_str().map(str::to_owned))
        })
        .unwrap_or_else(|| body.trim().chars().take(300).collect());
    let hint = match status {
        401 | 403 => {
            " — check the API key (--api-key-env VAR, or api_key_env in the endpoint's config)"
        }
        404 => " — check the URL (it should reach the server's /v1) and the model id",
        429 => " — the server is rate limiting: wait, or lower the number of sweep variants",
        500..=599 => " — the server failed; its log says why",
        _ => "",
    };
    EngineError::Remote {
        reason: format!(
            "{} answered HTTP {status}: {message}{hint}",
            endpoint.public_url()
        ),
    }
}

/// The request with the endpoint's key, when it has one.
fn authorised<B>(request: ureq::RequestBuilder<B>, endpoint: &Endpoint) -> ureq::RequestBuilder<B> {
    match &endpoint.api_key {
        Some(key) => request.header("Authorization", format!("Bearer {key}")),
        None => request,
    }
}

/// The model ids the server offers (`GET /v1/models`).
pub fn list_models(agent: &ureq::Agent, endpoint: &Endpoint) -> Result<Vec<String>, EngineError> {
    let request = authorised(agent.get(format!("{}/models", endpoint.base_url)), endpoint);
    let mut response = request.call().map_err(|e| request_error(endpoint, e))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| request_error(endpoint, e))?;
    if status >= 400 {
        return Err(http_error(endpoint, status, &body));
    }
    let value: Value = serde_json::from_str(&body).map_err(|e| EngineError::Remote {
        reason: format!(
            "{} sent a model list that is not JSON: {e}",
            endpoint.public_url()
        ),
    })?;
    Ok(value["data"]
        .as_array()
        .map(|models| {
            models
                .iter()
                .filter_map(|m| m["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

/// The models of `endpoint`, for the studio's picker (a short wait at most).
pub fn models_of(endpoint: &Endpoint) -> Result<Vec<String>, String> {
    list_models(&agent(endpoint), endpoint).map_err(|e| e.to_string())
}

fn choose_model(agent: &ureq::Agent, endpoint: &Endpoint) -> Result<String, EngineError> {
    let models = list_models(agent, endpoint)?;
    match &endpoint.model {
        Some(wanted) if models.is_empty() || models.iter().any(|m| m == wanted) => {
            Ok(wanted.clone())
        }
        Some(wanted) => Err(EngineError::Remote {
            reason: format!(
                "{} has no model '{wanted}'; it offers: {}",
                endpoint.public_url(),
                models.join(", ")
            ),
        }),
        None => models
            .into_iter()
            .next()
            .ok_or_else(|| EngineError::Remote {
                reason: format!("{} lists no models", endpoint.public_url()),
            }),
    }
}

/// The request body: chat messages (or a raw completion prompt) and the sampler settings the
/// OpenAI API has, plus llama.cpp's own (top_k, min_p, repeat_penalty) that llama-server and
/// vLLM accept and others ignore.
fn body(model: &str, request: &GenerateRequest) -> (String, Value) {
    let s = &request.sampler;
    let mut body = json!({
        "model": model,
        "stream": true,
        "stream_options": {"include_usage": true},
        "temperature": s.temperature,
        "top_p": s.top_p,
        "top_k": s.top_k,
        "min_p": s.min_p,
        "repeat_penalty": s.repeat_penalty,
        "presence_penalty": s.presence_penalty,
        "frequency_penalty": s.frequency_penalty,
        "max_tokens": s.max_tokens,
    });
    if let Some(seed) = s.seed {
        body["seed"] = json!(seed);
    }
    if !s.stop.is_empty() {
        body["stop"] = json!(s.stop);
    }
    let path = match &request.prompt {
        Prompt::Chat { system, user, .. } => {
            let mut messages = Vec::new();
            if let Some(system) = system {
                messages.push(json!({"role": "system", "content": system}));
            }
            messages.push(json!({"role": "user", "content": user}));
            body["messages"] = json!(messages);
            if let Some(k) = s.top_logprobs {
                body["logprobs"] = json!(true);
                body["top_logprobs"] = json!(k);
            }
            "chat/completions"
        }
        Prompt::Raw(text) => {
            body["prompt"] = json!(text);
            if let Some(k) = s.top_logprobs {
                body["logprobs"] = json!(k);
            }
            "completions"
        }
    };
    (path.to_owned(), body)
}

/// What a stream reports, before it is tagged with a request id.
pub enum StreamEvent {
    Started(RunStarted),
    Token {
        text: String,
        generated: u32,
        elapsed: Duration,
    },
    Detail(TokenDetail),
}

impl StreamEvent {
    fn into_engine(self, id: RequestId, variant: Option<usize>) -> EngineEvent {
        match (self, variant) {
            (StreamEvent::Started(started), _) => EngineEvent::Started { id, started },
            (
                StreamEvent::Token {
                    text,
                    generated,
                    elapsed,
                },
                None,
            ) => EngineEvent::Token {
                id,
                text,
                generated,
                elapsed,
            },
            (
                StreamEvent::Token {
                    text,
                    generated,
                    elapsed,
                },
                Some(variant),
            ) => EngineEvent::SweepToken {
                id,
                variant,
                text,
                generated,
                elapsed,
            },
            (StreamEvent::Detail(detail), _) => EngineEvent::TokenDetail { id, detail },
        }
    }
}

/// Lines of the response body, read on a thread of their own.
fn spawn_reader(body: ureq::Body) -> Receiver<std::io::Result<String>> {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let reader = BufReader::new(body.into_reader());
        for line in reader.lines() {
            let stop = line.is_err();
            if sender.send(line).is_err() || stop {
                break;
            }
        }
    });
    receiver
}

/// Streams one answer; `cancelled` is checked every 50 ms and between chunks.
pub fn generate(
    agent: &ureq::Agent,
    endpoint: &Endpoint,
    model: &str,
    request: &GenerateRequest,
    load_time: Duration,
    cancelled: &dyn Fn() -> bool,
    on_event: &mut dyn FnMut(StreamEvent),
) -> Result<RunFinished, EngineError> {
    let started = Instant::now();
    let (path, body) = body(model, request);
    let url = format!("{}/{path}", endpoint.base_url);
    let builder = authorised(agent.post(&url), endpoint).header("Content-Type", "application/json");
    let response = builder
        .send(body.to_string())
        .map_err(|e| request_error(endpoint, e))?;
    let status = response.status().as_u16();
    if status >= 400 {
        let mut response = response;
        let text = response.body_mut().read_to_string().unwrap_or_default();
        return Err(http_error(endpoint, status, &text));
    }
    let lines = spawn_reader(response.into_body());
    let seed = request.sampler.seed.unwrap_or(0);
    on_event(StreamEvent::Started(RunStarted {
        templated_prompt: String::new(),
        template: "server's".into(),
        prompt_tokens: 0,
        context_size: 0,
        seed,
    }));
    let mut text = String::new();
    let mut generated = 0u32;
    let mut first: Option<Instant> = None;
    let mut stats = RunStats {
        load_time,
        ..RunStats::default()
    };
    let mut finish: Option<String> = None;
    let mut last_heard = Instant::now();
    let stop_reason = loop {
        if cancelled() {
            // Dropping the reader's channel closes the stream.
            break StopReason::Cancelled;
        }
        let line = match lines.recv_timeout(Duration::from_millis(50)) {
            Ok(Ok(line)) => line,
            Ok(Err(error)) => {
                return cut(generated, format!("reading the stream failed: {error}"));
            }
            Err(RecvTimeoutError::Timeout) => {
                if last_heard.elapsed() > endpoint.timeout {
                    return cut(
                        generated,
                        format!(
                            "the server sent nothing for {} s",
                            endpoint.timeout.as_secs()
                        ),
                    );
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => {
                if finish.is_some() {
                    break finish_reason(finish.as_deref());
                }
                return cut(generated, "the server closed the connection".into());
            }
        };
        last_heard = Instant::now();
        let Some(data) = line.strip_prefix("data:").map(str::trim) else {
            continue;
        };
        if data == "[DONE]" {
            break finish_reason(finish.as_deref());
        }
        let Ok(chunk) = serde_json::from_str::<Value>(data) else {
            continue;
        };
        if let Some(error) = chunk.get("error") {
            let message = error["message"]
                .as_str()
                .unwrap_or("unknown error")
                .to_owned();
            return cut(generated, format!("the server reported: {message}"));
        }
        if let Some(fingerprint) = chunk["system_fingerprint"].as_str() {
            stats.system_fingerprint = Some(fingerprint.to_owned());
        }
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
            if let Some(prompt) = usage["prompt_tokens"].as_u64() {
                stats.prompt_tokens = prompt as u32;
            }
        }
        let Some(choice) = chunk["choices"].get(0) else {
            continue;
        };
        let piece = choice["delta"]["content"]
            .as_str()
            .or_else(|| choice["text"].as_str())
            .unwrap_or("");
        if let Some(reason) = choice["finish_reason"].as_str() {
            finish = Some(reason.to_owned());
        }
        for detail in logprob_details(choice, generated) {
            on_event(StreamEvent::Detail(detail));
        }
        if piece.is_empty() {
            continue;
        }
        generated += 1;
        let now = Instant::now();
        if first.is_none() {
            first = Some(now);
            stats.time_to_first_token = started.elapsed();
        }
        text.push_str(piece);
        on_event(StreamEvent::Token {
            text: piece.to_owned(),
            generated,
            elapsed: first.map(|f| now - f).unwrap_or_default(),
        });
    };
    stats.generated_tokens = generated;
    stats.generation_time = first.map(|f| f.elapsed()).unwrap_or_default();
    stats.tokens_per_second = per_second(generated.saturating_sub(1), stats.generation_time);
    if first.is_none() {
        stats.time_to_first_token = started.elapsed();
    }
    stats.context_used = stats.prompt_tokens + generated;
    Ok(RunFinished {
        text,
        stop_reason,
        seed,
        stats,
    })
}

fn cut<T>(received: u32, reason: String) -> Result<T, EngineError> {
    Err(EngineError::StreamCut { received, reason })
}

fn finish_reason(reason: Option<&str>) -> StopReason {
    match reason {
        Some("length") => StopReason::MaxTokens,
        _ => StopReason::EndOfGeneration,
    }
}

/// The inspector's records from a chunk's `logprobs` (chat: `content[]`; completions:
/// `tokens` / `token_logprobs` / `top_logprobs`). Entropy and stage counts are unknown to the
/// client: NaN and none.
fn logprob_details(choice: &Value, generated: u32) -> Vec<TokenDetail> {
    let Some(entries) = choice["logprobs"]["content"].as_array() else {
        return Vec::new();
    };
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let alternative = |v: &Value| {
                let text = v["token"].as_str().unwrap_or("").to_owned();
                let logprob = v["logprob"].as_f64().unwrap_or(f64::NEG_INFINITY);
                Alternative {
                    token: v["id"].as_i64().unwrap_or(-1) as i32,
                    bytes: bytes_of(v, &text),
                    text,
                    probability: logprob.exp(),
                    logprob,
                }
            };
            let chosen = alternative(entry);
            TokenDetail {
                index: generated + i as u32,
                token: chosen.token,
                text: chosen.text.clone(),
                bytes: chosen.bytes.clone(),
                probability: chosen.probability,
                logprob: chosen.logprob,
                sampler_probability: f64::NAN,
                entropy: f64::NAN,
                top: entry["top_logprobs"]
                    .as_array()
                    .map(|top| top.iter().map(alternative).collect())
                    .unwrap_or_default(),
                stages: Vec::new(),
            }
        })
        .collect()
}

fn bytes_of(value: &Value, text: &str) -> Vec<u8> {
    value["bytes"]
        .as_array()
        .map(|b| {
            b.iter()
                .filter_map(|x| x.as_u64())
                .map(|x| x as u8)
                .collect()
        })
        .unwrap_or_else(|| text.as_bytes().to_vec())
}

/// A sweep as concurrent requests (the server batches them); per-variant cancel as locally.
fn sweep(
    agent: &ureq::Agent,
    endpoint: &Endpoint,
    model: &str,
    id: RequestId,
    request: &SweepRequest,
    events: &UnboundedSender<EngineEvent>,
    cancel: &CancelFlag,
) -> Result<super::SweepSummary, EngineError> {
    let started = Instant::now();
    let seeds: Vec<u32> = request
        .variants
        .iter()
        .map(|v| v.seed.unwrap_or_else(super::random_seed))
        .collect();
    let _ = events.send(EngineEvent::SweepStarted {
        id,
        started: RunStarted {
            templated_prompt: String::new(),
            template: "server's".into(),
            prompt_tokens: 0,
            context_size: 0,
            seed: seeds[0],
        },
        seeds: seeds.clone(),
    });
    let results: Vec<(usize, Result<RunFinished, EngineError>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = request
            .variants
            .iter()
            .enumerate()
            .map(|(variant, sampler)| {
                let sampler = SamplerParams {
                    seed: Some(seeds[variant]),
                    ..sampler.clone()
                };
                let single = GenerateRequest {
                    prompt: request.prompt.clone(),
                    sampler,
                };
                let events = events.clone();
                let cancel = cancel.clone();
                let seed = seeds[variant];
                scope.spawn(move || {
                    let result = generate(
                        agent,
                        endpoint,
                        model,
                        &single,
                        Duration::ZERO,
                        &|| cancel.is_variant_cancelled(id, variant),
                        &mut |event| {
                            if !matches!(event, StreamEvent::Started(_)) {
                                let _ = events.send(event.into_engine(id, Some(variant)));
                            }
                        },
                    );
                    let finished = match &result {
                        Ok(finished) => finished.clone(),
                        // A variant that failed ends as cancelled; the sweep reports the
                        // first server error as its own.
                        Err(error) => {
                            tracing::warn!("sweep variant {variant} failed: {error}");
                            RunFinished {
                                text: String::new(),
                                stop_reason: StopReason::Cancelled,
                                seed,
                                stats: RunStats::default(),
                            }
                        }
                    };
                    let _ = events.send(EngineEvent::SweepVariantFinished {
                        id,
                        variant,
                        finished,
                    });
                    (variant, result)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    if let Some((_, Err(error))) = results
        .iter()
        .find(|(_, r)| matches!(r, Err(EngineError::Remote { .. })))
    {
        return Err(error.clone());
    }
    let generated: u32 = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .map(|f| f.stats.generated_tokens)
        .sum();
    let generation_time = started.elapsed();
    Ok(super::SweepSummary {
        prompt_tokens: 0,
        prompt_eval_time: Duration::ZERO,
        generation_time,
        generated_tokens: generated,
        tokens_per_second: per_second(generated, generation_time),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_normalised_and_credentials_never_shown() {
        let e = Endpoint::new(
            "x",
            "http://u:secret@h:8080/",
            None,
            None,
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(e.base_url, "http://u:secret@h:8080/v1");
        assert_eq!(e.public_url(), "http://h:8080/v1");
        assert!(Endpoint::new("x", "ftp://h", None, None, Duration::ZERO).is_err());
        std::env::set_var("REFRAIN_TEST_KEY_UNIT", "sk-very-secret");
        let e = Endpoint::new(
            "x",
            "https://h/v1",
            None,
            Some("REFRAIN_TEST_KEY_UNIT"),
            Duration::ZERO,
        )
        .unwrap();
        assert!(!format!("{e:?}").contains("sk-very-secret"));
        let missing = Endpoint::new(
            "x",
            "https://h",
            None,
            Some("REFRAIN_NO_SUCH_VAR"),
            Duration::ZERO,
        );
        assert!(missing.unwrap_err().contains("REFRAIN_NO_SUCH_VAR"));
    }

    #[test]
    fn error_bodies_become_messages_with_hints() {
        let e = Endpoint::new("x", "http://h", None, None, Duration::ZERO).unwrap();
        let error = http_error(
            &e,
            401,
            r#"{"error":{"message":"Invalid API Key","type":"authentication_error"}}"#,
        );
        let text = error.to_string();
        assert!(text.contains("HTTP 401: Invalid API Key"), "{text}");
        assert!(text.contains("API key"), "{text}");
        assert!(http_error(&e, 500, "boom")
            .to_string()
            .contains("HTTP 500: boom"));
    }

    #[test]
    fn request_bodies_map_the_sampler() {
        let request = GenerateRequest {
            prompt: Prompt::Chat {
                system: Some("sys".into()),
                user: "hi".into(),
                template: None,
            },
            sampler: SamplerParams {
                seed: Some(3),
                stop: vec!["END".into()],
                top_logprobs: Some(4),
                ..SamplerParams::default()
            },
        };
        let (path, body) = body("m", &request);
        assert_eq!(path, "chat/completions");
        assert_eq!(body["messages"][0]["role"], "system");
        assert_eq!(body["seed"], 3);
        assert_eq!(body["stop"][0], "END");
        assert_eq!(body["top_logprobs"], 4);
        assert_eq!(body["top_k"], 40);
        let raw = GenerateRequest {
            prompt: Prompt::Raw("once".into()),
            sampler: SamplerParams::default(),
        };
        let (path, raw_body) = super::body("m", &raw);
        assert_eq!(path, "completions");
        assert_eq!(raw_body["prompt"], "once");
    }
}
