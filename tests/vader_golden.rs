//! The VADER port against the reference Python implementation on all 3,000 sentences of the
//! UCI Sentiment Labelled Sentences set (golden file made by `scripts/vader-golden`).

use refrain::analysis::vader::vader;

#[test]
fn compound_scores_match_the_reference_to_four_decimals() {
    let golden = include_str!("fixtures/vader_golden.jsonl");
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for line in golden.lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let text = row["text"].as_str().unwrap();
        let expected = row["compound"].as_f64().unwrap();
        let scores = vader().polarity_scores(text);
        if format!("{:.4}", scores.compound) != format!("{expected:.4}") {
            mismatches.push(format!(
                "{text:?}: ours {:.4}, reference {expected:.4}",
                scores.compound
            ));
        }
        for (ours, key) in [
            (scores.positive, "pos"),
            (scores.neutral, "neu"),
            (scores.negative, "neg"),
        ] {
            let reference = row[key].as_f64().unwrap();
            assert!(
                (ours - reference).abs() <= 0.0005 + 1e-9,
                "{text:?} {key}: {ours} vs {reference}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 3000);
    assert!(
        mismatches.is_empty(),
        "{} of 3000 differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
