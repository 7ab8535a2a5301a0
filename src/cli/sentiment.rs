//! `refrain sentiment` and `refrain eval sentiment`.

use std::io::Read;
use std::time::Instant;

use serde_json::json;

use super::{start_engine, EvalSentimentArgs, Failure, LoadArgs, SentimentArgs};
use crate::analysis::eval::{parse_label, Confusion, Metrics, CLASSES};
use crate::analysis::lines::{score_line, Leaning, LineScorer, LineSentiment};
use crate::engine::{EngineEvent, EngineHandle, ModelSentiment};

/// Texts per classify request, so progress shows on long evaluations.
const CLASSIFY_CHUNK: usize = 50;

pub fn sentiment(args: &SentimentArgs, load: &LoadArgs) -> Result<i32, Failure> {
    let text = read_input(args.input.as_deref())?;
    let mut scorer = LineScorer::default();
    scorer.push_str(&text);
    scorer.finish();
    let lines = scorer.lines();
    let model_scores = if args.method.uses_model() {
        let mut texts: Vec<String> = lines.iter().map(|l| l.text.clone()).collect();
        texts.push(text.clone());
        let mut results = classify_all(load, texts, false)?;
        let whole = results.pop();
        Some((results, whole))
    } else {
        None
    };
    let lexicon = args.method.uses_lexicon();
    let readout = scorer.readout();
    if args.json {
        let rows: Vec<_> = lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                json!({
                    "text": line.text,
                    "lexicon": if lexicon { line.sentiment.compound() } else { None },
                    "model": model_scores.as_ref().map(|(scores, _)| model_json(&scores[i])),
                })
            })
            .collect();
        let overall = json!({
            "lexicon": lexicon.then(|| json!({
                "mean": readout.mean,
                "label": readout.mean.map(|m| Leaning::of(m).label()),
                "positive_share": readout.share(Leaning::Positive),
                "neutral_share": readout.share(Leaning::Neutral),
                "negative_share": readout.share(Leaning::Negative),
                "not_applicable_lines": readout.not_applicable,
            })),
            "model": model_scores.as_ref().and_then(|(_, whole)| whole.as_ref()).map(model_json),
        });
        println!("{}", json!({"lines": rows, "overall": overall}));
        return Ok(0);
    }
    for (i, line) in lines.iter().enumerate() {
        let mut cells = Vec::new();
        if lexicon {
            cells.push(match line.sentiment {
                LineSentiment::Scored(c) => format!("{c:+.3} {:<8}", Leaning::of(c).label()),
                LineSentiment::NotApplicable => format!("{:<15}", "  n/a"),
            });
        }
        if let Some((scores, _)) = &model_scores {
            cells.push(format!(
                "model {:+.3} {:<8}",
                scores[i].score(),
                scores[i].label()
            ));
        }
        println!("{:>3}  {}  {}", i + 1, cells.join("  "), line.text);
    }
    if lexicon {
        match readout.mean {
            Some(mean) => println!(
                "lexicon: {mean:+.3} {} · lines {:.0}% positive, {:.0}% neutral, {:.0}% negative · {} n/a",
                Leaning::of(mean).label(),
                readout.share(Leaning::Positive) * 100.0,
                readout.share(Leaning::Neutral) * 100.0,
                readout.share(Leaning::Negative) * 100.0,
                readout.not_applicable
            ),
            None => println!("lexicon: n/a (no line the English lexicon can read)"),
        }
    }
    if let Some((_, Some(whole))) = &model_scores {
        println!(
            "model:   {:+.3} {} (P+ {:.2} · P= {:.2} · P- {:.2})",
            whole.score(),
            whole.label(),
            whole.positive,
            whole.neutral,
            whole.negative
        );
    }
    Ok(0)
}

fn model_json(score: &ModelSentiment) -> serde_json::Value {
    json!({
        "score": score.score(),
        "label": score.label(),
        "positive": score.positive,
        "neutral": score.neutral,
        "negative": score.negative,
    })
}

fn read_input(path: Option<&std::path::Path>) -> Result<String, Failure> {
    match path {
        Some(path) if path != std::path::Path::new("-") => {
            std::fs::read_to_string(path).map_err(|error| {
                Failure::bad_input(format!("cannot read {}: {error}", path.display()))
            })
        }
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|error| Failure::bad_input(format!("cannot read stdin: {error}")))?;
            Ok(text)
        }
    }
}

/// Loads the model and classifies `texts` in chunks; progress on stderr when asked.
fn classify_all(
    load: &LoadArgs,
    texts: Vec<String>,
    progress: bool,
) -> Result<Vec<ModelSentiment>, Failure> {
    let options = load.to_options().map_err(Failure::bad_input)?;
    let (engine, mut events, _) = start_engine(&options)?;
    let mut results = Vec::with_capacity(texts.len());
    let total = texts.len();
    for chunk in texts.chunks(CLASSIFY_CHUNK) {
        results.extend(classify_chunk(&engine, &mut events, chunk.to_vec())?);
        if progress {
            eprint!("\rclassified {}/{total}", results.len());
        }
    }
    if progress {
        eprintln!();
    }
    Ok(results)
}

fn classify_chunk(
    engine: &EngineHandle,
    events: &mut tokio::sync::mpsc::UnboundedReceiver<EngineEvent>,
    texts: Vec<String>,
) -> Result<Vec<ModelSentiment>, Failure> {
    let id = engine.classify(texts);
    while let Some(event) = events.blocking_recv() {
        match event {
            EngineEvent::Classified { id: got, results } if got == id => return Ok(results),
            EngineEvent::Failed { id: got, error } if got == id => return Err(error.into()),
            _ => {}
        }
    }
    Err(crate::engine::EngineError::WorkerGone.into())
}

/// Reads TSV (`text<TAB>label`) or JSONL (`{"text","label"}`) labelled data.
pub fn read_labelled(path: &std::path::Path) -> Result<Vec<(String, Leaning)>, Failure> {
    let content = std::fs::read_to_string(path)
        .map_err(|error| Failure::bad_input(format!("cannot read {}: {error}", path.display())))?;
    let mut rows = Vec::new();
    for (number, line) in content.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad =
            |why: &str| Failure::bad_input(format!("{}:{}: {why}", path.display(), number + 1));
        let (text, label) = if line.trim_start().starts_with('{') {
            let value: serde_json::Value =
                serde_json::from_str(line).map_err(|e| bad(&format!("invalid JSON: {e}")))?;
            let text = value["text"]
                .as_str()
                .ok_or_else(|| bad("no \"text\" string"))?
                .to_owned();
            let label = match &value["label"] {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => return Err(bad("no \"label\"")),
            };
            (text, label)
        } else {
            let (text, label) = line
                .rsplit_once('\t')
                .ok_or_else(|| bad("expected text<TAB>label"))?;
            (text.to_owned(), label.to_owned())
        };
        let label = parse_label(&label).ok_or_else(|| {
            bad(&format!(
                "unknown label '{label}' (use positive/negative/neutral or 1/0)"
            ))
        })?;
        rows.push((text, label));
    }
    if rows.is_empty() {
        return Err(Failure::bad_input(format!(
            "{} holds no labelled rows",
            path.display()
        )));
    }
    Ok(rows)
}

pub fn eval_sentiment(args: &EvalSentimentArgs, load: &LoadArgs) -> Result<i32, Failure> {
    let rows = read_labelled(&args.data)?;
    let mut reports = Vec::new();
    if args.method.uses_lexicon() {
        let started = Instant::now();
        let mut confusion = Confusion::default();
        for (text, truth) in &rows {
            let predicted = match score_line(text) {
                LineSentiment::Scored(c) => Leaning::of(c),
                LineSentiment::NotApplicable => Leaning::Neutral,
            };
            confusion.add(*truth, predicted);
        }
        reports.push((
            "lexicon",
            confusion.metrics(),
            rows.len() as f64 / started.elapsed().as_secs_f64(),
        ));
    }
    if args.method.uses_model() {
        let started = Instant::now();
        let texts = rows.iter().map(|(t, _)| t.clone()).collect();
        let scores = classify_all(load, texts, !args.json)?;
        let mut confusion = Confusion::default();
        for ((_, truth), score) in rows.iter().zip(&scores) {
            let predicted = match score.label() {
                "positive" => Leaning::Positive,
                "negative" => Leaning::Negative,
                _ => Leaning::Neutral,
            };
            confusion.add(*truth, predicted);
        }
        reports.push((
            "model",
            confusion.metrics(),
            rows.len() as f64 / started.elapsed().as_secs_f64(),
        ));
    }
    if args.json {
        let out: Vec<_> = reports
            .iter()
            .map(|(method, metrics, throughput)| json!({"method": method, "metrics": metrics, "items_per_second": throughput}))
            .collect();
        println!("{}", json!({"data": args.data, "results": out}));
    } else {
        for (method, metrics, throughput) in &reports {
            print_report(method, metrics, *throughput);
        }
    }
    Ok(0)
}

fn print_report(method: &str, m: &Metrics, throughput: f64) {
    println!("{method}: {} items · accuracy {:.3} · macro-F1 {:.3} · coverage {:.3} · {throughput:.0} items/s", m.total, m.accuracy, m.macro_f1, m.coverage);
    println!("  class     precision  recall  f1     support");
    for c in m
        .classes
        .iter()
        .filter(|c| c.support > 0 || c.precision > 0.0)
    {
        println!(
            "  {:<9} {:>9.3}  {:>6.3}  {:.3}  {:>7}",
            c.label, c.precision, c.recall, c.f1, c.support
        );
    }
    println!("  confusion (rows true, columns predicted: positive negative neutral)");
    for (i, class) in CLASSES.iter().enumerate() {
        let row = m.confusion.counts[i];
        if row.iter().sum::<usize>() > 0 {
            println!(
                "  {:<9} {:>8} {:>8} {:>8}",
                class.label(),
                row[0],
                row[1],
                row[2]
            );
        }
    }
}
