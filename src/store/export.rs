//! History export: Markdown for people, JSON and JSONL for tools.

use super::record::RunRecord;

pub fn to_json(records: &[RunRecord]) -> String {
    serde_json::to_string_pretty(records).unwrap_or_else(|_| "[]".into())
}

pub fn to_jsonl(records: &[RunRecord]) -> String {
    records
        .iter()
        .filter_map(|r| serde_json::to_string(r).ok())
        .map(|line| line + "\n")
        .collect()
}

pub fn from_json(text: &str) -> Result<Vec<RunRecord>, serde_json::Error> {
    serde_json::from_str(text)
}

/// A run's time as `YYYY-MM-DD HH:MM:SS` in local time.
pub fn local_time(ms: i64) -> String {
    use chrono::TimeZone;
    chrono::Local
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| ms.to_string())
}

fn fence(text: &str) -> String {
    // A fence longer than any backtick run inside, so any text survives.
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let ticks = "`".repeat(longest.max(2) + 1);
    format!("{ticks}text\n{text}\n{ticks}")
}

pub fn to_markdown(records: &[RunRecord]) -> String {
    let mut out = String::from("# refrain history\n");
    let mut sweeps_done: Vec<i64> = Vec::new();
    for r in records {
        // A sweep's variants go side by side, once, where its first variant comes.
        if let Some(sweep) = &r.sweep {
            if !sweeps_done.contains(&sweep.id) {
                sweeps_done.push(sweep.id);
                let mut variants: Vec<RunRecord> = records
                    .iter()
                    .filter(|other| other.sweep.as_ref().is_some_and(|s| s.id == sweep.id))
                    .cloned()
                    .collect();
                variants.sort_by_key(|v| v.sweep.as_ref().map(|s| s.index));
                out.push_str(&sweep_markdown(sweep.id, &sweep.varied, &variants));
            }
            continue;
        }
        let s = &r.run.sampler;
        out.push_str(&format!(
            "\n## Run {} — {}{}\n\n",
            r.id,
            local_time(r.started_at),
            if r.starred { " ★" } else { "" }
        ));
        let stats = r.stats.as_ref();
        let rows: Vec<(&str, String)> = vec![
            ("status", r.status.as_str().into()),
            (
                "stop reason",
                r.stop_reason
                    .map(|s| s.label().to_owned())
                    .unwrap_or_default(),
            ),
            (
                "model",
                format!(
                    "{} ({}, {} bytes)",
                    r.run.model_name, r.run.model_path, r.run.model_size
                ),
            ),
            ("model sha256", r.model_sha256.clone().unwrap_or_default()),
            ("engine", r.run.engine_version.clone()),
            (
                "template",
                r.run.template.clone().unwrap_or_else(|| {
                    if r.run.raw {
                        "raw".into()
                    } else {
                        "model's".into()
                    }
                }),
            ),
            ("temperature", s.temperature.to_string()),
            ("top-k", s.top_k.to_string()),
            ("top-p", s.top_p.to_string()),
            ("min-p", s.min_p.to_string()),
            (
                "repeat penalty",
                format!("{} (last {})", s.repeat_penalty, s.repeat_last_n),
            ),
            (
                "presence / frequency penalty",
                format!("{} / {}", s.presence_penalty, s.frequency_penalty),
            ),
            ("seed", s.seed.map(|v| v.to_string()).unwrap_or_default()),
            ("max tokens", s.max_tokens.to_string()),
            (
                "stop strings",
                s.stop
                    .iter()
                    .map(|x| format!("{x:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            (
                "tokens",
                stats
                    .map(|t| {
                        format!(
                            "{} prompt, {} generated",
                            t.prompt_tokens, t.generated_tokens
                        )
                    })
                    .unwrap_or_default(),
            ),
            (
                "time to first token",
                stats
                    .map(|t| format!("{:.0} ms", t.time_to_first_token.as_secs_f64() * 1000.0))
                    .unwrap_or_default(),
            ),
            (
                "tokens/s",
                stats
                    .map(|t| format!("{:.1}", t.tokens_per_second))
                    .unwrap_or_default(),
            ),
            (
                "sentiment",
                r.sentiment
                    .as_ref()
                    .and_then(|x| x.headline())
                    .map(|v| format!("{v:+.3}"))
                    .unwrap_or_default(),
            ),
            (
                "forked from",
                r.fork
                    .map(|f| format!("run {} at token {}", f.parent, f.index))
                    .unwrap_or_default(),
            ),
            ("note", r.note.clone()),
        ];
        out.push_str("| field | value |\n| --- | --- |\n");
        for (field, value) in rows {
            out.push_str(&format!(
                "| {field} | {} |\n",
                value.replace('|', "\\|").replace('\n', " ")
            ));
        }
        if let Some(system) = &r.run.system_prompt {
            out.push_str(&format!("\n### System prompt\n\n{}\n", fence(system)));
        }
        out.push_str(&format!("\n### Prompt\n\n{}\n", fence(&r.run.user_prompt)));
        out.push_str(&format!("\n### Output\n\n{}\n", fence(&r.output)));
    }
    out
}

/// One row of the side-by-side table: a variant's (index, run) → its cell.
type RowValue<'a> = dyn Fn(usize, &RunRecord) -> String + 'a;

/// A sweep's variants side by side: one column per variant, rows of parameters, results and
/// outputs, then the prompt once and the diversity across the outputs.
pub fn sweep_markdown(sweep_id: i64, varied: &str, runs: &[RunRecord]) -> String {
    use crate::engine::sweep_plan::SweepParam;
    let params: Vec<SweepParam> = varied.split(" × ").filter_map(SweepParam::parse).collect();
    let cell = |text: String| text.replace('|', "\\|").replace('\n', "<br>");
    let label = |r: &RunRecord| -> String {
        let s = &r.run.sampler;
        params
            .iter()
            .map(|p| {
                let value = match p {
                    SweepParam::Temperature => f64::from(s.temperature),
                    SweepParam::Seed => f64::from(s.seed.unwrap_or(0)),
                    SweepParam::TopP => f64::from(s.top_p),
                    SweepParam::MinP => f64::from(s.min_p),
                    SweepParam::TopK => f64::from(s.top_k),
                };
                format!("{} {}", p.short(), p.format(value))
            })
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let started = runs
        .first()
        .map(|r| local_time(r.started_at))
        .unwrap_or_default();
    let mut out = format!(
        "\n## Sweep {sweep_id} — {started} — {} variants over {varied}\n\n",
        runs.len()
    );
    out.push_str("| |");
    for (index, r) in runs.iter().enumerate() {
        out.push_str(&format!(
            " [{}] {} (run {}) |",
            index + 1,
            cell(label(r)),
            r.id
        ));
    }
    out.push_str("\n| --- |");
    out.push_str(&" --- |".repeat(runs.len()));
    out.push('\n');
    let texts: Vec<&str> = runs.iter().map(|r| r.output.as_str()).collect();
    let metrics = crate::analysis::diversity::diversity(&texts);
    let number = |v: Option<f64>| v.map_or_else(String::new, |v| format!("{v:.2}"));
    let rows: Vec<(&str, Box<RowValue>)> = vec![
        (
            "temperature",
            Box::new(|_, r| r.run.sampler.temperature.to_string()),
        ),
        (
            "top-k / top-p / min-p",
            Box::new(|_, r| {
                let s = &r.run.sampler;
                format!("{} / {} / {}", s.top_k, s.top_p, s.min_p)
            }),
        ),
        (
            "seed",
            Box::new(|_, r| {
                r.run
                    .sampler
                    .seed
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            }),
        ),
        ("status", Box::new(|_, r| r.status.as_str().to_owned())),
        (
            "stop reason",
            Box::new(|_, r| {
                r.stop_reason
                    .map(|s| s.label().to_owned())
                    .unwrap_or_default()
            }),
        ),
        (
            "tokens",
            Box::new(|_, r| {
                r.stats
                    .as_ref()
                    .map(|t| t.generated_tokens.to_string())
                    .unwrap_or_default()
            }),
        ),
        (
            "tokens/s",
            Box::new(|_, r| {
                r.stats
                    .as_ref()
                    .map(|t| format!("{:.1}", t.tokens_per_second))
                    .unwrap_or_default()
            }),
        ),
        (
            "sentiment",
            Box::new(|_, r| {
                r.sentiment
                    .as_ref()
                    .and_then(|x| x.headline())
                    .map(|v| format!("{v:+.3}"))
                    .unwrap_or_default()
            }),
        ),
        (
            "distinct-1 / distinct-2",
            Box::new(|i, _| {
                format!(
                    "{} / {}",
                    number(metrics.distinct_1.get(i).copied().flatten()),
                    number(metrics.distinct_2.get(i).copied().flatten())
                )
            }),
        ),
        ("output", Box::new(|_, r| r.output.clone())),
    ];
    for (name, value) in &rows {
        out.push_str(&format!("| {name} |"));
        for (index, r) in runs.iter().enumerate() {
            out.push_str(&format!(" {} |", cell(value(index, r))));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "\nDiversity: mean shared 4-gram ratio {}, self-BLEU {} (lower is more diverse).\n",
        number(metrics.mean_overlap),
        number(metrics.self_bleu)
    ));
    if let Some(first) = runs.first() {
        out.push_str(&format!(
            "\nModel: {} · engine: {}\n",
            first.run.model_name, first.run.engine_version
        ));
        if let Some(system) = &first.run.system_prompt {
            out.push_str(&format!("\n### System prompt\n\n{}\n", fence(system)));
        }
        out.push_str(&format!(
            "\n### Prompt\n\n{}\n",
            fence(&first.run.user_prompt)
        ));
    }
    out
}
