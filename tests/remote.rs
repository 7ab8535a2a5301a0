//! The remote backend against a real llama-server (built by scripts/build-llama-server from the
//! llama.cpp the llama-cpp-python 0.3.36 sdist vendors) serving the default model on a free
//! port of 127.0.0.1 — no mock.

mod common;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use refrain::engine::remote::Endpoint;
use refrain::engine::{
    EngineEvent, EngineHandle, GenerateRequest, LoadOptions, StopReason, SweepRequest,
};

/// The llama-server binary: REFRAIN_LLAMA_SERVER, else the build script's cache. Missing
/// fails under CI=true, else skips.
fn server_binary() -> Option<PathBuf> {
    let path = std::env::var_os("REFRAIN_LLAMA_SERVER")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| {
                PathBuf::from(home).join(".cache/refrain/llama-server-0.3.36/bin/llama-server")
            })
        })?;
    common::required(path, "llama-server", "scripts/build-llama-server")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A llama-server child process, killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(api_key: Option<&str>) -> Option<Self> {
        let binary = server_binary()?;
        let model = common::model_path()?;
        let port = free_port();
        let mut command = Command::new(binary);
        command
            .arg("-m")
            .arg(&model)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["-c", "4096", "-np", "2", "-t", "2", "--no-webui"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(key) = api_key {
            command.args(["--api-key", key]);
        }
        let child = command.spawn().expect("llama-server starts");
        let server = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let health = ureq::get(format!("{}/health", server.url)).call();
            if matches!(&health, Ok(response) if response.status() == 200) {
                return Some(server);
            }
            assert!(
                Instant::now() < deadline,
                "llama-server did not become healthy"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn endpoint(&self) -> Endpoint {
        Endpoint::new("test", &self.url, None, None, Duration::from_secs(30)).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn refrain(dir: &std::path::Path) -> Command {
    common::refrain_in(dir)
}

fn last_json(output: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or("null")).unwrap()
}

/// An engine on the server, loaded.
fn remote_engine(
    endpoint: Endpoint,
) -> (
    EngineHandle,
    tokio::sync::mpsc::UnboundedReceiver<EngineEvent>,
) {
    let (engine, mut events) = EngineHandle::spawn_remote(endpoint.clone());
    let mut options = LoadOptions::new(endpoint.public_url());
    options.remote = Some(endpoint);
    let id = engine.load(options);
    loop {
        match common::recv(&mut events) {
            EngineEvent::Loaded { id: got, info } if got == id => {
                assert_eq!(info.architecture, "remote");
                return (engine, events);
            }
            EngineEvent::Failed { error, .. } => panic!("{error}"),
            _ => {}
        }
    }
}

#[test]
fn run_streams_greedy_is_repeatable_and_history_records_the_endpoint() {
    let Some(server) = Server::start(None) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        refrain(dir.path())
            .args([
                "--endpoint",
                &server.url,
                "run",
                "--json",
                "--temperature",
                "0",
            ])
            .args(["--seed", "1", "-n", "24", "Name three colours of the sea."])
            .output()
            .unwrap()
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let tokens = String::from_utf8_lossy(&first.stdout)
        .lines()
        .filter(|l| l.contains("\"type\":\"token\""))
        .count();
    assert!(tokens > 3, "the answer streamed token by token");
    let second = run();
    let (a, b) = (last_json(&first), last_json(&second));
    assert!(!a["text"].as_str().unwrap().is_empty());
    assert_eq!(a["text"], b["text"], "greedy twice, same text");
    assert!(a["stats"]["tokens_per_second"].as_f64().unwrap() > 0.0);
    // History: the endpoint URL and the server's model id.
    let output = refrain(dir.path())
        .args(["history", "show", "1", "--json"])
        .output()
        .unwrap();
    let record: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(record["model_path"], format!("{}/v1", server.url));
    assert!(!record["model_name"].as_str().unwrap().is_empty());
    assert_eq!(record["status"], "finished");
    // `models` lists what the server offers.
    let output = refrain(dir.path())
        .args(["--endpoint", &server.url, "models", "--json"])
        .output()
        .unwrap();
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(listed[0]["name"], record["model_name"]);
}

#[test]
fn cancel_stops_the_stream_at_once_and_a_sweep_of_twins_matches() {
    let Some(server) = Server::start(None) else {
        return;
    };
    let (engine, mut events) = remote_engine(server.endpoint());
    let request = GenerateRequest {
        prompt: common::chat("Tell a very long story about a fox and a crow."),
        sampler: common::greedy(400),
    };
    let id = engine.generate(request);
    let mut cancelled_at = None;
    loop {
        match common::recv(&mut events) {
            EngineEvent::Token {
                id: got, generated, ..
            } if got == id && generated == 3 => {
                engine.cancel(id);
                cancelled_at = Some(Instant::now());
            }
            EngineEvent::Finished { id: got, finished } if got == id => {
                assert_eq!(finished.stop_reason, StopReason::Cancelled);
                assert!(finished.stats.generated_tokens < 40);
                let waited = cancelled_at.unwrap().elapsed();
                assert!(waited < Duration::from_secs(1), "stopped in {waited:?}");
                break;
            }
            EngineEvent::Failed { error, .. } => panic!("{error}"),
            _ => {}
        }
    }
    // Two identical variants, sent concurrently, give identical texts.
    let id = engine.sweep(SweepRequest {
        prompt: common::chat("Write one line about rain."),
        variants: vec![common::greedy(20), common::greedy(20)],
    });
    let mut texts = [String::new(), String::new()];
    loop {
        match common::recv(&mut events) {
            EngineEvent::SweepVariantFinished {
                id: got,
                variant,
                finished,
            } if got == id => {
                texts[variant] = finished.text;
            }
            EngineEvent::SweepFinished { id: got, summary } if got == id => {
                assert!(summary.generated_tokens > 0);
                break;
            }
            EngineEvent::Failed { error, .. } => panic!("{error}"),
            _ => {}
        }
    }
    assert!(!texts[0].is_empty());
    assert_eq!(texts[0], texts[1]);
}

#[test]
fn logprobs_come_through_the_server() {
    let Some(server) = Server::start(None) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let output = refrain(dir.path())
        .args([
            "--endpoint",
            &server.url,
            "run",
            "--json",
            "--logprobs",
            "3",
        ])
        .args(["--temperature", "0", "-n", "8", "Hi"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let done = last_json(&output);
    let content = done["logprobs"]["content"].as_array().unwrap();
    assert!(!content.is_empty(), "the server sent per-token logprobs");
    for entry in content {
        assert!(entry["logprob"].as_f64().unwrap() <= 0.0);
        assert!(!entry["top_logprobs"].as_array().unwrap().is_empty());
    }
}

#[test]
fn a_wrong_key_gets_the_servers_401_and_the_key_is_never_shown() {
    let Some(server) = Server::start(Some("right-key")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let output = refrain(dir.path())
        .env("REFRAIN_TEST_API_KEY", "wrong-key-sk-123")
        .args([
            "--endpoint",
            &server.url,
            "--api-key-env",
            "REFRAIN_TEST_API_KEY",
        ])
        .args(["run", "-n", "4", "Hi"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("HTTP 401"), "{stderr}");
    assert!(stderr.contains("API key"), "{stderr}");
    assert!(
        !stderr.contains("wrong-key-sk-123"),
        "the key never appears"
    );
    // The right key works.
    let output = refrain(dir.path())
        .env("REFRAIN_TEST_API_KEY", "right-key")
        .args([
            "--endpoint",
            &server.url,
            "--api-key-env",
            "REFRAIN_TEST_API_KEY",
        ])
        .args(["run", "-q", "--temperature", "0", "-n", "4", "Hi"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn killing_the_server_mid_stream_keeps_an_interrupted_run_with_its_text() {
    let Some(mut server) = Server::start(None) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut child = refrain(dir.path())
        .args([
            "--endpoint",
            &server.url,
            "run",
            "--json",
            "--raw",
            "--temperature",
            "0",
        ])
        .args(["-n", "100000", "1, 2, 3, 4,"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until tokens stream, then kill the server under it.
    let stdout = child.stdout.take().unwrap();
    let (seen, streaming) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut tokens = 0;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("\"type\":\"token\"") {
                tokens += 1;
                if tokens == 20 {
                    let _ = seen.send(());
                }
            }
        }
    });
    streaming
        .recv_timeout(Duration::from_secs(60))
        .expect("tokens streamed");
    let _ = server.child.kill();
    let output = child.wait_with_output().unwrap();
    let _ = reader.join();
    assert_ne!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cut off after"), "{stderr}");
    let output = refrain(dir.path())
        .args(["history", "show", "1", "--json"])
        .output()
        .unwrap();
    let record: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(record["status"], "interrupted");
    assert!(
        !record["output"].as_str().unwrap().is_empty(),
        "the partial text is kept"
    );
}

#[test]
fn an_unreachable_server_fails_fast_and_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let started = Instant::now();
    let output = refrain(dir.path())
        .args([
            "--endpoint",
            &format!("http://127.0.0.1:{port}"),
            "run",
            "-n",
            "4",
            "Hi",
        ])
        .output()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot reach"), "{stderr}");
    assert!(stderr.contains("connection refused"), "{stderr}");
}

/// A server that accepts the connection and then says nothing: the endpoint's timeout ends
/// the wait with a message, not a hang. (A listening socket, not llama-server: no real
/// server can be told to stall.)
#[test]
fn a_silent_server_times_out_with_a_message() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let endpoint = Endpoint::new(
        "silent",
        &format!("http://127.0.0.1:{port}"),
        Some("m".into()),
        None,
        Duration::from_secs(1),
    )
    .unwrap();
    let (engine, mut events) = EngineHandle::spawn_remote(endpoint.clone());
    let mut options = LoadOptions::new(endpoint.public_url());
    options.remote = Some(endpoint);
    let started = Instant::now();
    let id = engine.load(options);
    loop {
        match common::recv(&mut events) {
            EngineEvent::Failed { id: got, error } if got == id => {
                let text = error.to_string();
                assert!(text.contains("did not answer within 1 s"), "{text}");
                break;
            }
            EngineEvent::Loaded { .. } => panic!("a silent server cannot load"),
            _ => {}
        }
    }
    assert!(started.elapsed() < Duration::from_secs(5));
}
