//! The config file, its precedence under flags and environment, presets, and every fixture
//! in tests/fixtures/{valid,invalid}_configs/, through the real binary.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// refrain with everything of the user's (config, presets, history, env) kept out.
    fn refrain(&self) -> Command {
        common::refrain_in(self.dir.path())
    }

    fn write_config(&self, text: &str) -> PathBuf {
        let dir = self.path("config");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.toml");
        std::fs::write(&path, text).unwrap();
        path
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// The fixture's `# expect: …` lines.
fn expectations(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("# expect: "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_invalid_fixture_fails_with_its_message() {
    let sandbox = Sandbox::new();
    let files = fixtures("invalid_configs");
    assert!(files.len() >= 10, "the fixtures are there");
    for file in files {
        let expected = expectations(&file);
        assert_eq!(expected.len(), 1, "{} names its message", file.display());
        let output = sandbox
            .refrain()
            .arg("--config")
            .arg(&file)
            .args(["config", "check"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{}", file.display());
        let message = stderr(&output);
        let whole = format!("refrain: config file {}, {}", file.display(), expected[0]);
        assert!(
            message.starts_with(&whole),
            "{}:\n got: {message}\nwant: {whole}",
            file.display()
        );
    }
}

#[test]
fn every_valid_fixture_passes_and_shows_its_settings() {
    let sandbox = Sandbox::new();
    for file in fixtures("valid_configs") {
        let output = sandbox
            .refrain()
            .arg("--config")
            .arg(&file)
            .args(["config", "check"])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}: {}",
            file.display(),
            stderr(&output)
        );
        let shown = stdout(&output);
        assert!(shown.contains("(valid)"), "{shown}");
        for expected in expectations(&file) {
            assert!(
                shown.contains(&expected),
                "{}: missing '{expected}' in\n{shown}",
                file.display()
            );
        }
    }
}

#[test]
fn an_invalid_config_stops_every_command_before_it_starts() {
    let sandbox = Sandbox::new();
    sandbox.write_config("[sampler]\ntemperature = \"hot\"\n");
    // The studio (no subcommand) must not open half-configured: no alternate screen.
    for args in [&[][..], &["run", "hello"][..], &["history", "list"][..]] {
        let output = sandbox.refrain().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains("line 2, column 15, key `sampler.temperature`"),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            !stdout(&output).contains("\x1b[?1049h"),
            "{args:?}: the terminal was not taken over"
        );
    }
}

#[test]
fn precedence_is_flags_then_environment_then_preset_then_file_then_defaults() {
    let sandbox = Sandbox::new();
    let temperature = |command: &mut Command| -> String {
        let output = command.args(["config", "check"]).output().unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        let shown = stdout(&output);
        let line = shown.lines().find(|l| l.starts_with("sampler")).unwrap();
        line.split(" · ")
            .next()
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        temperature(&mut sandbox.refrain()),
        "0.8",
        "built-in default"
    );
    sandbox.write_config("[sampler]\ntemperature = 0.3\nmax_tokens = 99\n");
    assert_eq!(
        temperature(&mut sandbox.refrain()),
        "0.3",
        "file over default"
    );
    assert_eq!(
        temperature(sandbox.refrain().args(["--preset", "creative"])),
        "1",
        "preset over file"
    );
    assert_eq!(
        temperature(
            sandbox
                .refrain()
                .args(["--preset", "creative"])
                .env("REFRAIN_TEMPERATURE", "0.5")
        ),
        "0.5",
        "environment over preset"
    );
    assert_eq!(
        temperature(
            sandbox
                .refrain()
                .env("REFRAIN_TEMPERATURE", "0.5")
                .args(["--temperature", "0.7"])
        ),
        "0.7",
        "flag over environment"
    );
    // What the higher layers leave unset still comes from the file.
    let output = sandbox
        .refrain()
        .args(["--preset", "creative", "config", "check"])
        .output()
        .unwrap();
    assert!(
        stdout(&output).contains("max tokens 99"),
        "{}",
        stdout(&output)
    );

    // Switches: history off in the file, back on with --history; --no-history wins over the file.
    sandbox.write_config("[history]\nenabled = false\n[studio]\nmouse = true\n");
    let shown = stdout(
        &sandbox
            .refrain()
            .args(["config", "check"])
            .output()
            .unwrap(),
    );
    assert!(shown.contains("history       off"), "{shown}");
    assert!(shown.contains("mouse on"), "{shown}");
    let shown = stdout(
        &sandbox
            .refrain()
            .args(["--history", "--no-mouse", "config", "check"])
            .output()
            .unwrap(),
    );
    assert!(shown.contains("history       on"), "{shown}");
    assert!(shown.contains("mouse off"), "{shown}");
}

#[test]
fn history_off_in_the_config_records_nothing() {
    let Some(model) = common::model_path() else {
        return;
    };
    let sandbox = Sandbox::new();
    sandbox.write_config("[history]\nenabled = false\n");
    let output = sandbox
        .refrain()
        .arg("--model")
        .arg(&model)
        .args(["run", "-q", "--temperature", "0", "-n", "4", "Hi"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        !sandbox.path("data/history.sqlite").exists(),
        "no database was written"
    );
}

#[test]
fn config_path_and_init() {
    let sandbox = Sandbox::new();
    let expected = sandbox.path("config/config.toml");
    let output = sandbox.refrain().args(["config", "path"]).output().unwrap();
    assert_eq!(stdout(&output).trim(), expected.display().to_string());

    let output = sandbox.refrain().args(["config", "init"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let written = std::fs::read_to_string(&expected).unwrap();
    assert_eq!(written, refrain::config::DEFAULT_CONFIG);
    assert!(
        written.contains("# temperature = 0.8"),
        "documented, commented out"
    );

    // The written file is valid and changes nothing.
    let output = sandbox
        .refrain()
        .args(["config", "check"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("temperature 0.8 ·"));

    // A second init keeps the user's file unless forced; forced keeps a backup.
    std::fs::write(&expected, "[sampler]\ntemperature = 0.2\n").unwrap();
    let output = sandbox.refrain().args(["config", "init"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("already exists"));
    let output = sandbox
        .refrain()
        .args(["config", "init", "--force"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let backup = std::fs::read_to_string(sandbox.path("config/config.toml.bak")).unwrap();
    assert!(backup.contains("0.2"));

    // A broken file can still be located and replaced: config commands do not need it valid.
    std::fs::write(&expected, "this is not toml").unwrap();
    let output = sandbox.refrain().args(["config", "path"]).output().unwrap();
    assert!(output.status.success());
}

#[test]
fn a_named_config_that_is_missing_is_an_error() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .refrain()
        .args(["--config", "/nonexistent/refrain.toml", "config", "check"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("/nonexistent/refrain.toml: cannot read it"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn presets_list_show_and_user_overrides() {
    let sandbox = Sandbox::new();
    let output = sandbox
        .refrain()
        .args(["presets", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let presets: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    let names: Vec<&str> = presets
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "precise",
        "balanced",
        "creative",
        "wild",
        "song-lyrics",
        "haiku",
        "qiyan-jueju",
        "tanka",
        "copla",
        "limerick",
        "in-the-style-of",
        "sentiment-rewrite",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let tanka = presets.iter().find(|p| p["name"] == "tanka").unwrap();
    assert_eq!(tanka["language"], "ja");
    assert_eq!(
        tanka["placeholders"],
        serde_json::json!(["subject", "mood"])
    );

    let output = sandbox
        .refrain()
        .args(["presets", "haiku"])
        .output()
        .unwrap();
    assert!(stdout(&output).contains("--var subject=… --var season=…"));

    let presets_dir = sandbox.path("config/presets");
    std::fs::create_dir_all(&presets_dir).unwrap();
    std::fs::write(
        presets_dir.join("haiku.toml"),
        "description = \"my haiku\"\nprompt = \"A haiku on {topic}\"\n",
    )
    .unwrap();
    let output = sandbox.refrain().args(["presets"]).output().unwrap();
    let listing = stdout(&output);
    assert!(listing.contains("my haiku (yours)"), "{listing}");
}

#[test]
fn run_with_a_prompt_preset_fills_its_blanks() {
    let Some(model) = common::model_path() else {
        return;
    };
    let sandbox = Sandbox::new();
    let output = sandbox
        .refrain()
        .arg("--model")
        .arg(&model)
        .args(["--preset", "haiku", "run", "--var", "subject=rain"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("haiku has blanks to fill: --var season=…"),
        "{}",
        stderr(&output)
    );

    let output = sandbox
        .refrain()
        .arg("--model")
        .arg(&model)
        .args([
            "--preset",
            "haiku",
            "run",
            "--json",
            "--var",
            "subject=rain",
            "--var",
            "season=autumn",
            "--temperature",
            "0",
            "-n",
            "12",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let last = stdout(&output).lines().last().unwrap().to_owned();
    let result: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert!(!result["text"].as_str().unwrap().is_empty());
    // The history keeps the filled prompt and the preset's system prompt.
    let output = sandbox
        .refrain()
        .args(["history", "show", "1", "--json"])
        .output()
        .unwrap();
    let run: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let text = run.to_string();
    assert!(
        text.contains("Write a haiku about rain in autumn."),
        "{text}"
    );
    assert!(text.contains("season word (kigo)"), "{text}");
    assert!(
        text.contains("\"max_tokens\":12"),
        "the flag beat the preset: {text}"
    );
}
