//! Vetting a model file before llama.cpp reads it in this process.
//!
//! Cheap checks run here (exists, is a file, readable, GGUF magic and header). Then, because
//! some corrupt files pass llama.cpp's own checks and hit a `GGML_ASSERT` that aborts the whole
//! process, a child process (`refrain check-model PATH`) reads the vocabulary first. A child
//! that dies tells us the file is bad, and we live on. Verdicts are cached per (path, size,
//! mtime) so an unchanged file is checked once.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::error::EngineError;
use super::request::Preflight;
use crate::paths::FileStamp;

const GGUF_MAGIC: &[u8; 4] = b"GGUF";
/// magic + version + tensor count + key/value count
const GGUF_HEADER_LEN: usize = 4 + 4 + 8 + 8;
const CHILD_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs every check `preflight` asks for.
pub fn vet_model_file(path: &Path, preflight: &Preflight) -> Result<(), EngineError> {
    check_header(path)?;
    match preflight {
        Preflight::HeaderOnly => Ok(()),
        Preflight::ChildProcess { program } => check_in_child_cached(path, program),
    }
}

/// The checks that need no llama.cpp: the file is there, readable, and starts like a GGUF.
pub fn check_header(path: &Path) -> Result<(), EngineError> {
    let owned = || path.to_path_buf();
    let metadata = std::fs::metadata(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => EngineError::ModelMissing { path: owned() },
        _ => EngineError::ModelUnreadable {
            path: owned(),
            reason: error.to_string(),
        },
    })?;
    if metadata.is_dir() {
        return Err(EngineError::ModelIsDirectory { path: owned() });
    }
    let mut file = File::open(path).map_err(|error| EngineError::ModelUnreadable {
        path: owned(),
        reason: error.to_string(),
    })?;
    if metadata.len() == 0 {
        return Err(EngineError::ModelInvalid {
            path: owned(),
            reason: "the file is empty".into(),
        });
    }
    let mut header = [0u8; GGUF_HEADER_LEN];
    let mut read = 0;
    while read < header.len() {
        match file.read(&mut header[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(error) => {
                return Err(EngineError::ModelUnreadable {
                    path: owned(),
                    reason: error.to_string(),
                })
            }
        }
    }
    if read < 4 || &header[..4] != GGUF_MAGIC {
        return Err(EngineError::ModelInvalid {
            path: owned(),
            reason: "it does not start with the GGUF magic bytes (not a GGUF file)".into(),
        });
    }
    if read < GGUF_HEADER_LEN {
        return Err(EngineError::ModelInvalid {
            path: owned(),
            reason: format!("the file ends inside the GGUF header ({read} bytes)"),
        });
    }
    let version = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    if !(1..=3).contains(&version) {
        return Err(EngineError::ModelInvalid {
            path: owned(),
            reason: format!("unsupported GGUF version {version}"),
        });
    }
    Ok(())
}

/// `None` in the map means the file passed; `Some(reason)` means it failed.
type Verdicts = HashMap<String, Option<String>>;

fn cache_file() -> Option<PathBuf> {
    crate::paths::cache_dir().map(|dir| dir.join("model-checks.json"))
}

fn read_verdicts(cache: &Path) -> Verdicts {
    std::fs::read(cache)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

fn record_verdict(identity: &FileStamp, verdict: Option<String>) {
    let Some(cache) = cache_file() else { return };
    let mut verdicts = read_verdicts(&cache);
    verdicts.insert(identity.key(), verdict);
    let Some(dir) = cache.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    // Write then rename, so a concurrent reader never sees half a file.
    let temporary = dir.join(format!("model-checks.{}.tmp", std::process::id()));
    if let Ok(json) = serde_json::to_vec(&verdicts) {
        if std::fs::write(&temporary, json).is_ok() {
            let _ = std::fs::rename(&temporary, &cache);
        }
    }
}

fn check_in_child_cached(path: &Path, program: &Path) -> Result<(), EngineError> {
    let identity = FileStamp::of(path);
    if let (Some(identity), Some(cache)) = (&identity, cache_file()) {
        if let Some(verdict) = read_verdicts(&cache).get(&identity.key()) {
            tracing::debug!(path = %path.display(), "model check verdict from cache");
            return match verdict {
                None => Ok(()),
                Some(reason) => Err(EngineError::ModelInvalid {
                    path: path.to_path_buf(),
                    reason: reason.clone(),
                }),
            };
        }
    }
    let verdict = check_in_child(path, program)?;
    if let Some(identity) = &identity {
        record_verdict(identity, verdict.clone());
    }
    match verdict {
        None => Ok(()),
        Some(reason) => Err(EngineError::ModelInvalid {
            path: path.to_path_buf(),
            reason,
        }),
    }
}

/// Returns `Ok(None)` when the child read the file, `Ok(Some(reason))` when the file is bad.
/// `Err` only when the child could not be run at all.
fn check_in_child(path: &Path, program: &Path) -> Result<Option<String>, EngineError> {
    let started = Instant::now();
    let mut child = Command::new(program)
        .arg("check-model")
        .arg(path)
        .env("GGML_NO_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| EngineError::ModelLoad {
            path: path.to_path_buf(),
            reason: format!(
                "could not start the model checker {}: {error}",
                program.display()
            ),
        })?;
    let mut stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(stderr) = stderr.as_mut() {
            let _ = stderr.read_to_string(&mut text);
        }
        text
    });
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > CHILD_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break None,
        }
    };
    let stderr_text = reader.join().unwrap_or_default();
    tracing::info!(
        path = %path.display(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        ?status,
        "model checked in a child process"
    );
    let last_line = tidy_child_message(
        stderr_text
            .lines()
            .rev()
            .find(|line| !line.trim().is_empty())
            .unwrap_or(""),
    );
    match status {
        Some(status) if status.success() => Ok(None),
        Some(status) => {
            use std::os::unix::process::ExitStatusExt;
            let reason = match status.signal() {
                Some(signal) => format!(
                    "llama.cpp aborted while reading it (signal {signal}, caught in a child process){}",
                    if last_line.is_empty() {
                        String::new()
                    } else {
                        format!(": {last_line}")
                    }
                ),
                None if last_line.is_empty() => "llama.cpp could not read its vocabulary".into(),
                None => last_line,
            };
            Ok(Some(reason))
        }
        None => Ok(Some(format!(
            "checking it took longer than {} s",
            CHILD_TIMEOUT.as_secs()
        ))),
    }
}

/// "refrain: llama.cpp aborted: /long/path/llama-vocab.cpp:2578: GGML_ASSERT(x) failed" →
/// "GGML_ASSERT(x) failed (llama-vocab.cpp:2578)".
fn tidy_child_message(line: &str) -> String {
    let line = line
        .trim()
        .trim_start_matches("refrain: ")
        .trim_start_matches("llama.cpp aborted: ");
    let mut parts = line.splitn(3, ": ");
    match (parts.next(), parts.next(), parts.next()) {
        (Some(location), Some(message), None) if location.contains('/') => {
            let file = location.rsplit('/').next().unwrap_or(location);
            format!("{message} ({file})")
        }
        _ => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn abort_message_is_shortened() {
        assert_eq!(
            super::tidy_child_message(
                "refrain: llama.cpp aborted: /x/y/llama-vocab.cpp:2578: GGML_ASSERT(a == b) failed"
            ),
            "GGML_ASSERT(a == b) failed (llama-vocab.cpp:2578)"
        );
        assert_eq!(super::tidy_child_message("plain reason"), "plain reason");
    }

    use super::*;

    #[test]
    fn header_checks_name_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.gguf");
        assert!(matches!(
            check_header(&missing),
            Err(EngineError::ModelMissing { .. })
        ));
        assert!(matches!(
            check_header(dir.path()),
            Err(EngineError::ModelIsDirectory { .. })
        ));
        let empty = dir.path().join("empty.gguf");
        std::fs::write(&empty, b"").unwrap();
        let error = check_header(&empty).unwrap_err();
        assert!(error.to_string().contains("empty"), "{error}");
        let random = dir.path().join("random.gguf");
        std::fs::write(&random, b"not a model at all, just text").unwrap();
        let error = check_header(&random).unwrap_err();
        assert!(error.to_string().contains("magic"), "{error}");
        assert!(error.to_string().contains("random.gguf"), "{error}");
        let short = dir.path().join("short.gguf");
        std::fs::write(&short, b"GGUF\x03\x00").unwrap();
        let error = check_header(&short).unwrap_err();
        assert!(error.to_string().contains("header"), "{error}");
    }
}
