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
    for r in records {
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
