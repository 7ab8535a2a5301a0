//! The token inspector's numbers: for a sampled token, its probability, the alternatives, the
//! entropy and how many candidates each stage of the sampler chain kept. One pass over the
//! logits for the softmax and entropy, and a partial selection for the top candidates — no sort
//! of the whole vocabulary.

use serde::{Deserialize, Serialize};

use super::request::SamplerParams;

/// One candidate with its probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alternative {
    pub token: i32,
    /// The token's text (lossy where the token is part of a UTF-8 character).
    pub text: String,
    pub bytes: Vec<u8>,
    pub probability: f64,
    pub logprob: f64,
}

/// How many candidates survived a stage of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageCount {
    /// "vocabulary", "top-k", "top-p", "min-p".
    pub stage: String,
    pub candidates: usize,
}

/// Everything the inspector knows about one sampled token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenDetail {
    /// 0-based position in the response.
    pub index: u32,
    pub token: i32,
    pub text: String,
    pub bytes: Vec<u8>,
    /// Under the model's distribution after temperature (the full vocabulary, before any
    /// truncation); at temperature 0 (greedy), at temperature 1.
    pub probability: f64,
    pub logprob: f64,
    /// Its chance among the candidates the chain kept (what the sampler actually drew from).
    pub sampler_probability: f64,
    /// Of that same distribution, in nats.
    pub entropy: f64,
    /// The most likely tokens, most likely first (the chosen one among them when it ranks).
    pub top: Vec<Alternative>,
    pub stages: Vec<StageCount>,
}

/// The numbers of a [`TokenDetail`], before token texts are looked up.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    pub probability: f64,
    pub logprob: f64,
    pub sampler_probability: f64,
    pub entropy: f64,
    /// (token, probability, logprob), most likely first.
    pub top: Vec<(i32, f64, f64)>,
    pub stages: Vec<StageCount>,
}

/// Inspects `chosen` given the raw `logits` and the sampler settings (the chain's order:
/// top-k → top-p → min-p → temperature; penalties, when on, are not reflected in the counts).
pub fn inspect(logits: &[f32], chosen: i32, params: &SamplerParams, top_n: usize) -> Inspection {
    let temperature = if params.temperature > 0.0 {
        f64::from(params.temperature)
    } else {
        1.0
    };
    let max32 = lane_max(logits);
    let max = f64::from(max32);
    // One pass: the partition function and Σ e^a·a for the entropy, a = (l − max) / T, with a
    // vectorisable exponential in 8 lanes of f32 (clamped at e^-24: 4e-11 a term, 2e-6 over
    // 49k tokens). The T = 1 mass top-p measures against is needed only without top-k.
    let need_unit = temperature != 1.0 && params.top_k <= 0 && params.top_p < 1.0;
    let inverse = (1.0 / temperature) as f32;
    let (z, weighted) = partition(logits, max32, inverse);
    let z_unit = if need_unit {
        partition(logits, max32, 1.0).0
    } else {
        z
    };
    let log_z = z.ln();
    let logprob_of = |logit: f32| f64::from((logit - max32) * inverse) - log_z;
    let entropy = log_z - weighted / z;
    let chosen_logit = logits
        .get(chosen as usize)
        .copied()
        .unwrap_or(f32::NEG_INFINITY);
    let logprob = logprob_of(chosen_logit);

    // The candidates the stages look at, best first: all k of top-k; without top-k, enough
    // for top-p (grown while the nucleus is wider).
    let vocabulary = logits.len();
    let truncating = params.temperature > 0.0;
    let k = if truncating && params.top_k > 0 {
        (params.top_k as usize).min(vocabulary)
    } else {
        vocabulary
    };
    // Without top-k, top-p measures against the whole vocabulary's mass.
    let whole = (k == vocabulary).then_some(z_unit);
    let mut width = if k < vocabulary {
        k.max(top_n).min(vocabulary)
    } else {
        top_n.max(256).min(vocabulary)
    };
    let ranked = loop {
        let ranked = best(logits, width);
        let enough = width >= k
            || !truncating
            || params.top_p >= 1.0
            || nucleus_end(&ranked, params.top_p, whole).is_some();
        if enough {
            break ranked;
        }
        width = (width * 4).min(vocabulary);
    };
    let mut stages = vec![StageCount {
        stage: "vocabulary".into(),
        candidates: vocabulary,
    }];
    // The survivors: the first `kept` of `ranked`, or (with no truncation that narrowed them
    // to `ranked`) every token whose logit is at least `floor`.
    let mut kept = k;
    let mut floor = f64::NEG_INFINITY;
    if truncating && params.top_k > 0 {
        stages.push(StageCount {
            stage: "top-k".into(),
            candidates: kept,
        });
    }
    if truncating && params.top_p < 1.0 {
        let within = &ranked[..kept.min(ranked.len())];
        kept = nucleus_end(within, params.top_p, whole)
            .unwrap_or(kept)
            .min(kept);
        stages.push(StageCount {
            stage: "top-p".into(),
            candidates: kept,
        });
    }
    if truncating && params.min_p > 0.0 {
        floor = max + f64::from(params.min_p).ln();
        kept = if kept <= ranked.len() {
            ranked[..kept]
                .iter()
                .filter(|(_, l)| f64::from(*l) >= floor)
                .count()
        } else {
            logits.iter().filter(|l| f64::from(**l) >= floor).count()
        }
        .max(1);
        stages.push(StageCount {
            stage: "min-p".into(),
            candidates: kept,
        });
    }
    let weight = |logit: f32| ((f64::from(logit) - max) / temperature).exp();
    let sampler_probability = if !truncating {
        // Greedy takes the top token for certain.
        if ranked.first().is_some_and(|(t, _)| *t == chosen) {
            1.0
        } else {
            0.0
        }
    } else if kept <= ranked.len() {
        let survivors = &ranked[..kept];
        let mass: f64 = survivors.iter().map(|(_, l)| weight(*l)).sum();
        if survivors.iter().any(|(t, _)| *t == chosen) {
            weight(chosen_logit) / mass
        } else {
            0.0
        }
    } else if f64::from(chosen_logit) >= floor {
        // Survivors beyond the ranked ones: everything above the floor (the whole vocabulary
        // when nothing truncated).
        let mass: f64 = logits
            .iter()
            .filter(|l| f64::from(**l) >= floor)
            .map(|l| weight(*l))
            .sum();
        weight(chosen_logit) / mass
    } else {
        0.0
    };
    let top = ranked
        .iter()
        .take(top_n)
        .map(|&(token, logit)| {
            let lp = logprob_of(logit);
            (token, lp.exp(), lp)
        })
        .collect();
    Inspection {
        probability: logprob.exp(),
        logprob,
        sampler_probability,
        entropy,
        top,
        stages,
    }
}

/// The largest logit, in 8 lanes (a plain comparison, so it vectorises; logits are never NaN).
fn lane_max(logits: &[f32]) -> f32 {
    let mut lanes = [f32::NEG_INFINITY; 8];
    let chunks = logits.chunks_exact(8);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (lane, &value) in lanes.iter_mut().zip(chunk) {
            *lane = if value > *lane { value } else { *lane };
        }
    }
    let mut max = f32::NEG_INFINITY;
    for &value in lanes.iter().chain(rest) {
        max = if value > max { value } else { max };
    }
    max
}

/// Σ e^a and Σ e^a·a over a = (l − max) · inverse: 8 lanes of f32 within blocks of 512
/// logits, the blocks summed in f64 (one f32 sum over 49k terms would drift by up to 1e-4).
fn partition(logits: &[f32], max: f32, inverse: f32) -> (f64, f64) {
    let term = |logit: f32| {
        let a = ((logit - max) * inverse).max(-24.0);
        let e = fast_exp(a);
        (e, e * a)
    };
    let (mut z, mut w) = (0.0f64, 0.0f64);
    for block in logits.chunks(512) {
        let mut sums = [0.0f32; 8];
        let mut weighted = [0.0f32; 8];
        let chunks = block.chunks_exact(8);
        let rest = chunks.remainder();
        for chunk in chunks {
            for i in 0..8 {
                let (e, ea) = term(chunk[i]);
                sums[i] += e;
                weighted[i] += ea;
            }
        }
        for &logit in rest {
            let (e, ea) = term(logit);
            sums[0] += e;
            weighted[0] += ea;
        }
        z += sums.iter().map(|&v| f64::from(v)).sum::<f64>();
        w += weighted.iter().map(|&v| f64::from(v)).sum::<f64>();
    }
    (z, w)
}

/// e^x for x in [-87, 0], to about 1e-7 relative (Cephes' expf polynomial), written so that
/// the compiler can run it on several values at once; `f32::exp` is a library call per value.
#[inline]
fn fast_exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // x ≤ 0: truncating x·log2(e) − 0.5 rounds to nearest.
    let n = (x * LOG2E - 0.5) as i32;
    let nf = n as f32;
    let r = x - nf * 0.693_359_4 - nf * -2.121_944_4e-4;
    let p = ((((1.987_569_2e-4 * r + 1.398_2e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 0.166_666_65)
        * r
        + 0.5;
    (p * r * r + r + 1.0) * f32::from_bits(((n + 127) as u32) << 23)
}

/// The `n` highest logits as (token, logit), best first: a linear selection, then a sort of
/// the `n` only.
fn best(logits: &[f32], n: usize) -> Vec<(i32, f32)> {
    let n = n.clamp(1, logits.len().max(1));
    if n * 8 > logits.len() {
        // Most of the vocabulary: select, then sort.
        let mut all: Vec<(i32, f32)> = logits
            .iter()
            .enumerate()
            .map(|(i, &l)| (i as i32, l))
            .collect();
        if n < all.len() {
            all.select_nth_unstable_by(n - 1, |a, b| b.1.total_cmp(&a.1));
            all.truncate(n);
        }
        all.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        return all;
    }
    // A few: one pass keeping them sorted; most logits fail the first comparison.
    let mut kept: Vec<(i32, f32)> = Vec::with_capacity(n + 1);
    for (i, &logit) in logits.iter().enumerate() {
        if kept.len() == n && logit <= kept[n - 1].1 {
            continue;
        }
        let at = kept.partition_point(|&(_, l)| l >= logit);
        kept.insert(at, (i as i32, logit));
        kept.truncate(n);
    }
    kept
}

/// How many of `ranked` (best first) top-p keeps: the shortest prefix whose share reaches `p`,
/// as llama.cpp's top-p does. The share is of `whole` (the vocabulary's mass relative to the
/// best token) when given, else of `ranked`'s own mass (top-k already bounded it). `None`
/// when `ranked` ends before reaching `p` of `whole`: more candidates are needed.
fn nucleus_end(ranked: &[(i32, f32)], p: f32, whole: Option<f64>) -> Option<usize> {
    if p >= 1.0 || ranked.is_empty() {
        return Some(ranked.len());
    }
    let top = f64::from(ranked[0].1);
    let weights = ranked.iter().map(|(_, l)| (f64::from(*l) - top).exp());
    let total = whole.unwrap_or_else(|| weights.clone().sum());
    let mut cumulative = 0.0;
    for (i, w) in weights.enumerate() {
        cumulative += w / total;
        if cumulative >= f64::from(p) {
            return Some(i + 1);
        }
    }
    if whole.is_some() {
        None
    } else {
        Some(ranked.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(temperature: f32, top_k: i32, top_p: f32, min_p: f32) -> SamplerParams {
        SamplerParams {
            temperature,
            top_k,
            top_p,
            min_p,
            ..SamplerParams::default()
        }
    }

    #[test]
    fn probabilities_and_entropy_match_a_direct_softmax() {
        let logits = [2.0f32, 1.0, 0.5, -1.0, 0.0];
        let t = f64::from(0.7f32);
        let exps: Vec<f64> = logits.iter().map(|l| (f64::from(*l) / t).exp()).collect();
        let z: f64 = exps.iter().sum();
        let p: Vec<f64> = exps.iter().map(|e| e / z).collect();
        let entropy: f64 = -p.iter().map(|q| q * q.ln()).sum::<f64>();
        let got = inspect(&logits, 2, &params(0.7, 0, 1.0, 0.0), 3);
        // f32 exponentials: agreement to 1e-6.
        assert!((got.probability - p[2]).abs() < 1e-6);
        assert!((got.logprob - p[2].ln()).abs() < 1e-6);
        assert!((got.entropy - entropy).abs() < 1e-6);
        assert_eq!(
            got.top.iter().map(|t| t.0).collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
        assert!(
            (got.sampler_probability - p[2]).abs() < 1e-12,
            "nothing truncated"
        );
    }

    #[test]
    fn stages_count_like_the_chain() {
        // Logits whose T=1 probabilities are 0.5, 0.25, 0.125, 0.0625, 0.0625.
        let ln = |x: f64| x.ln() as f32;
        let logits = [ln(0.5), ln(0.25), ln(0.125), ln(0.0625), ln(0.0625)];
        let got = inspect(&logits, 1, &params(1.0, 4, 0.7, 0.2), 5);
        let counts: Vec<(&str, usize)> = got
            .stages
            .iter()
            .map(|s| (s.stage.as_str(), s.candidates))
            .collect();
        // top-k 4 keeps 4 (renormalised .5333 .2667 .1333 .0667); top-p 0.7 keeps 2 (.5333,
        // .8); min-p 0.2 of the best (0.5 → floor 0.1) keeps both.
        assert_eq!(
            counts,
            vec![("vocabulary", 5), ("top-k", 4), ("top-p", 2), ("min-p", 2)]
        );
        // The sampler drew token 1 from {0.5, 0.25} renormalised: 1/3.
        assert!((got.sampler_probability - 1.0 / 3.0).abs() < 1e-9);
        let outside = inspect(&logits, 3, &params(1.0, 4, 0.7, 0.2), 5);
        assert_eq!(outside.sampler_probability, 0.0);
    }

    #[test]
    fn the_fast_exponential_is_accurate() {
        let mut x = -40.0f32;
        while x <= 0.0 {
            let (fast, exact) = (fast_exp(x), x.exp());
            assert!(
                ((fast - exact) / exact).abs() < 3e-7,
                "x {x}: {fast} vs {exact}"
            );
            x += 0.013;
        }
        assert_eq!(fast_exp(0.0), 1.0);
        let logits: Vec<f32> = (0..1003)
            .map(|i| ((i * 37) % 101) as f32 / 7.0 - 5.0)
            .collect();
        assert_eq!(
            lane_max(&logits),
            logits.iter().copied().fold(f32::MIN, f32::max)
        );
    }

    #[test]
    fn greedy_reports_temperature_one_and_certainty_for_the_top() {
        let logits = [0.1f32, 3.0, 2.9];
        let got = inspect(&logits, 1, &params(0.0, 40, 0.95, 0.05), 2);
        assert_eq!(got.top[0].0, 1);
        assert_eq!(got.sampler_probability, 1.0);
        assert_eq!(got.stages.len(), 1, "greedy has no truncation stages");
    }

    #[test]
    fn top_p_without_top_k_widens_the_candidates() {
        // A flat distribution over 2,000 tokens: top-p 0.9 needs 1,800 of them.
        let logits = vec![0.0f32; 2000];
        let got = inspect(&logits, 7, &params(1.0, 0, 0.9, 0.0), 5);
        let top_p = got.stages.iter().find(|s| s.stage == "top-p").unwrap();
        assert_eq!(top_p.candidates, 1800);
    }
}
