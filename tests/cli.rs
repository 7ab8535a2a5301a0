//! `refrain run` and `refrain bench` as a user runs them: exit codes, messages, output formats.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn refrain(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_refrain"));
        command
            .env("REFRAIN_CACHE_DIR", self.dir.path().join("cache"))
            .env("REFRAIN_CONFIG_DIR", self.dir.path().join("config"))
            .env_remove("REFRAIN_CONFIG")
            .env("REFRAIN_STATE_DIR", self.dir.path().join("state"))
            .env_remove("REFRAIN_MODEL")
            .current_dir(self.dir.path())
            .stdin(Stdio::null());
        command
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run_with_model(sandbox: &Sandbox, model: &Path, extra: &[&str]) -> Output {
    sandbox
        .refrain()
        .arg("run")
        .arg("--model")
        .arg(model)
        .args(["-n", "8", "--temperature", "0"])
        .args(extra)
        .arg("Write a long poem about the sea.")
        .output()
        .expect("run refrain")
}

/// Every way a model file can be bad gives exit 2 and a message naming the file — never a
/// crash, panic or abort.
#[test]
fn bad_model_files_exit_2_with_a_message_naming_the_file() {
    let Some(model) = common::model_path() else {
        return;
    };
    let sandbox = Sandbox::new();
    let original = std::fs::read(&model).expect("read model");
    let mut cases: Vec<(String, PathBuf, &str)> = Vec::new();
    let mut add = |name: &str, bytes: Option<&[u8]>, expect: &'static str| {
        let path = sandbox.path(name);
        if let Some(bytes) = bytes {
            std::fs::write(&path, bytes).unwrap();
        }
        cases.push((name.to_owned(), path, expect));
    };
    add("missing.gguf", None, "does not exist");
    add("empty.gguf", Some(b""), "empty");
    let random: Vec<u8> = (0..65_536u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    add("random.gguf", Some(&random), "not a GGUF");
    add(
        "truncated-1k.gguf",
        Some(&original[..1024]),
        "not a usable GGUF",
    );
    add(
        "truncated-1m.gguf",
        Some(&original[..1 << 20]),
        "not a usable GGUF",
    );
    add(
        "truncated-half.gguf",
        Some(&original[..original.len() / 2]),
        "not a usable GGUF",
    );
    // Token 18 ('"') rewritten as token 17 ('!'): two tokens with one text make llama.cpp's
    // vocabulary loader hit GGML_ASSERT and abort; the check in a child process catches it.
    let mut duplicate_token = original.clone();
    assert_eq!(duplicate_token[1477], b'"', "the model's token table moved");
    duplicate_token[1477] = b'!';
    add(
        "aborts-llama.gguf",
        Some(&duplicate_token),
        "llama.cpp aborted",
    );
    let directory = sandbox.path("a-directory.gguf");
    std::fs::create_dir(&directory).unwrap();
    cases.push(("a-directory.gguf".into(), directory, "directory"));

    for (name, path, expect) in &cases {
        let output = run_with_model(&sandbox, path, &[]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains(name.as_str()),
            "{name}: message must name the file: {stderr}"
        );
        assert!(
            stderr.contains(expect),
            "{name}: expected {expect:?} in {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        assert!(output.stdout.is_empty(), "{name}: nothing on stdout");
    }

    // The verdict is cached per file: a second run answers the same without the child.
    let aborts = sandbox.path("aborts-llama.gguf");
    let again = run_with_model(&sandbox, &aborts, &[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("llama.cpp aborted"));
    let cache = std::fs::read_to_string(sandbox.path("cache/model-checks.json")).unwrap();
    assert!(cache.contains("aborts-llama.gguf"), "{cache}");
}

#[test]
fn unreadable_model_file_exits_2() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::new();
    std::fs::set_permissions(sandbox.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = sandbox.path("locked.gguf");
    std::fs::write(&path, b"GGUF\x03\x00\x00\x00").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    let mut command = sandbox.refrain();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // root reads any file whatever its mode: run refrain as nobody instead, from a copy
        // nobody can reach (the checkout may sit below a directory only root may enter).
        let program = sandbox.path("refrain");
        if std::fs::hard_link(env!("CARGO_BIN_EXE_refrain"), &program).is_err() {
            std::fs::copy(env!("CARGO_BIN_EXE_refrain"), &program).unwrap();
        }
        command = Command::new("setpriv");
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(program)
            .env("REFRAIN_STATE_DIR", "/nonexistent")
            .env("REFRAIN_CACHE_DIR", "/nonexistent")
            .env("REFRAIN_CONFIG_DIR", "/nonexistent")
            .stdin(Stdio::null());
    }
    let output = command
        .args(["run", "-n", "1", "--model"])
        .arg(&path)
        .arg("Hello")
        .output()
        .expect("run refrain");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("locked.gguf") && stderr.contains("cannot read"),
        "{stderr}"
    );
}

#[test]
fn run_streams_text_and_prints_one_stats_line_without_llama_logs() {
    let Some(model) = common::model_path() else {
        return;
    };
    let sandbox = Sandbox::new();
    let output = run_with_model(&sandbox, &model, &["--seed", "1"]);
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(!text(&output.stdout).trim().is_empty());
    // stderr holds our stats line and nothing of llama.cpp's ~2,000 log lines.
    assert_eq!(stderr.lines().count(), 1, "stderr: {stderr}");
    assert!(
        stderr.contains("[max tokens]") && stderr.contains("tok/s"),
        "{stderr}"
    );
    // …which went to the log file instead.
    let log = std::fs::read_to_string(sandbox.path("state/refrain.log")).expect("log file");
    assert!(
        log.contains("llama"),
        "llama.cpp logs belong in the log file"
    );
    let quiet = run_with_model(&sandbox, &model, &["--quiet"]);
    assert!(quiet.stderr.is_empty(), "{}", text(&quiet.stderr));
}

#[test]
fn json_output_is_one_object_per_line() {
    let Some(model) = common::model_path() else {
        return;
    };
    let sandbox = Sandbox::new();
    let output = run_with_model(&sandbox, &model, &["--json", "--quiet", "--seed", "5"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let lines: Vec<serde_json::Value> = text(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.first().unwrap()["type"], "start");
    let tokens: Vec<_> = lines.iter().filter(|l| l["type"] == "token").collect();
    assert_eq!(tokens.len(), 8);
    let done = lines.last().unwrap();
    assert_eq!(done["type"], "done");
    assert_eq!(done["stop_reason"], "max_tokens");
    assert_eq!(done["seed"], 5);
    assert_eq!(done["stats"]["generated_tokens"], 8);
    let joined: String = tokens.iter().map(|t| t["text"].as_str().unwrap()).collect();
    assert_eq!(done["text"].as_str().unwrap(), joined);
}

#[test]
fn prompt_from_stdin_and_too_long_prompt_exits_2() {
    let Some(model) = common::model_path() else {
        return;
    };
    let sandbox = Sandbox::new();
    let mut child = sandbox
        .refrain()
        .args([
            "run",
            "--raw",
            "-n",
            "3",
            "--temperature",
            "0",
            "--quiet",
            "--model",
        ])
        .arg(&model)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"The capital of France is")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert!(
        text(&output.stdout).contains("Paris"),
        "{}",
        text(&output.stdout)
    );

    let long = "words ".repeat(1000);
    let output = sandbox
        .refrain()
        .args(["run", "--ctx-size", "256", "--model"])
        .arg(&model)
        .arg(&long)
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("the context holds 256"), "{stderr}");
}

#[test]
fn missing_model_says_how_to_get_one() {
    let sandbox = Sandbox::new();
    let output = sandbox.refrain().args(["run", "Hello"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("make models") && stderr.contains("--model"),
        "{stderr}"
    );
}

#[test]
fn bench_prints_llama_bench_rows() {
    let Some(model) = common::model_path() else {
        return;
    };
    let sandbox = Sandbox::new();
    let output = sandbox
        .refrain()
        .args([
            "bench",
            "-p",
            "32",
            "-n",
            "8",
            "-r",
            "2",
            "--threads",
            "2",
            "--json",
            "--model",
        ])
        .arg(&model)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows[0]["test"], "pp32");
    assert_eq!(rows[1]["test"], "tg8");
    for row in rows {
        assert_eq!(row["samples"].as_array().unwrap().len(), 2);
        assert!(row["mean"].as_f64().unwrap() > 0.0);
    }
}

#[test]
fn eval_sentiment_gives_the_hand_computed_confusion_matrix() {
    let sandbox = Sandbox::new();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sentiment_small.tsv");
    let output = sandbox
        .refrain()
        .args(["eval", "sentiment", "--json", "--data"])
        .arg(&fixture)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let metrics = &report["results"][0]["metrics"];
    assert_eq!(report["results"][0]["method"], "lexicon");
    // By hand: rows are true positive/negative/neutral, columns predicted.
    // "The table is brown." scores 0 (neutral) though labelled positive; "I am so happy." is
    // labelled negative; "我爱你" is n/a, which counts as neutral.
    assert_eq!(
        metrics["confusion"]["counts"],
        serde_json::json!([[2, 0, 1], [1, 2, 0], [0, 0, 2]])
    );
    assert!((metrics["accuracy"].as_f64().unwrap() - 0.75).abs() < 1e-9);
    assert!((metrics["coverage"].as_f64().unwrap() - 0.625).abs() < 1e-9);
    let macro_f1 = (2.0 / 3.0 + 0.8 + 0.8) / 3.0;
    assert!((metrics["macro_f1"].as_f64().unwrap() - macro_f1).abs() < 1e-9);

    // JSONL with 1/0 labels reads the same way; a bad label names the line.
    let jsonl = sandbox.path("data.jsonl");
    std::fs::write(
        &jsonl,
        "{\"text\": \"I love it\", \"label\": 1}\n{\"text\": \"I hate it\", \"label\": \"0\"}\n",
    )
    .unwrap();
    let output = sandbox
        .refrain()
        .args(["eval", "sentiment", "--json", "--data"])
        .arg(&jsonl)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["results"][0]["metrics"]["accuracy"], 1.0);
    std::fs::write(&jsonl, "good\tmaybe\n").unwrap();
    let output = sandbox
        .refrain()
        .args(["eval", "sentiment", "--data"])
        .arg(&jsonl)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("data.jsonl:1"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn sentiment_command_scores_lines_with_lexicon_and_model() {
    let Some(model) = common::model_path() else {
        return;
    };
    let sandbox = Sandbox::new();
    let input = sandbox.path("song.txt");
    std::fs::write(
        &input,
        "I love you, my sunshine\n\n月亮很美\nI hate this cold, dark rain\n",
    )
    .unwrap();
    let output = sandbox
        .refrain()
        .args(["sentiment", "--json", "--model"])
        .arg(&model)
        .arg(&input)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let lines = report["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 3, "blank lines are not lines");
    assert!(lines[0]["lexicon"].as_f64().unwrap() > 0.05);
    assert!(
        lines[1]["lexicon"].is_null(),
        "Chinese is n/a for the lexicon, not 0"
    );
    assert!(lines[2]["lexicon"].as_f64().unwrap() < -0.05);
    for line in lines {
        let model = &line["model"];
        let sum: f64 = ["positive", "neutral", "negative"]
            .iter()
            .map(|k| model[k].as_f64().unwrap())
            .sum();
        assert!((sum - 1.0).abs() < 1e-9, "model probabilities: {model}");
    }
    let overall = &report["overall"];
    assert_eq!(overall["lexicon"]["not_applicable_lines"], 1);
    assert!(overall["model"]["score"].is_number());
}

#[test]
fn gpu_layers_on_a_cpu_build_work_with_a_hint_and_devices_are_listed() {
    let Some(model) = common::model_path() else {
        return;
    };
    let sandbox = Sandbox::new();
    let output = run_with_model(
        &sandbox,
        &model,
        &["--gpu-layers", "all", "--json", "--quiet"],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let last: serde_json::Value =
        serde_json::from_str(text(&output.stdout).lines().last().unwrap()).unwrap();
    if last["model"]["gpu_offload_supported"] == false {
        assert_eq!(last["model"]["gpu_layers_offloaded"], 0);
        assert!(
            text(&output.stderr).contains("no GPU backend"),
            "{}",
            text(&output.stderr)
        );
    }
    // auto: on a CPU build nothing fits anywhere, and it says so the same way.
    let output = run_with_model(
        &sandbox,
        &model,
        &["--gpu-layers", "auto", "--json", "--quiet"],
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let last: serde_json::Value =
        serde_json::from_str(text(&output.stdout).lines().last().unwrap()).unwrap();
    if last["model"]["gpu_offload_supported"] == false {
        assert_eq!(last["model"]["gpu_layers_offloaded"], 0);
        assert_eq!(last["model"]["offload"], serde_json::json!([]));
    }
    let devices = sandbox
        .refrain()
        .arg("--model")
        .arg(&model)
        .args(["--gpu-layers", "auto", "models", "--devices", "--json"])
        .output()
        .unwrap();
    assert!(devices.status.success(), "{}", text(&devices.stderr));
    let listing: serde_json::Value = serde_json::from_slice(&devices.stdout).unwrap();
    let list = listing["devices"].as_array().unwrap();
    assert!(list.iter().any(|d| d["kind"] == "CPU"), "{list:?}");
    let plan = &listing["plan"];
    assert_eq!(plan["layers"], 31, "SmolLM2: 30 blocks + the output layer");
    assert_eq!(plan["gpu_layers"], "auto");
    if !list.iter().any(|d| d["kind"] != "CPU") {
        assert_eq!(plan["offloaded"], 0);
    }
}

/// The comparison benchmarks report both sides and their ratio (their numbers are in the
/// README; here only that they run and say what they measured).
#[test]
fn comparison_benchmarks_report_both_sides() {
    let Some(model) = common::model_path() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for (flag, first, second) in [
        ("--inspector", "without", "with"),
        ("--ui", "plain", "studio"),
    ] {
        let output = common::refrain_in(dir.path())
            .arg("--model")
            .arg(&model)
            .args(["bench", flag, "-n", "16", "-r", "1", "--json"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{flag}: {}", text(&output.stderr));
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let (a, b) = (
            report[first]["median"].as_f64(),
            report[second]["median"].as_f64(),
        );
        assert!(a.unwrap() > 0.0 && b.unwrap() > 0.0, "{flag}: {report}");
        let ratio = report["ratio"].as_f64().unwrap();
        assert!(
            (ratio - b.unwrap() / a.unwrap()).abs() < 1e-9,
            "{flag}: {report}"
        );
    }
    let output = common::refrain_in(dir.path())
        .arg("--model")
        .arg(&model)
        .args(["bench", "--sweep", "2", "-n", "16", "-r", "1", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["ways"], 2);
    assert_eq!(
        report["sequential"]["tokens"], report["sweep"]["tokens"],
        "both sides generate the same tokens"
    );
}
