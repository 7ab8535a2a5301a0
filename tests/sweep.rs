//! Sweeps on the real model: shared prompt cache, batched decoding, per-variant samplers.

mod common;

use common::{chat, greedy, seeded, TestEngine};
use refrain::engine::StopReason;

const PROMPT: &str = "Write two lines about a lighthouse in winter.";

#[test]
fn identical_variants_give_identical_texts_equal_to_a_plain_run() {
    let Some(mut engine) = TestEngine::start(2048) else {
        return;
    };
    for params in [greedy(40), seeded(0.9, 7, 40)] {
        let plain = engine.generate(chat(PROMPT), params.clone());
        let plain = plain.finished().clone();
        let sweep = engine.sweep(
            chat(PROMPT),
            vec![params.clone(), params.clone()],
            |_, _, _, _| {},
        );
        sweep.summary.as_ref().expect("the sweep finished");
        let a = sweep.finished[0].as_ref().unwrap();
        let b = sweep.finished[1].as_ref().unwrap();
        assert_eq!(a.text, b.text, "same settings, same text");
        assert_eq!(
            a.text, plain.text,
            "a variant equals a plain run with its settings ({params:?})"
        );
        assert_eq!(a.stats.generated_tokens, plain.stats.generated_tokens);
        assert_eq!(
            sweep.streamed[0], a.text,
            "streamed pieces add up to the text"
        );
        assert_eq!(sweep.seeds, vec![a.seed, b.seed]);
    }
}

#[test]
fn different_temperatures_at_one_seed_differ() {
    let Some(mut engine) = TestEngine::start(2048) else {
        return;
    };
    let variants = vec![seeded(0.0, 3, 40), seeded(1.0, 3, 40), seeded(1.6, 3, 40)];
    let sweep = engine.sweep(chat(PROMPT), variants, |_, _, _, _| {});
    let summary = sweep.summary.expect("finished");
    let texts: Vec<&str> = sweep
        .finished
        .iter()
        .map(|f| f.as_ref().unwrap().text.as_str())
        .collect();
    assert_ne!(texts[0], texts[1]);
    assert_ne!(texts[0], texts[2]);
    assert_ne!(texts[1], texts[2]);
    let total: u32 = sweep
        .finished
        .iter()
        .map(|f| f.as_ref().unwrap().stats.generated_tokens)
        .sum();
    assert_eq!(summary.generated_tokens, total);
    assert!(summary.tokens_per_second > 0.0);
}

#[test]
fn cancelling_one_variant_leaves_the_others_running() {
    let Some(mut engine) = TestEngine::start(2048) else {
        return;
    };
    let variants = vec![greedy(60), seeded(0.8, 5, 60), seeded(0.8, 6, 60)];
    let mut cancelled = false;
    let sweep = engine.sweep(
        chat("Tell a long story about a fox."),
        variants,
        |handle, id, variant, generated| {
            if variant == 1 && generated == 3 && !cancelled {
                handle.cancel_variant(id, 1);
                cancelled = true;
            }
        },
    );
    sweep.summary.expect("the sweep finished");
    let one = sweep.finished[1].as_ref().unwrap();
    assert_eq!(one.stop_reason, StopReason::Cancelled);
    assert!(
        one.stats.generated_tokens <= 5,
        "stopped within a token or two"
    );
    for other in [0, 2] {
        let finished = sweep.finished[other].as_ref().unwrap();
        assert_ne!(finished.stop_reason, StopReason::Cancelled);
        assert!(
            finished.stats.generated_tokens > 10,
            "variant {other} went on"
        );
    }
    // Cancelling the whole sweep stops every variant.
    let sweep = engine.sweep(
        chat("Tell a long story about a fox."),
        vec![greedy(200), greedy(200)],
        |handle, id, _, generated| {
            if generated == 2 {
                handle.cancel(id);
            }
        },
    );
    sweep.summary.expect("the sweep finished");
    for finished in &sweep.finished {
        assert_eq!(
            finished.as_ref().unwrap().stop_reason,
            StopReason::Cancelled
        );
    }
}

#[test]
fn a_sweep_refuses_too_few_or_too_many_variants_and_a_run_works_after_it() {
    let Some(mut engine) = TestEngine::start(2048) else {
        return;
    };
    let sweep = engine.sweep(chat(PROMPT), vec![greedy(4)], |_, _, _, _| {});
    assert!(sweep.summary.is_err());
    let sweep = engine.sweep(chat(PROMPT), vec![greedy(4); 9], |_, _, _, _| {});
    assert!(sweep.summary.is_err());
    let sweep = engine.sweep(chat(PROMPT), vec![greedy(8); 8], |_, _, _, _| {});
    sweep.summary.expect("eight variants fit");
    // The context is cleared for the next plain run: it matches a fresh engine's.
    let after = engine
        .generate(chat(PROMPT), greedy(24))
        .finished()
        .text
        .clone();
    let Some(mut fresh) = TestEngine::start(2048) else {
        return;
    };
    assert_eq!(
        after,
        fresh.generate(chat(PROMPT), greedy(24)).finished().text
    );
}

mod cli {
    use std::process::Command;

    struct Sandbox(tempfile::TempDir);

    impl Sandbox {
        fn refrain(&self, model: &std::path::Path) -> Command {
            let mut command = super::common::refrain_in(self.0.path());
            command.arg("--model").arg(model);
            command
        }
    }

    fn lines(output: &std::process::Output) -> Vec<serde_json::Value> {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn sweep_json_history_show_and_side_by_side_export() {
        let Some(model) = super::common::model_path() else {
            return;
        };
        let sandbox = Sandbox(tempfile::tempdir().unwrap());
        let prompt = "Name three colours of the sea.";
        let output = sandbox
            .refrain(&model)
            .args([
                "sweep",
                "--temperature",
                "0,0",
                "--seeds",
                "9",
                "-n",
                "20",
                "--json",
                prompt,
            ])
            .output()
            .unwrap();
        let objects = lines(&output);
        assert_eq!(objects.len(), 3, "two variants and a summary");
        let (a, b, summary) = (&objects[0], &objects[1], &objects[2]);
        assert_eq!(a["type"], "variant");
        assert_eq!(a["varied"]["temperature"], 0.0);
        assert_eq!(a["seed"], 9);
        assert_eq!(a["text"], b["text"], "identical settings, identical text");
        assert!(a["metrics"]["distinct_1"].is_number());
        assert_eq!(
            a["metrics"]["overlap"][1], 1.0,
            "identical texts overlap fully"
        );
        assert_eq!(summary["type"], "summary");
        assert_eq!(summary["varied"], "temperature");
        assert_eq!(summary["self_bleu"], 1.0);

        // The same settings through a plain run give the same text.
        let output = sandbox
            .refrain(&model)
            .args([
                "run",
                "--temperature",
                "0",
                "--seed",
                "9",
                "-n",
                "20",
                "--json",
                prompt,
            ])
            .output()
            .unwrap();
        let run = lines(&output);
        assert_eq!(run.last().unwrap()["text"], a["text"]);

        // History: each variant is a run, linked by the sweep; show and export give all.
        let run_id = a["run_id"].as_i64().unwrap();
        let output = sandbox
            .refrain(&model)
            .args(["history", "show", &run_id.to_string(), "--json"])
            .output()
            .unwrap();
        let shown: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let sweep_id = summary["sweep_id"].as_i64().unwrap();
        assert_eq!(shown["sweep_id"], sweep_id);
        assert_eq!(shown["runs"].as_array().unwrap().len(), 2);
        assert_eq!(shown["runs"][1]["sweep"]["index"], 1);
        let output = sandbox
            .refrain(&model)
            .args(["history", "export", "--sweep", &sweep_id.to_string()])
            .output()
            .unwrap();
        let markdown = String::from_utf8_lossy(&output.stdout);
        assert!(
            markdown.contains(&format!("## Sweep {sweep_id}")),
            "{markdown}"
        );
        assert!(markdown.contains("| [1] t 0 (run"), "{markdown}");
        assert!(markdown.contains("| output |"), "{markdown}");
        let output = sandbox
            .refrain(&model)
            .args(["history", "list"])
            .output()
            .unwrap();
        let listing = String::from_utf8_lossy(&output.stdout);
        assert!(
            listing.contains(&format!("[sweep {sweep_id}]")),
            "{listing}"
        );
    }

    #[test]
    fn bad_sweeps_are_refused_with_reasons() {
        let Some(model) = super::common::model_path() else {
            return;
        };
        let sandbox = Sandbox(tempfile::tempdir().unwrap());
        for (args, expected) in [
            (
                &["sweep", "--temperature", "0.5", "hi"][..],
                "nothing to sweep",
            ),
            (
                &[
                    "sweep",
                    "--temperature",
                    "0.1,0.2,0.3",
                    "--seeds",
                    "1,2,3",
                    "hi",
                ][..],
                "9 variants",
            ),
            (
                &["sweep", "--top-p", "0.5,1.5", "hi"][..],
                "not a valid top_p",
            ),
        ] {
            let output = sandbox.refrain(&model).args(args).output().unwrap();
            assert_eq!(output.status.code(), Some(2), "{args:?}");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains(expected), "{args:?}: {stderr}");
        }
    }
}
