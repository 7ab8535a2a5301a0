//! How different a sweep's outputs are: one prompt run with several sampler settings gives
//! several texts, and these metrics say whether the settings changed more than the surface.
//! distinct-n per text (lexical variety inside it), pairwise shared n-gram ratio (how much two
//! texts reuse the same phrases) and Self-BLEU (how much each text is echoed by the others).
//! Pure logic, no I/O.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use unicode_segmentation::UnicodeSegmentation;

/// The n-gram order of the pairwise overlap matrix: 4-grams are phrases, not shared stop words.
const OVERLAP_N: usize = 4;

/// BLEU-4: n-gram orders 1..=4 with uniform weights.
const BLEU_MAX_N: usize = 4;

/// The numerator NLTK's `SmoothingFunction().method1` puts in place of a zero count.
const SMOOTHING_EPSILON: f64 = 0.1;

/// Words for n-gram metrics: Unicode word segmentation (UAX #29), lowercased so that
/// "The" and "the" count as one word. UAX #29 already splits Han ideographs and hiragana one per
/// character but keeps a katakana run together, so any word made only of Han, hiragana or
/// katakana is split into its characters (grapheme clusters, so a combining voiced mark stays
/// with its kana): Chinese and Japanese text then gets meaningful n-grams.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in text.unicode_words() {
        if word.graphemes(true).all(is_cjk_grapheme) {
            out.extend(word.graphemes(true).map(str::to_lowercase));
        } else {
            out.push(word.to_lowercase());
        }
    }
    out
}

/// A grapheme whose base character is a Han ideograph or a kana; the rest of the cluster is
/// combining marks or variation selectors, which belong with it.
fn is_cjk_grapheme(grapheme: &str) -> bool {
    grapheme.chars().next().is_some_and(is_cjk_char)
}

/// Han (CJK radicals, unified ideographs and their extensions, compatibility ideographs,
/// ideographic iteration and number marks), hiragana and katakana (with the half-width forms
/// and the kana supplements).
fn is_cjk_char(c: char) -> bool {
    matches!(
        c,
        '\u{2E80}'..='\u{2FDF}'
            | '\u{3005}'
            | '\u{3007}'
            | '\u{3021}'..='\u{3029}'
            | '\u{3038}'..='\u{303B}'
            | '\u{3040}'..='\u{30FF}'
            | '\u{31F0}'..='\u{31FF}'
            | '\u{32D0}'..='\u{32FE}'
            | '\u{3300}'..='\u{3357}'
            | '\u{3400}'..='\u{4DBF}'
            | '\u{4E00}'..='\u{9FFF}'
            | '\u{F900}'..='\u{FAFF}'
            | '\u{FF66}'..='\u{FF9F}'
            | '\u{1B000}'..='\u{1B16F}'
            | '\u{20000}'..='\u{3FFFF}'
    )
}

/// How often each n-gram occurs; empty when n is 0 or there are fewer than n words.
fn ngram_counts(words: &[String], n: usize) -> HashMap<&[String], usize> {
    let mut counts = HashMap::new();
    if n == 0 {
        return counts;
    }
    for gram in words.windows(n) {
        *counts.entry(gram).or_insert(0) += 1;
    }
    counts
}

/// distinct-n (Li et al. 2016): unique n-grams / total n-grams of the text's words; 1.0 means
/// no phrase of n words repeats. None when the text has fewer than n words (or n is 0): there is
/// nothing to count, which is not the same as no variety.
pub fn distinct_n(text: &str, n: usize) -> Option<f64> {
    let words = words(text);
    if n == 0 || words.len() < n {
        return None;
    }
    let total = words.len() - n + 1;
    let unique = ngram_counts(&words, n).len();
    Some(unique as f64 / total as f64)
}

/// Shared n-gram ratio of two texts: |A ∩ B| / |A ∪ B| over their sets of word n-grams
/// (Jaccard), so 1.0 is the same phrases and 0.0 none in common. None when neither text has an
/// n-gram (nothing to compare); 0.0 when only one has, since nothing of it is shared.
pub fn shared_ngram_ratio(a: &str, b: &str, n: usize) -> Option<f64> {
    let (words_a, words_b) = (words(a), words(b));
    let set_a: HashSet<&[String]> = ngram_counts(&words_a, n).into_keys().collect();
    let set_b: HashSet<&[String]> = ngram_counts(&words_b, n).into_keys().collect();
    let union = set_a.union(&set_b).count();
    if union == 0 {
        return None;
    }
    let shared = set_a.intersection(&set_b).count();
    Some(shared as f64 / union as f64)
}

/// The reference length closest to the hypothesis length, the shorter one on a tie (as NLTK's
/// `closest_ref_length` does).
fn closest_ref_len(hyp_len: usize, ref_lens: &[usize]) -> usize {
    ref_lens
        .iter()
        .copied()
        .min_by_key(|&r| (r.abs_diff(hyp_len), r))
        .unwrap_or(0)
}

/// Sentence BLEU-4 of a non-empty hypothesis against references, as NLTK's `sentence_bleu` with
/// `SmoothingFunction().method1`: clipped n-gram precisions (a hypothesis n-gram counts at most
/// as often as it occurs in any one reference), a zero count for n > 1 replaced by
/// 0.1 / denominator (the denominator at least 1, so a hypothesis shorter than n words still gets
/// a precision), uniform weights, geometric mean, brevity penalty against the closest reference
/// length. No unigram match at all gives 0, as in NLTK: nothing was echoed.
fn sentence_bleu(hypothesis: &[String], references: &[&[String]]) -> f64 {
    let mut log_sum = 0.0;
    for n in 1..=BLEU_MAX_N {
        let hyp_counts = ngram_counts(hypothesis, n);
        let mut max_ref_counts: HashMap<&[String], usize> = HashMap::new();
        for reference in references {
            for (gram, count) in ngram_counts(reference, n) {
                let slot = max_ref_counts.entry(gram).or_insert(0);
                *slot = (*slot).max(count);
            }
        }
        let clipped: usize = hyp_counts
            .iter()
            .map(|(gram, &count)| count.min(max_ref_counts.get(gram).copied().unwrap_or(0)))
            .sum();
        let denominator = hyp_counts.values().sum::<usize>().max(1) as f64;
        let precision = if clipped > 0 {
            clipped as f64 / denominator
        } else if n == 1 {
            return 0.0;
        } else {
            SMOOTHING_EPSILON / denominator
        };
        log_sum += precision.ln() / BLEU_MAX_N as f64;
    }
    let hyp_len = hypothesis.len();
    let ref_lens: Vec<usize> = references.iter().map(|r| r.len()).collect();
    let ref_len = closest_ref_len(hyp_len, &ref_lens);
    let brevity_penalty = if hyp_len > ref_len {
        1.0
    } else {
        (1.0 - ref_len as f64 / hyp_len as f64).exp()
    };
    brevity_penalty * log_sum.exp()
}

/// Self-BLEU (Zhu et al. 2018, Texygen): each text's BLEU-4 against all the others as
/// references, then the mean over texts; high means the texts echo each other. Texts with no
/// words are left out (they have nothing to score and would be no reference); None for fewer
/// than 2 non-empty texts, since a text needs another to be compared with.
pub fn self_bleu(texts: &[&str]) -> Option<f64> {
    let tokenized: Vec<Vec<String>> = texts
        .iter()
        .map(|t| words(t))
        .filter(|w| !w.is_empty())
        .collect();
    if tokenized.len() < 2 {
        return None;
    }
    let total: f64 = (0..tokenized.len())
        .map(|i| {
            let references: Vec<&[String]> = tokenized
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, w)| w.as_slice())
                .collect();
            sentence_bleu(&tokenized[i], &references)
        })
        .sum();
    Some(total / tokenized.len() as f64)
}

/// Everything the sweep view and `refrain sweep` show, one entry per text in input order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diversity {
    /// distinct-1 of each text (None when it has no word).
    pub distinct_1: Vec<Option<f64>>,
    /// distinct-2 of each text (None when it has fewer than 2 words).
    pub distinct_2: Vec<Option<f64>>,
    /// Pairwise shared 4-gram ratio, a symmetric matrix with None on the diagonal (a text
    /// against itself says nothing) and where neither text has a 4-gram.
    pub overlap: Vec<Vec<Option<f64>>>,
    /// The mean of the defined pairs of `overlap`, each pair counted once; None when no pair is.
    pub mean_overlap: Option<f64>,
    /// Self-BLEU of the texts; None for fewer than 2 non-empty texts.
    pub self_bleu: Option<f64>,
}

/// All the metrics of a sweep's texts.
pub fn diversity(texts: &[&str]) -> Diversity {
    let count = texts.len();
    let mut overlap = vec![vec![None; count]; count];
    let mut defined = Vec::new();
    for i in 0..count {
        for j in (i + 1)..count {
            let ratio = shared_ngram_ratio(texts[i], texts[j], OVERLAP_N);
            overlap[i][j] = ratio;
            overlap[j][i] = ratio;
            defined.extend(ratio);
        }
    }
    let mean_overlap =
        (!defined.is_empty()).then(|| defined.iter().sum::<f64>() / defined.len() as f64);
    Diversity {
        distinct_1: texts.iter().map(|t| distinct_n(t, 1)).collect(),
        distinct_2: texts.iter().map(|t| distinct_n(t, 2)).collect(),
        overlap,
        mean_overlap,
        self_bleu: self_bleu(texts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOLERANCE: f64 = 1e-9;

    fn close(actual: Option<f64>, expected: f64) {
        let actual = actual.expect("a value");
        assert!(
            (actual - expected).abs() < TOLERANCE,
            "got {actual}, expected {expected}"
        );
    }

    #[test]
    fn words_are_uax29_words_lowercased() {
        // Punctuation and spaces go; the apostrophe inside "Don't" stays (UAX #29 rule WB6/7).
        assert_eq!(
            words("Don't PANIC, the Cat sat!"),
            ["don't", "panic", "the", "cat", "sat"]
        );
        assert!(words("").is_empty());
        assert!(words("  ... !!! ").is_empty());
    }

    #[test]
    fn chinese_comes_out_one_word_per_character() {
        // 床 前 明 月 光 疑 是 地 上 霜: ten ideographs, ten words.
        let got = words("床前明月光疑是地上霜");
        assert_eq!(
            got,
            ["床", "前", "明", "月", "光", "疑", "是", "地", "上", "霜"]
        );
        // All ten differ → distinct-1 = 10/10; 9 bigrams, all different → distinct-2 = 9/9.
        close(distinct_n("床前明月光疑是地上霜", 1), 1.0);
        close(distinct_n("床前明月光疑是地上霜", 2), 1.0);
    }

    #[test]
    fn uax29_keeps_katakana_together_so_it_is_split() {
        // Raw UAX #29 already breaks between ideographs and between hiragana (WB999) ...
        assert_eq!("床前明月".unicode_words().count(), 4);
        assert_eq!("ひらがな".unicode_words().count(), 4);
        // ... but joins a katakana run (rule WB13) ...
        assert_eq!("カタカナ".unicode_words().collect::<Vec<_>>(), ["カタカナ"]);
        // ... which `words` splits: 私 は コ ー ヒ ー が 好 き = 9 words.
        assert_eq!(
            words("私はコーヒーが好き"),
            ["私", "は", "コ", "ー", "ヒ", "ー", "が", "好", "き"]
        );
        // A decomposed が (か + U+3099 combining voiced mark) stays one word.
        assert_eq!(words("か\u{3099}き"), ["か\u{3099}", "き"]);
        // Latin next to CJK stays whole: 東 | 京 | 2020 | tokyo.
        assert_eq!(words("東京2020 Tokyo"), ["東", "京", "2020", "tokyo"]);
    }

    #[test]
    fn distinct_n_of_a_sentence() {
        // "the cat sat on the mat": 6 words, unigrams {the×2, cat, sat, on, mat} → 5/6.
        close(distinct_n("the cat sat on the mat", 1), 5.0 / 6.0);
        // bigrams: the cat, cat sat, sat on, on the, the mat — all distinct → 5/5.
        close(distinct_n("the cat sat on the mat", 2), 1.0);
    }

    #[test]
    fn distinct_n_ignores_case() {
        // "The CAT the cat" → [the, cat, the, cat]: 2 unique / 4 unigrams = 0.5;
        // bigrams (the cat), (cat the), (the cat): 2 unique / 3.
        close(distinct_n("The CAT the cat", 1), 0.5);
        close(distinct_n("The CAT the cat", 2), 2.0 / 3.0);
    }

    #[test]
    fn distinct_n_of_a_text_shorter_than_n_is_none() {
        // 2 words have no trigram.
        assert_eq!(distinct_n("hello world", 3), None);
        assert_eq!(distinct_n("", 1), None);
        assert_eq!(distinct_n("hello world", 0), None);
        // Exactly n words: one n-gram, unique → 1/1.
        close(distinct_n("hello world", 2), 1.0);
    }

    #[test]
    fn shared_ngram_ratio_is_jaccard_of_ngram_sets() {
        // 4-grams: A = {one two three four, two three four five},
        //          B = {one two three four, two three four six};
        // ∩ = 1, ∪ = 3 → 1/3.
        close(
            shared_ngram_ratio("one two three four five", "one two three four six", 4),
            1.0 / 3.0,
        );
        // Case does not matter: same 4-gram set → 1.0.
        close(
            shared_ngram_ratio("One Two Three Four", "one two THREE four", 4),
            1.0,
        );
    }

    #[test]
    fn shared_ngram_ratio_without_ngrams() {
        // Neither has a 4-gram → None; only one has → 0/1 = 0.
        assert_eq!(shared_ngram_ratio("a b c", "d e f", 4), None);
        close(shared_ngram_ratio("a b c d", "d e f", 4), 0.0);
        close(shared_ngram_ratio("", "a b c d", 4), 0.0);
    }

    #[test]
    fn closest_reference_length_prefers_the_shorter_on_a_tie() {
        // hyp 4, refs 3 and 5 are both 1 away → 3.
        assert_eq!(closest_ref_len(4, &[5, 3]), 3);
        assert_eq!(closest_ref_len(4, &[7, 5, 2]), 5);
    }

    #[test]
    fn identical_texts_overlap_fully_and_have_self_bleu_one() {
        // Each text's reference is itself: every precision 1, lengths equal → BP 1 → BLEU 1.
        let text = "the cat sat on the mat";
        let d = diversity(&[text, text]);
        assert_eq!(
            d.overlap,
            vec![vec![None, Some(1.0)], vec![Some(1.0), None]]
        );
        close(d.mean_overlap, 1.0);
        close(d.self_bleu, 1.0);
        close(self_bleu(&[text, text, text]), 1.0);
    }

    #[test]
    fn reordered_texts_share_no_4gram_and_get_a_small_smoothed_self_bleu() {
        // A = red green blue gold, B = gold blue green red: same words, no shared bigram.
        // 4-grams differ → overlap 0/2 = 0.
        // BLEU(A | B): p1 = 4/4 = 1; p2: 0 of 3 bigrams → 0.1/3; p3: 0 of 2 → 0.1/2;
        // p4: 0 of 1 → 0.1/1; lengths 4 and 4 → BP 1.
        // BLEU = (1 · 0.1/3 · 0.1/2 · 0.1)^(1/4) = (0.001/6)^(1/4) = (1/6000)^(1/4)
        //      = sqrt(sqrt(1.6667e-4)) = sqrt(0.0129099) ≈ 0.1136219.
        // BLEU(B | A) is the same by symmetry → Self-BLEU ≈ 0.1136219.
        let texts = ["red green blue gold", "gold blue green red"];
        close(shared_ngram_ratio(texts[0], texts[1], 4), 0.0);
        let expected = (1.0f64 / 6000.0).powf(0.25);
        assert!((expected - 0.1136219).abs() < 1e-7);
        close(self_bleu(&texts), expected);
        let d = diversity(&texts);
        close(d.mean_overlap, 0.0);
        close(d.self_bleu, expected);
    }

    #[test]
    fn texts_with_no_word_in_common_have_self_bleu_zero() {
        // No unigram matches → BLEU 0 for each text (as NLTK); overlap 0.
        let texts = ["red green blue gold", "one two three four"];
        close(self_bleu(&texts), 0.0);
        close(shared_ngram_ratio(texts[0], texts[1], 4), 0.0);
    }

    #[test]
    fn self_bleu_clips_counts_and_applies_the_brevity_penalty() {
        // T1 = the cat sat on the mat (6 words), T2 = the cat sat (3 words).
        // BLEU(T1 | T2): unigrams: the ×2 clipped to 1, cat 1, sat 1, on 0, mat 0 → 3/6;
        //   bigrams: the cat ✓, cat sat ✓, sat on, on the, the mat → 2/5;
        //   trigrams: the cat sat ✓ of 4 → 1/4; 4-grams: 0 of 3 → 0.1/3;
        //   c = 6 > r = 3 → BP 1.
        //   BLEU = (0.5 · 0.4 · 0.25 · 0.1/3)^(1/4) = (1/600)^(1/4) ≈ 0.2020516.
        // BLEU(T2 | T1): p1 = 3/3, p2 = 2/2, p3 = 1/1; no 4-gram: denominator max(1, 0) = 1,
        //   count 0 → 0.1/1; c = 3, r = 6 → BP = exp(1 − 6/3) = e^−1.
        //   BLEU = e^−1 · 0.1^(1/4) ≈ 0.3678794 · 0.5623413 ≈ 0.2068738.
        // Self-BLEU = (0.2020516 + 0.2068738) / 2 ≈ 0.2044627.
        let expected = ((1.0f64 / 600.0).powf(0.25) + (-1.0f64).exp() * 0.1f64.powf(0.25)) / 2.0;
        assert!((expected - 0.2044627).abs() < 1e-6);
        close(
            self_bleu(&["the cat sat on the mat", "the cat sat"]),
            expected,
        );
    }

    #[test]
    fn self_bleu_of_three_texts() {
        // T1 = the cat sat down, T2 = the cat sat up, T3 = a dog sat down; all 4 words → BP 1.
        // BLEU(T1 | T2, T3): unigrams the, cat (T2), sat, down (T3) → 4/4;
        //   bigrams the cat, cat sat (T2), sat down (T3) → 3/3;
        //   trigrams the cat sat (T2) ✓, cat sat down ✗ → 1/2; 4-gram ✗ → 0.1/1.
        //   BLEU1 = (1 · 1 · 0.5 · 0.1)^(1/4) = 0.05^(1/4) ≈ 0.4728708.
        // BLEU(T2 | T1, T3): unigrams the, cat, sat ✓, up ✗ → 3/4;
        //   bigrams the cat, cat sat ✓, sat up ✗ → 2/3; trigrams the cat sat ✓, cat sat up ✗
        //   → 1/2; 4-gram ✗ → 0.1/1.
        //   BLEU2 = (0.75 · 2/3 · 0.5 · 0.1)^(1/4) = 0.025^(1/4) ≈ 0.3976354.
        // BLEU(T3 | T1, T2): unigrams a ✗, dog ✗, sat ✓, down ✓ (T1) → 2/4;
        //   bigrams a dog ✗, dog sat ✗, sat down ✓ → 1/3; trigrams 0 of 2 → 0.1/2;
        //   4-gram ✗ → 0.1/1.
        //   BLEU3 = (0.5 · 1/3 · 0.05 · 0.1)^(1/4) = (1/1200)^(1/4) ≈ 0.1699044.
        // Self-BLEU = (0.4728708 + 0.3976354 + 0.1699044) / 3 = 1.0404106 / 3 ≈ 0.3468035.
        let expected =
            (0.05f64.powf(0.25) + 0.025f64.powf(0.25) + (1.0f64 / 1200.0).powf(0.25)) / 3.0;
        assert!((expected - 0.3468035).abs() < 1e-6);
        close(
            self_bleu(&["the cat sat down", "the cat sat up", "a dog sat down"]),
            expected,
        );
    }

    #[test]
    fn self_bleu_needs_two_non_empty_texts() {
        assert_eq!(self_bleu(&[]), None);
        assert_eq!(self_bleu(&["the cat sat"]), None);
        assert_eq!(self_bleu(&["the cat sat", "", " !? "]), None);
        // Empty texts are left out, so the two identical ones still give 1.0.
        close(self_bleu(&["a b c d", "", "a b c d"]), 1.0);
    }

    #[test]
    fn diversity_of_a_mixed_sweep() {
        let texts = [
            "one two three four five",
            "one two three four six",
            "seven eight",
            "",
        ];
        let d = diversity(&texts);
        // Every word of each text is different: distinct-1 and distinct-2 are 1.0; the empty
        // text has neither.
        assert_eq!(d.distinct_1, [Some(1.0), Some(1.0), Some(1.0), None]);
        assert_eq!(d.distinct_2, [Some(1.0), Some(1.0), Some(1.0), None]);
        // (0,1): 1 shared 4-gram of 3 → 1/3; (0,2), (0,3), (1,2), (1,3): only one side has a
        // 4-gram → 0; (2,3): neither has one → None.
        let third = Some(1.0 / 3.0);
        assert_eq!(
            d.overlap,
            vec![
                vec![None, third, Some(0.0), Some(0.0)],
                vec![third, None, Some(0.0), Some(0.0)],
                vec![Some(0.0), Some(0.0), None, None],
                vec![Some(0.0), Some(0.0), None, None],
            ]
        );
        // Five defined pairs: (1/3 + 0 + 0 + 0 + 0) / 5 = 1/15.
        close(d.mean_overlap, 1.0 / 15.0);
        // Self-BLEU over the three non-empty texts:
        // BLEU(T0 | T1, T2): p1 one two three four ✓ five ✗ → 4/5; p2 3/4; p3 2/3; p4 1/2;
        //   c = 5, closest r = 5 → BP 1; (0.8 · 0.75 · 2/3 · 0.5)^(1/4) = 0.2^(1/4) ≈ 0.6687403.
        // BLEU(T1 | T0, T2): the same by symmetry ≈ 0.6687403.
        // BLEU(T2 | T0, T1): seven, eight match nothing → 0.
        // Self-BLEU = 2 · 0.2^(1/4) / 3 ≈ 0.4458269.
        let expected = 2.0 * 0.2f64.powf(0.25) / 3.0;
        assert!((expected - 0.4458269).abs() < 1e-6);
        close(d.self_bleu, expected);
    }

    #[test]
    fn diversity_of_nothing() {
        let d = diversity(&[]);
        assert!(d.distinct_1.is_empty() && d.distinct_2.is_empty() && d.overlap.is_empty());
        assert_eq!(d.mean_overlap, None);
        assert_eq!(d.self_bleu, None);
        // One text: a 1×1 matrix holding only the diagonal.
        let d = diversity(&["just one text here"]);
        assert_eq!(d.overlap, vec![vec![None]]);
        assert_eq!(d.mean_overlap, None);
        assert_eq!(d.self_bleu, None);
    }
}
