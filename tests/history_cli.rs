//! `refrain run` recording into the history, and the `refrain history` commands, as a user runs them.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use refrain::store::{RunStatus, Store};

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn db(&self) -> PathBuf {
        self.data_dir().join("history.sqlite")
    }

    fn refrain(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_refrain"));
        command
            .env("REFRAIN_DATA_DIR", self.data_dir())
            .env("REFRAIN_CACHE_DIR", self.dir.path().join("cache"))
            .env("REFRAIN_CONFIG_DIR", self.dir.path().join("config"))
            .env_remove("REFRAIN_CONFIG")
            .env("REFRAIN_STATE_DIR", self.dir.path().join("state"))
            .stdin(Stdio::null());
        command
    }

    fn run(&self, model: &Path, args: &[&str]) -> Output {
        self.refrain()
            .arg("run")
            .arg("--model")
            .arg(model)
            .arg("--quiet")
            .args(args)
            .output()
            .unwrap()
    }

    fn history(&self, args: &[&str]) -> Output {
        self.refrain().arg("history").args(args).output().unwrap()
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn runs_are_recorded_listed_searched_shown_exported_and_removed() {
    let Some(model) = common::model_path() else {
        return;
    };
    let sandbox = Sandbox::new();
    let first = sandbox.run(
        &model,
        &[
            "-n",
            "12",
            "--temperature",
            "0",
            "Write a line about the ocean.",
        ],
    );
    assert!(first.status.success(), "{}", stderr(&first));
    let second = sandbox.run(
        &model,
        &[
            "-n",
            "12",
            "--seed",
            "9",
            "--system",
            "Be gloomy.",
            "A line about winter.",
        ],
    );
    assert!(second.status.success(), "{}", stderr(&second));

    let list: serde_json::Value =
        serde_json::from_slice(&sandbox.history(&["list", "--json"]).stdout).unwrap();
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0]["first_line"], "A line about winter.",
        "newest first"
    );
    assert_eq!(rows[0]["seed"], 9);
    assert_eq!(rows[1]["status"], "finished");

    let found: serde_json::Value =
        serde_json::from_slice(&sandbox.history(&["search", "ocean", "--json"]).stdout).unwrap();
    assert_eq!(found.as_array().unwrap().len(), 1);

    let show: serde_json::Value =
        serde_json::from_slice(&sandbox.history(&["show", "2", "--json"]).stdout).unwrap();
    assert_eq!(show["system_prompt"], "Be gloomy.");
    assert_eq!(show["sampler"]["seed"], 9);
    assert_eq!(
        show["output"].as_str().unwrap(),
        stdout(&second).trim_end_matches('\n')
    );
    assert!(show["templated_prompt"]
        .as_str()
        .unwrap()
        .contains("Be gloomy."));
    assert_eq!(
        show["model_sha256"],
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    );
    assert!(show["sentiment"]["lexicon_lines"].is_array());
    assert!(show["stats"]["tokens_per_second"].as_f64().unwrap() > 0.0);

    assert!(sandbox.history(&["star", "1"]).status.success());
    let starred: serde_json::Value =
        serde_json::from_slice(&sandbox.history(&["list", "--starred", "--json"]).stdout).unwrap();
    assert_eq!(starred[0]["id"], 1);

    let exported = sandbox.dir.path().join("all.json");
    let export = sandbox.history(&[
        "export",
        "--all",
        "--format",
        "json",
        "-o",
        exported.to_str().unwrap(),
    ]);
    assert!(export.status.success(), "{}", stderr(&export));
    let records =
        refrain::store::export::from_json(&std::fs::read_to_string(&exported).unwrap()).unwrap();
    assert_eq!(records.len(), 2);
    let markdown = stdout(&sandbox.history(&["export", "2"]));
    assert!(
        markdown.contains("## Run 2") && markdown.contains("Be gloomy."),
        "{markdown}"
    );

    assert!(sandbox.history(&["rm", "2"]).status.success());
    assert_eq!(sandbox.history(&["show", "2"]).status.code(), Some(2));
}

#[test]
fn replay_of_greedy_and_fixed_seed_runs_matches() {
    let Some(model) = common::model_path() else {
        return;
    };
    let sandbox = Sandbox::new();
    sandbox.run(
        &model,
        &["-n", "24", "--temperature", "0", "Describe a lighthouse."],
    );
    sandbox.run(
        &model,
        &[
            "-n",
            "24",
            "--temperature",
            "1.2",
            "--seed",
            "77",
            "Describe a storm.",
        ],
    );
    for id in ["1", "2"] {
        let replay = sandbox.history(&["replay", id, "--json"]);
        let report: serde_json::Value = serde_json::from_slice(&replay.stdout)
            .unwrap_or_else(|_| panic!("{}", stderr(&replay)));
        assert_eq!(report["matched"], true, "run {id}: {report}");
        assert!(!report["text"].as_str().unwrap().is_empty());
    }
}

#[test]
fn kill_9_mid_generation_leaves_an_interrupted_run_with_its_partial_text() {
    let Some(model) = common::model_path() else {
        return;
    };
    let sandbox = Sandbox::new();
    let mut child = sandbox
        .refrain()
        .args([
            "run",
            "--quiet",
            "--raw",
            "-n",
            "100000",
            "--temperature",
            "0",
            "--ctx-size",
            "8192",
            "--model",
        ])
        .arg(&model)
        .arg("1, 2, 3, 4,")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        assert!(Instant::now() < deadline, "no partial output was recorded");
        let partial = rusqlite::Connection::open(sandbox.db()).ok().and_then(|c| {
            c.query_row("SELECT length(output) FROM runs WHERE id = 1", [], |r| {
                r.get::<_, i64>(0)
            })
            .ok()
        });
        if partial.is_some_and(|len| len > 20) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let store = Store::open(&sandbox.db()).unwrap();
    let run = store.get(1).unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Interrupted);
    assert!(
        run.output.len() > 20 && run.output.contains(" 5,"),
        "the partial text recorded before the kill is kept: {:?}",
        run.output
    );
}

#[test]
fn a_corrupt_database_disables_history_but_the_run_goes_on() {
    let Some(model) = common::model_path() else {
        return;
    };
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.data_dir()).unwrap();
    std::fs::write(sandbox.db(), b"definitely not sqlite, but the user's file").unwrap();
    let output = sandbox.run(&model, &["-n", "4", "Hi"]);
    assert!(output.status.success());
    assert!(
        stderr(&output).contains("history disabled") && stderr(&output).contains("history.sqlite"),
        "{}",
        stderr(&output)
    );
    assert_eq!(
        std::fs::read(sandbox.db()).unwrap(),
        b"definitely not sqlite, but the user's file"
    );
    let list = sandbox.history(&["list"]);
    assert_eq!(list.status.code(), Some(2));
    assert!(stderr(&list).contains("not a SQLite database"));
}

#[test]
fn no_history_keeps_nothing() {
    let Some(model) = common::model_path() else {
        return;
    };
    let sandbox = Sandbox::new();
    let output = sandbox
        .refrain()
        .args(["--no-history", "run", "-n", "4", "--quiet", "--model"])
        .arg(&model)
        .arg("Hi")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(!sandbox.db().exists());
}

/// `--model` (or REFRAIN_MODEL) with a history command must not clash with the list filter.
#[test]
fn global_model_flag_and_history_filters_coexist() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .refrain()
        .args([
            "--model",
            "/x/y.gguf",
            "history",
            "list",
            "--by-model",
            "smol",
        ])
        .env("REFRAIN_MODEL", "/x/y.gguf")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "no runs");
}
