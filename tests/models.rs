//! Model discovery over a temporary home laid out like each model store, and header metadata
//! against what llama.cpp reports.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// A hard link where possible (cheap), else a copy.
fn place(model: &Path, at: &Path) {
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    if std::fs::hard_link(model, at).is_err() {
        std::fs::copy(model, at).unwrap();
    }
}

fn symlink(target: &Path, at: &Path) {
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, at).unwrap();
}

struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn refrain(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_refrain"));
        command
            .current_dir(self.path("work"))
            .env("HOME", self.path("home"))
            .env("REFRAIN_CACHE_DIR", self.path("cache"))
            .env("REFRAIN_CONFIG_DIR", self.path("config"))
            .env_remove("REFRAIN_CONFIG")
            .env("REFRAIN_STATE_DIR", self.path("state"))
            .env("REFRAIN_DATA_DIR", self.path("data"))
            .env_remove("HF_HOME")
            .env_remove("HF_HUB_CACHE")
            .env_remove("LLAMA_CACHE")
            .env_remove("OLLAMA_MODELS")
            .env_remove("REFRAIN_MODEL")
            .env_remove("REFRAIN_MODEL_DIRS");
        command
    }
}

/// One home with the default model in every kind of store, and invalid files beside it.
fn laid_out_home(model: &Path) -> Home {
    let home = Home {
        dir: tempfile::tempdir().unwrap(),
    };
    // ./models of the working directory, with a broken file beside the model.
    place(model, &home.path("work/models/smollm2.gguf"));
    std::fs::write(home.path("work/models/broken.gguf"), b"not a gguf at all").unwrap();
    // Hugging Face: snapshots link into blobs.
    let repo =
        home.path("home/.cache/huggingface/hub/models--HuggingFaceTB--SmolLM2-135M-Instruct-GGUF");
    place(model, &repo.join("blobs/0123abcd"));
    symlink(
        Path::new("../../blobs/0123abcd"),
        &repo.join("snapshots/rev1/smollm2-135m-instruct-q4_1.gguf"),
    );
    // llama.cpp cache: a model split in three parts counts once.
    let cache = home.path("home/.cache/llama.cpp");
    place(model, &cache.join("tiny-00001-of-00003.gguf"));
    std::fs::write(cache.join("tiny-00002-of-00003.gguf"), vec![0u8; 1000]).unwrap();
    std::fs::write(cache.join("tiny-00003-of-00003.gguf"), vec![0u8; 1000]).unwrap();
    // LM Studio: publisher/repo/file.
    place(
        model,
        &home.path("home/.lmstudio/models/lmstudio-community/SmolLM2/SmolLM2-Q4_1.gguf"),
    );
    // Ollama: a manifest names the model layer's blob; other layers are not models.
    let ollama = home.path("home/.ollama/models");
    place(model, &ollama.join("blobs/sha256-feedbeef"));
    std::fs::write(ollama.join("blobs/sha256-template"), b"{{ .Prompt }}").unwrap();
    let manifest = ollama.join("manifests/registry.ollama.ai/library/smollm2/135m");
    std::fs::create_dir_all(manifest.parent().unwrap()).unwrap();
    std::fs::write(
        &manifest,
        r#"{"schemaVersion":2,"layers":[
            {"mediaType":"application/vnd.ollama.image.model","digest":"sha256:feedbeef","size":98362432},
            {"mediaType":"application/vnd.ollama.image.template","digest":"sha256:template","size":13}]}"#,
    )
    .unwrap();
    home
}

#[test]
fn discovery_finds_every_store_lists_invalid_files_and_counts_splits_once() {
    let Some(model) = common::model_path() else {
        return;
    };
    let home = laid_out_home(&model);
    let extra = home.path("extra");
    std::fs::create_dir_all(&extra).unwrap();
    place(&model, &extra.join("from-dir.gguf"));
    let output = home
        .refrain()
        .args(["models", "--json", "--dir"])
        .arg(&extra)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    let by_name = |name: &str| {
        rows.iter()
            .find(|r| r["name"] == name)
            .unwrap_or_else(|| panic!("{name} not found in {rows:#?}"))
    };
    for (name, source) in [
        ("smollm2", "models dir"),
        ("from-dir", "your dirs"),
        (
            "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF/smollm2-135m-instruct-q4_1",
            "Hugging Face",
        ),
        ("tiny", "llama.cpp cache"),
        ("SmolLM2-Q4_1", "LM Studio"),
        ("smollm2:135m", "Ollama"),
    ] {
        let row = by_name(name);
        assert_eq!(row["source"], source, "{row}");
        assert_eq!(row["metadata"]["architecture"], "llama", "{row}");
        assert_eq!(row["metadata"]["quantization"], "Q4_1");
        assert_eq!(row["metadata"]["parameters"], 134_515_008u64);
    }
    let split = by_name("tiny");
    assert_eq!(split["parts"], 3);
    assert_eq!(split["size_bytes"], 98_362_432u64 + 2000);
    assert_eq!(
        rows.iter()
            .filter(|r| r["name"].as_str().unwrap().starts_with("tiny"))
            .count(),
        1
    );
    let broken = by_name("broken");
    assert!(
        broken["invalid"].as_str().unwrap().contains("GGUF"),
        "{broken}"
    );
    assert!(
        rows.iter().all(|r| r["name"] != "sha256-template"),
        "non-model Ollama layers are not listed"
    );
    assert_eq!(rows.len(), 7);

    // A missing cache is skipped silently; the table form works too.
    let table = home.refrain().arg("models").output().unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("smollm2:135m") && text.contains("invalid:"),
        "{text}"
    );
}

#[test]
fn model_flag_takes_a_name_from_the_list() {
    let Some(model) = common::model_path() else {
        return;
    };
    let home = laid_out_home(&model);
    let output = home
        .refrain()
        .args([
            "run",
            "--quiet",
            "--no-history",
            "-n",
            "3",
            "--temperature",
            "0",
            "--model",
            "smollm2:135m",
            "Hi",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // "Smol" is a prefix of two names: refused with the candidates.
    let ambiguous = home
        .refrain()
        .args(["run", "--model", "Smol", "Hi"])
        .output()
        .unwrap();
    assert_eq!(ambiguous.status.code(), Some(2));
    let message = String::from_utf8_lossy(&ambiguous.stderr);
    assert!(
        message.contains("matches") && message.contains("SmolLM2-Q4_1"),
        "{message}"
    );
}

#[test]
fn header_metadata_matches_what_llama_cpp_reports() {
    let Some(mut engine) = common::TestEngine::start(512) else {
        return;
    };
    let summary = refrain::models::gguf::read_summary(&common::model_path().unwrap()).unwrap();
    let info = &engine.info;
    assert_eq!(
        summary.architecture.as_deref(),
        Some(info.architecture.as_str())
    );
    assert_eq!(
        summary.quantization.as_deref(),
        Some(info.quantization.as_str())
    );
    assert_eq!(summary.parameters, info.parameters);
    assert_eq!(
        summary.context_length,
        Some(u64::from(info.trained_context))
    );
    assert_eq!(summary.layers, Some(u64::from(info.layers)));
    assert_eq!(summary.has_chat_template, info.has_chat_template);
    assert_eq!(summary.name.as_deref(), Some(info.name.as_str()));
    let _ = engine.generate(common::chat("Hi"), common::greedy(1));
}

#[test]
fn bad_headers_are_reasons_not_crashes() {
    let Some(model) = common::model_path() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(&model).unwrap();
    let read = |name: &str, content: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        refrain::models::gguf::read_summary(&path)
    };
    assert!(read("t1k.gguf", &bytes[..1024])
        .unwrap_err()
        .contains("ends inside"));
    assert!(read("random.gguf", b"random bytes, not gguf")
        .unwrap_err()
        .contains("GGUF"));
    let mut huge = b"GGUF".to_vec();
    huge.extend_from_slice(&3u32.to_le_bytes());
    huge.extend_from_slice(&0u64.to_le_bytes());
    huge.extend_from_slice(&1u64.to_le_bytes());
    huge.extend_from_slice(&u64::MAX.to_le_bytes()); // a key "as long as the universe"
    assert!(read("huge.gguf", &huge)
        .unwrap_err()
        .contains("implausible"));
    // Truncated after the metadata: the tensor table is cut.
    assert!(read("half.gguf", &bytes[..2_000_000])
        .unwrap_err()
        .contains("truncated"));
    assert!(
        read("whole.gguf", &bytes).is_ok(),
        "the exact size is enough"
    );
}
