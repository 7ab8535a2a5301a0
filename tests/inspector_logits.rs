//! The inspector's probabilities against a softmax of the raw logits, computed here with
//! llama.cpp directly (no refrain engine in this process), for the tokens `refrain run
//! --logprobs` chose at temperature 1 with no truncation.

mod common;

use std::num::NonZeroU32;

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;

#[test]
fn chosen_probabilities_match_a_softmax_of_the_raw_logits() {
    let Some(model_path) = common::model_path() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let prompt = "The lighthouse keeper said";
    let output = common::refrain_in(dir.path())
        .arg("--model")
        .arg(&model_path)
        .args([
            "run",
            "--raw",
            "--json",
            "--logprobs",
            "5",
            "--temperature",
            "1",
            "--top-k",
            "0",
            "--top-p",
            "1",
            "--min-p",
            "0",
            "--seed",
            "5",
            "-n",
            "12",
            "-t",
            "2",
            prompt,
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let last = String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .unwrap()
        .to_owned();
    let done: serde_json::Value = serde_json::from_str(&last).unwrap();
    let content = done["logprobs"]["content"].as_array().unwrap().clone();
    assert!(content.len() >= 8);

    // The same prompt through llama.cpp, token by token, as refrain decodes it.
    llama_cpp_2::send_logs_to_tracing(llama_cpp_2::LogOptions::default());
    let backend = LlamaBackend::init().unwrap();
    let model =
        LlamaModel::load_from_file(&backend, &model_path, &LlamaModelParams::default()).unwrap();
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(4096))
        .with_n_batch(512)
        .with_n_threads(2)
        .with_n_threads_batch(2)
        .with_n_seq_max(8)
        .with_kv_unified(true);
    let mut context = model.new_context(&backend, params).unwrap();
    let vocab = model.vocab();
    let tokens = vocab.tokenize(prompt.as_bytes(), vocab.should_add_bos(), true);
    let mut batch = LlamaBatch::new(512, 1);
    for (i, token) in tokens.iter().enumerate() {
        batch
            .add(*token, i as i32, &[0], i == tokens.len() - 1)
            .unwrap();
    }
    context.decode(&mut batch).unwrap();
    let mut index = batch.n_tokens() - 1;
    for (position, entry) in (tokens.len() as i32..).zip(&content) {
        let logits = context.get_logits_ith(index);
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
        let z: f64 = logits.iter().map(|l| (f64::from(*l) - max).exp()).sum();
        let chosen = entry["token_id"].as_i64().unwrap() as usize;
        let expected = (f64::from(logits[chosen]) - max).exp() / z;
        let reported = entry["probability"].as_f64().unwrap();
        assert!(
            (reported - expected).abs() < 1e-4,
            "token {}: refrain says {reported}, the softmax {expected}",
            entry["index"]
        );
        let logprob = entry["logprob"].as_f64().unwrap();
        assert!((logprob - expected.ln()).abs() < 1e-3);
        // Nothing is truncated, so the sampler drew from this same distribution.
        assert!((entry["sampler_probability"].as_f64().unwrap() - reported).abs() < 1e-5);
        batch.clear();
        batch
            .add(LlamaToken(chosen as i32), position, &[0], true)
            .unwrap();
        context.decode(&mut batch).unwrap();
        index = 0;
    }
}

#[test]
fn logprobs_json_follows_the_openai_shape() {
    let Some(model_path) = common::model_path() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let output = common::refrain_in(dir.path())
        .arg("--model")
        .arg(&model_path)
        .args([
            "run",
            "--json",
            "--logprobs",
            "3",
            "--temperature",
            "0",
            "-n",
            "6",
            "Hi",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let last = String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .unwrap()
        .to_owned();
    let done: serde_json::Value = serde_json::from_str(&last).unwrap();
    let content = done["logprobs"]["content"].as_array().unwrap();
    assert_eq!(content.len(), 6);
    let mut text = String::new();
    for entry in content {
        let token = entry["token"].as_str().unwrap();
        text.push_str(token);
        assert!(entry["logprob"].as_f64().unwrap() <= 0.0);
        let bytes: Vec<u8> = entry["bytes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_u64().unwrap() as u8)
            .collect();
        assert_eq!(String::from_utf8_lossy(&bytes), token);
        let top = entry["top_logprobs"].as_array().unwrap();
        assert_eq!(top.len(), 3);
        for alternative in top {
            assert!(alternative["token"].is_string());
            assert!(alternative["logprob"].is_number());
            assert!(alternative["bytes"].is_array());
        }
        assert_eq!(top[0]["token"], entry["token"], "greedy: the top one");
        assert!(entry["entropy"].is_number());
        assert!(entry["stages"].is_array());
    }
    assert_eq!(text, done["text"].as_str().unwrap());
    // Without --logprobs there is no logprobs field's content.
    let output = common::refrain_in(dir.path())
        .arg("--model")
        .arg(&model_path)
        .args(["run", "--json", "--temperature", "0", "-n", "3", "Hi"])
        .output()
        .unwrap();
    let last = String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .unwrap()
        .to_owned();
    let done: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert!(done["logprobs"].is_null());
}

#[test]
fn fork_from_the_cli_is_recorded_with_its_parent() {
    let Some(model_path) = common::model_path() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let refrain = || {
        let mut command = common::refrain_in(dir.path());
        command.arg("--model").arg(&model_path);
        command
    };
    let output = refrain()
        .args([
            "fork",
            "--at",
            "2",
            "--temperature",
            "0",
            "-n",
            "12",
            "--json",
            "Write a line about rain.",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let parent = &value["parent"]["logprobs"]["content"];
    let fork = &value["fork"]["logprobs"]["content"];
    assert_eq!(fork[0]["index"], 2, "the fork's first token is token 2");
    assert_eq!(fork[0]["token_id"], value["alternative"]["token"]);
    assert_ne!(
        fork[0]["token_id"], parent[2]["token_id"],
        "another token than the written one"
    );
    let kept = format!(
        "{}{}",
        parent[0]["token"].as_str().unwrap(),
        parent[1]["token"].as_str().unwrap()
    );
    assert!(value["fork"]["text"].as_str().unwrap().starts_with(&kept));
    let fork_id = value["fork"]["run_id"].as_i64().unwrap();
    let output = refrain()
        .args(["history", "show", &fork_id.to_string(), "--json"])
        .output()
        .unwrap();
    let run: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(run["fork"]["parent"], value["parent"]["run_id"]);
    assert_eq!(run["fork"]["index"], 2);
    // A fork point past the end is refused.
    let output = refrain()
        .args(["fork", "--at", "500", "--temperature", "0", "-n", "4", "Hi"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}
