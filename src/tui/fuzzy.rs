//! Fuzzy matching for the pickers: the query's characters must appear in order; matches at word
//! starts and in runs score higher, so "smq4" finds "SmolLM2 … Q4_1" and "tk" finds "tanka".

/// The match score of `query` against `text` (higher is better), or `None` if it does not
/// match. Case-insensitive; spaces in the query are ignored.
pub fn score(query: &str, text: &str) -> Option<i64> {
    let needle: Vec<char> = query
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    if needle.is_empty() {
        return Some(0);
    }
    let haystack: Vec<char> = text.chars().collect();
    let lower: Vec<char> = haystack
        .iter()
        .map(|c| c.to_lowercase().next().unwrap_or(*c))
        .collect();
    let n = haystack.len();
    let word_start = |j: usize| {
        j == 0 || !haystack[j - 1].is_alphanumeric() || {
            // camelCase and letter/digit boundaries count as word starts too.
            let (before, here) = (haystack[j - 1], haystack[j]);
            (before.is_lowercase() && here.is_uppercase())
                || (before.is_alphabetic() != here.is_alphabetic())
        }
    };
    let bonus = |j: usize| 1 + if word_start(j) { 8 } else { 0 };
    // best[j]: the best score with the current query character at position j (the best
    // alignment, not the leftmost: "q4" should find the "Q4" of "…-Q4_K_M", not its first q).
    const NONE: i64 = i64::MIN / 2;
    let mut best: Vec<i64> = (0..n)
        .map(|j| {
            if lower[j] == needle[0] {
                bonus(j) - j.min(10) as i64
            } else {
                NONE
            }
        })
        .collect();
    for &wanted in &needle[1..] {
        let mut next = vec![NONE; n];
        for j in 1..n {
            if lower[j] != wanted {
                continue;
            }
            let run = best[j - 1].saturating_add(6);
            let gapped = (0..j - 1)
                .map(|k| best[k].saturating_sub((j - k - 1).min(10) as i64))
                .max()
                .unwrap_or(NONE);
            let previous = run.max(gapped);
            if previous > NONE / 2 {
                next[j] = previous + bonus(j);
            }
        }
        best = next;
    }
    let score = best.into_iter().max().filter(|&s| s > NONE / 2)?;
    // Shorter texts win ties: the match covers more of them.
    Some(score * 100 - n as i64)
}

/// Indices of `texts` that match `query`, best first (stable for equal scores).
pub fn rank<'a>(query: &str, texts: impl IntoIterator<Item = &'a str>) -> Vec<usize> {
    let mut scored: Vec<(usize, i64)> = texts
        .into_iter()
        .enumerate()
        .filter_map(|(i, text)| score(query, text).map(|s| (i, s)))
        .collect();
    if !query.trim().is_empty() {
        scored.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    }
    scored.into_iter().map(|(i, _)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsequence_in_order_or_nothing() {
        assert!(score("hku", "haiku").is_some());
        assert!(score("ukh", "haiku").is_none());
        assert!(score("", "anything").is_some());
        assert!(score("HAI", "haiku").is_some(), "case-insensitive");
        assert!(score("七言", "qiyan-jueju 七言绝句").is_some());
    }

    #[test]
    fn word_starts_and_runs_rank_first() {
        let names = ["short-story", "song-lyrics", "sentiment-rewrite", "sijo"];
        assert_eq!(rank("sl", names)[0], 1, "s…l at word starts: song-lyrics");
        assert_eq!(rank("sto", names)[0], 0);
        let models = [
            "Qwen2.5-7B-Instruct-Q4_K_M",
            "SmolLM2-135M-Instruct.Q4_1",
            "llama-3.2-1b-q8_0",
        ];
        assert_eq!(rank("smq4", models), vec![1]);
        assert_eq!(rank("q4", models)[..2], [0, 1]);
    }

    #[test]
    fn empty_query_keeps_order() {
        assert_eq!(rank("", ["b", "a", "c"]), vec![0, 1, 2]);
    }
}
