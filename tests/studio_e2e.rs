//! The real binary, the real model, in a real pseudo-terminal (tmux): type, send, watch it
//! stream, cancel a second run, quit, and check the terminal is back to normal.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        command.args(["-L", &self.socket]);
        command
    }

    fn run(&self, args: &[&str]) -> String {
        let output = self.command().args(args).output().expect("tmux runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "studio"])
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "studio"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "studio", "-l", text]);
    }

    /// Waits for the screen to satisfy `done`; fails with the last screen after `timeout`.
    fn wait_for(&self, what: &str, timeout: Duration, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.command().arg("kill-server").output();
    }
}

fn status_line(screen: &str) -> String {
    screen
        .lines()
        .rev()
        .find(|l| l.contains('│'))
        .unwrap_or("")
        .to_owned()
}

/// A studio running in its own tmux server, with the files that show how it ended.
struct Studio {
    tmux: Tmux,
    stty_before: std::path::PathBuf,
    history: std::path::PathBuf,
    stty_after: std::path::PathBuf,
    pid_file: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Studio {
    fn start(args: &str) -> Option<Self> {
        let model = common::model_path()?;
        if Command::new("tmux").arg("-V").output().is_err() {
            assert!(
                std::env::var("CI").map(|v| v != "true").unwrap_or(true),
                "tmux is required in CI (make deps installs it)"
            );
            eprintln!("skipping: tmux not installed");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let stty_before = dir.path().join("stty-before");
        let stty_after = dir.path().join("stty-after");
        let pid_file = dir.path().join("pid");
        // `exec` makes the recorded pid the studio's own, for the signal tests.
        let script = format!(
            "stty -g > {before}; REFRAIN_STATE_DIR={state} REFRAIN_CACHE_DIR={cache} REFRAIN_CONFIG_DIR={state}/config REFRAIN_DATA_DIR={data} \
             sh -c 'echo $$ > {pid}; exec {bin} --model {model} {args}'; echo EXIT=$?; \
             stty -g > {after}; sleep 120",
            before = stty_before.display(),
            after = stty_after.display(),
            pid = pid_file.display(),
            state = dir.path().join("state").display(),
            cache = dir.path().join("cache").display(),
            data = dir.path().join("data").display(),
            bin = env!("CARGO_BIN_EXE_refrain"),
            model = model.display(),
        );
        let tmux = Tmux {
            socket: format!("refrain-e2e-{}-{}", std::process::id(), args.len()),
        };
        let started = tmux
            .command()
            .args([
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                "studio",
                "-x",
                "100",
                "-y",
                "30",
            ])
            .arg(&script)
            .status()
            .expect("tmux starts");
        assert!(started.success());
        Some(Self {
            tmux,
            history: dir.path().join("data/history.sqlite"),
            stty_before,
            stty_after,
            pid_file,
            _dir: dir,
        })
    }

    /// After the studio ended: its exit line, and the terminal exactly as before.
    fn assert_exited_cleanly(&self, expected_exit: &str) {
        let screen = self
            .tmux
            .wait_for("the studio to exit", Duration::from_secs(10), |s| {
                s.contains("EXIT=")
            });
        assert!(screen.contains(expected_exit), "{screen}");
        self.tmux
            .wait_for("stty after exit", Duration::from_secs(5), |_| {
                self.stty_after.exists()
            });
        assert_eq!(
            self.tmux
                .run(&["display", "-p", "-t", "studio", "#{alternate_on}"])
                .trim(),
            "0"
        );
        let read = |path: &Path| std::fs::read_to_string(path).unwrap();
        assert_eq!(
            read(&self.stty_before),
            read(&self.stty_after),
            "terminal modes restored"
        );
    }
}

#[test]
fn studio_streams_cancels_and_restores_the_terminal() {
    let Some(studio) = Studio::start("--ctx-size 4096 --temperature 0 --max-tokens 48") else {
        return;
    };
    let tmux = &studio.tmux;
    // The first frame comes at once; the model finishes loading in the background.
    tmux.wait_for("the ready studio", Duration::from_secs(60), |s| {
        status_line(s).contains("ready")
    });

    tmux.type_text("Write a short poem about the sea.");
    tmux.keys(&["C-s"]);
    let screen = tmux.wait_for("a finished first run", Duration::from_secs(60), |s| {
        let status = status_line(s);
        status.contains("tok/s")
            && (status.contains("max tokens") || status.contains("end of generation"))
    });
    let output_lines: Vec<&str> = screen
        .lines()
        .filter_map(|line| line.split('│').nth(3))
        .filter(|cell| !cell.trim().is_empty())
        .collect();
    assert!(
        !output_lines.is_empty(),
        "streamed text in the output pane:\n{screen}"
    );
    assert!(
        !screen.contains("llama_model_loader"),
        "llama.cpp logs must not reach the screen"
    );
    let speed: f64 = status_line(&screen)
        .split('│')
        .find_map(|part| part.trim().strip_suffix(" tok/s")?.parse().ok())
        .expect("a tok/s figure");
    assert!(speed > 1.0, "tokens/s {speed}");

    // The sentiment pane: the lexicon's readout at once, the model's after the response.
    let screen = tmux.wait_for(
        "the model's sentiment readout",
        Duration::from_secs(60),
        |s| s.contains("P+"),
    );
    assert!(screen.contains("lexicon"), "{screen}");

    // The run is in the history list.
    tmux.keys(&["F4"]);
    tmux.wait_for("the history list", Duration::from_secs(10), |s| {
        s.contains("1 runs") && s.contains("Write a short poem")
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("the list to close", Duration::from_secs(5), |s| {
        !s.contains("search ▏")
    });
    std::thread::sleep(Duration::from_millis(300));

    // Raise max tokens in the sampler controls, regenerate, and cancel it with Esc.
    tmux.keys(&["Tab", "Tab"]);
    for _ in 0..5 {
        tmux.keys(&["Down"]);
    }
    tmux.type_text("5000");
    tmux.keys(&["Enter"]);
    tmux.wait_for("max tokens set", Duration::from_secs(5), |s| {
        s.contains("max tokens      5000")
    });
    tmux.keys(&["C-g"]);
    tmux.wait_for("the second run streaming", Duration::from_secs(30), |s| {
        status_line(s).contains("generating") && status_line(s).contains("tok/s")
    });
    tmux.keys(&["Escape"]);
    let screen = tmux.wait_for("the cancelled run", Duration::from_secs(10), |s| {
        status_line(s).contains("cancelled")
    });
    assert!(!status_line(&screen).contains("generating"));

    tmux.keys(&["C-q"]);
    studio.assert_exited_cleanly("EXIT=0");

    // Both runs were recorded: the first finished, the cancelled one interrupted with its text.
    let store = refrain::store::Store::open(&studio.history).unwrap();
    let first = store.get(1).unwrap().expect("run 1");
    assert_eq!(first.status, refrain::store::RunStatus::Finished);
    assert!(!first.output.is_empty());
    assert_eq!(first.run.user_prompt, "Write a short poem about the sea.");
    let second = store.get(2).unwrap().expect("run 2");
    assert_eq!(second.status, refrain::store::RunStatus::Interrupted);
    assert_eq!(second.run.sampler.max_tokens, 5000);
    assert!(first.sentiment.is_some());
}

#[test]
fn sigterm_and_sighup_restore_the_terminal() {
    for signal in [libc::SIGTERM, libc::SIGHUP] {
        let Some(studio) = Studio::start(&format!("--max-tokens {signal}")) else {
            return;
        };
        studio
            .tmux
            .wait_for("the ready studio", Duration::from_secs(60), |s| {
                status_line(s).contains("ready")
            });
        let pid: i32 = std::fs::read_to_string(&studio.pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // SAFETY: kill has no memory-safety preconditions; the pid is the studio's.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
        studio.assert_exited_cleanly("EXIT=0");
    }
}

#[test]
fn presets_fill_the_editor_and_the_model_picker_switches_models() {
    let Some(model) = common::model_path() else {
        return;
    };
    // A second model file (a copy: a link to the same file is listed once) in a configured dir.
    let extra = tempfile::tempdir().unwrap();
    std::fs::copy(&model, extra.path().join("twin-of-smollm.gguf")).unwrap();
    let config = extra.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[model]\ndirs = [{:?}]\n[sampler]\ntemperature = 0\nmax_tokens = 24\n",
            extra.path().display().to_string()
        ),
    )
    .unwrap();
    let Some(studio) = Studio::start(&format!("--config {}", config.display())) else {
        return;
    };
    let tmux = &studio.tmux;
    tmux.wait_for("the ready studio", Duration::from_secs(60), |s| {
        status_line(s).contains("ready")
    });

    // A prompt form: the editor fills, and typing replaces the selected first blank.
    tmux.keys(&["F7"]);
    tmux.wait_for("the preset picker", Duration::from_secs(10), |s| {
        s.contains("Presets") && s.contains("Prompt forms")
    });
    tmux.type_text("haiku");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the haiku template", Duration::from_secs(10), |s| {
        s.contains("Write a haiku about {subject}")
    });
    tmux.type_text("rain");
    tmux.wait_for("the first blank filled", Duration::from_secs(10), |s| {
        s.contains("Write a haiku about rain in {season}")
    });

    // The model picker lists the copy; choosing it loads it in the background.
    tmux.keys(&["F8"]);
    tmux.wait_for("the model picker", Duration::from_secs(30), |s| {
        s.contains("twin-of-smollm")
    });
    tmux.type_text("twin");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the new model loaded", Duration::from_secs(60), |s| {
        !s.contains("Models") && status_line(s).contains("ready")
    });
    tmux.keys(&["F8"]);
    let screen = tmux.wait_for("the picker again", Duration::from_secs(30), |s| {
        s.contains("twin-of-smollm") && s.contains("SmolLM2-135M-Instruct.Q4_1")
    });
    assert!(
        screen.contains("● twin-of-smollm"),
        "the copy is the loaded model:\n{screen}"
    );
    std::thread::sleep(Duration::from_millis(300));
    tmux.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));

    // It generates: send (the warning about {season} first, then as is).
    tmux.keys(&["C-s"]);
    tmux.wait_for("the blank warning", Duration::from_secs(10), |s| {
        s.contains("still blank: {season}")
    });
    tmux.keys(&["C-s"]);
    tmux.wait_for("a finished run", Duration::from_secs(60), |s| {
        let status = status_line(s);
        status.contains("tok/s")
            && (status.contains("max tokens") || status.contains("end of generation"))
    });
    tmux.keys(&["C-q"]);
    studio.assert_exited_cleanly("EXIT=0");
}
