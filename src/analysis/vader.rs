//! VADER (Hutto & Gilbert, ICWSM 2014), ported line by line from the reference Python
//! `vaderSentiment` 3.3.2, quirks included, so that compound scores agree to 4 decimals
//! (see `tests/vader_golden.rs`). The lexicons are the reference's own files (MIT), embedded.

use std::collections::HashMap;
use std::sync::OnceLock;

const B_INCR: f64 = 0.293;
const B_DECR: f64 = -0.293;
const C_INCR: f64 = 0.733;
const N_SCALAR: f64 = -0.74;

const NEGATE: &[&str] = &[
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

const BOOSTERS_UP: &[&str] = &[
    "absolutely",
    "amazingly",
    "awfully",
    "completely",
    "considerable",
    "considerably",
    "decidedly",
    "deeply",
    "effing",
    "enormous",
    "enormously",
    "entirely",
    "especially",
    "exceptional",
    "exceptionally",
    "extreme",
    "extremely",
    "fabulously",
    "flipping",
    "flippin",
    "frackin",
    "fracking",
    "fricking",
    "frickin",
    "frigging",
    "friggin",
    "fully",
    "fuckin",
    "fucking",
    "fuggin",
    "fugging",
    "greatly",
    "hella",
    "highly",
    "hugely",
    "incredible",
    "incredibly",
    "intensely",
    "major",
    "majorly",
    "more",
    "most",
    "particularly",
    "purely",
    "quite",
    "really",
    "remarkably",
    "so",
    "substantially",
    "thoroughly",
    "total",
    "totally",
    "tremendous",
    "tremendously",
    "uber",
    "unbelievably",
    "unusually",
    "utter",
    "utterly",
    "very",
];

const BOOSTERS_DOWN: &[&str] = &[
    "almost",
    "barely",
    "hardly",
    "just enough",
    "kind of",
    "kinda",
    "kindof",
    "kind-of",
    "less",
    "little",
    "marginal",
    "marginally",
    "occasional",
    "occasionally",
    "partly",
    "scarce",
    "scarcely",
    "slight",
    "slightly",
    "somewhat",
    "sort of",
    "sorta",
    "sortof",
    "sort-of",
];

const SPECIAL_CASES: &[(&str, f64)] = &[
    ("the shit", 3.0),
    ("the bomb", 3.0),
    ("bad ass", 1.5),
    ("badass", 1.5),
    ("bus stop", 0.0),
    ("yeah right", -2.0),
    ("kiss of death", -1.5),
    ("to die for", 3.0),
    ("beating heart", 3.5),
];

/// Python's `string.punctuation`.
const ASCII_PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// The four scores of the reference `polarity_scores`, unrounded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Polarity {
    pub negative: f64,
    pub neutral: f64,
    pub positive: f64,
    pub compound: f64,
}

pub struct Vader {
    lexicon: HashMap<&'static str, f64>,
    emojis: HashMap<char, &'static str>,
    boosters: HashMap<&'static str, f64>,
}

/// The analyzer, built once from the embedded lexicons.
pub fn vader() -> &'static Vader {
    static VADER: OnceLock<Vader> = OnceLock::new();
    VADER.get_or_init(Vader::new)
}

impl Vader {
    fn new() -> Self {
        let lexicon = include_str!("../../assets/vader/vader_lexicon.txt")
            .lines()
            .filter(|line| !line.is_empty())
            .filter_map(|line| {
                let mut fields = line.trim().split('\t');
                let word = fields.next()?;
                let measure = fields.next()?.parse::<f64>().ok()?;
                Some((word, measure))
            })
            .collect();
        // The reference tests `char in emojis`, so only one-character keys can ever match.
        let emojis = include_str!("../../assets/vader/emoji_utf8_lexicon.txt")
            .lines()
            .filter_map(|line| {
                let (emoji, description) = line.trim().split_once('\t')?;
                let mut chars = emoji.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => {
                        Some((c, description.split('\t').next().unwrap_or(description)))
                    }
                    _ => None,
                }
            })
            .collect();
        let boosters = BOOSTERS_UP
            .iter()
            .map(|w| (*w, B_INCR))
            .chain(BOOSTERS_DOWN.iter().map(|w| (*w, B_DECR)))
            .collect();
        Self {
            lexicon,
            emojis,
            boosters,
        }
    }

    /// True when `c` is an emoji the lexicon describes.
    pub fn knows_emoji(&self, c: char) -> bool {
        self.emojis.contains_key(&c)
    }

    pub fn in_lexicon(&self, word_lower: &str) -> bool {
        self.lexicon.contains_key(word_lower)
    }

    /// The reference `polarity_scores`.
    pub fn polarity_scores(&self, text: &str) -> Polarity {
        let mut replaced = String::with_capacity(text.len());
        let mut previous_space = true;
        for c in text.chars() {
            if let Some(description) = self.emojis.get(&c) {
                if !previous_space {
                    replaced.push(' ');
                }
                replaced.push_str(description);
                previous_space = false;
            } else {
                replaced.push(c);
                previous_space = c == ' ';
            }
        }
        let text = replaced.trim_matches(is_python_space);
        let words: Vec<&str> = text
            .split(is_python_space)
            .filter(|w| !w.is_empty())
            .map(strip_punctuation_if_word)
            .collect();
        let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
        let is_cap_diff = allcap_differential(&words);

        let mut sentiments: Vec<f64> = Vec::with_capacity(words.len());
        for i in 0..words.len() {
            if self.boosters.contains_key(lower[i].as_str()) {
                sentiments.push(0.0);
                continue;
            }
            if i + 1 < words.len() && lower[i] == "kind" && lower[i + 1] == "of" {
                sentiments.push(0.0);
                continue;
            }
            sentiments.push(self.sentiment_valence(&words, &lower, i, is_cap_diff));
        }
        but_check(&lower, &mut sentiments);
        score_valence(&sentiments, text)
    }

    fn sentiment_valence(
        &self,
        words: &[&str],
        lower: &[String],
        i: usize,
        is_cap_diff: bool,
    ) -> f64 {
        let item_lower = lower[i].as_str();
        let Some(&base) = self.lexicon.get(item_lower) else {
            return 0.0;
        };
        let mut valence = base;
        let last = words.len() - 1;
        if item_lower == "no" && i != last && self.lexicon.contains_key(lower[i + 1].as_str()) {
            valence = 0.0;
        }
        if (i > 0 && lower[i - 1] == "no")
            || (i > 1 && lower[i - 2] == "no")
            || (i > 2 && lower[i - 3] == "no" && (lower[i - 1] == "or" || lower[i - 1] == "nor"))
        {
            valence = base * N_SCALAR;
        }
        if python_is_upper(words[i]) && is_cap_diff {
            if valence > 0.0 {
                valence += C_INCR;
            } else {
                valence -= C_INCR;
            }
        }
        for start in 0..3 {
            if i > start && !self.lexicon.contains_key(lower[i - (start + 1)].as_str()) {
                let mut scalar = self.scalar_inc_dec(
                    words[i - (start + 1)],
                    &lower[i - (start + 1)],
                    valence,
                    is_cap_diff,
                );
                if start == 1 && scalar != 0.0 {
                    scalar *= 0.95;
                }
                if start == 2 && scalar != 0.0 {
                    scalar *= 0.9;
                }
                valence += scalar;
                valence = negation_check(valence, lower, start, i);
                if start == 2 {
                    valence = self.special_idioms_check(valence, lower, i);
                }
            }
        }
        self.least_check(valence, lower, i)
    }

    fn scalar_inc_dec(&self, word: &str, word_lower: &str, valence: f64, is_cap_diff: bool) -> f64 {
        let Some(&booster) = self.boosters.get(word_lower) else {
            return 0.0;
        };
        let mut scalar = booster;
        if valence < 0.0 {
            scalar *= -1.0;
        }
        if python_is_upper(word) && is_cap_diff {
            if valence > 0.0 {
                scalar += C_INCR;
            } else {
                scalar -= C_INCR;
            }
        }
        scalar
    }

    fn least_check(&self, valence: f64, lower: &[String], i: usize) -> f64 {
        if i > 1 && !self.lexicon.contains_key(lower[i - 1].as_str()) && lower[i - 1] == "least" {
            if lower[i - 2] != "at" && lower[i - 2] != "very" {
                return valence * N_SCALAR;
            }
        } else if i > 0
            && !self.lexicon.contains_key(lower[i - 1].as_str())
            && lower[i - 1] == "least"
        {
            return valence * N_SCALAR;
        }
        valence
    }

    fn special_idioms_check(&self, mut valence: f64, lower: &[String], i: usize) -> f64 {
        let one_zero = format!("{} {}", lower[i - 1], lower[i]);
        let two_one_zero = format!("{} {} {}", lower[i - 2], lower[i - 1], lower[i]);
        let two_one = format!("{} {}", lower[i - 2], lower[i - 1]);
        let three_two_one = format!("{} {} {}", lower[i - 3], lower[i - 2], lower[i - 1]);
        let three_two = format!("{} {}", lower[i - 3], lower[i - 2]);
        let special = |seq: &str| {
            SPECIAL_CASES
                .iter()
                .find(|(k, _)| *k == seq)
                .map(|(_, v)| *v)
        };
        for seq in [
            &one_zero,
            &two_one_zero,
            &two_one,
            &three_two_one,
            &three_two,
        ] {
            if let Some(v) = special(seq) {
                valence = v;
                break;
            }
        }
        if lower.len() - 1 > i {
            if let Some(v) = special(&format!("{} {}", lower[i], lower[i + 1])) {
                valence = v;
            }
        }
        if lower.len() - 1 > i + 1 {
            if let Some(v) = special(&format!("{} {} {}", lower[i], lower[i + 1], lower[i + 2])) {
                valence = v;
            }
        }
        for n_gram in [&three_two_one, &three_two, &two_one] {
            if let Some(b) = self.boosters.get(n_gram.as_str()) {
                valence += b;
            }
        }
        valence
    }
}

fn negated(word_lower: &str) -> bool {
    NEGATE.contains(&word_lower) || word_lower.contains("n't")
}

fn negation_check(mut valence: f64, lower: &[String], start: usize, i: usize) -> f64 {
    let is = |k: usize, w: &str| lower[i - k] == w;
    match start {
        0 => {
            if negated(&lower[i - 1]) {
                valence *= N_SCALAR;
            }
        }
        1 => {
            if is(2, "never") && (is(1, "so") || is(1, "this")) {
                valence *= 1.25;
            } else if is(2, "without") && is(1, "doubt") {
            } else if negated(&lower[i - 2]) {
                valence *= N_SCALAR;
            }
        }
        _ => {
            // The reference's precedence: (never and (so or this)) or (so or this).
            if (is(3, "never") && (is(2, "so") || is(2, "this"))) || (is(1, "so") || is(1, "this"))
            {
                valence *= 1.25;
            } else if is(3, "without") && (is(2, "doubt") || is(1, "doubt")) {
            } else if negated(&lower[i - 3]) {
                valence *= N_SCALAR;
            }
        }
    }
    valence
}

/// The reference's `_but_check`, including its use of `list.index(value)`, which rewrites the
/// first element equal to the current one rather than the current one.
fn but_check(lower: &[String], sentiments: &mut [f64]) {
    let Some(but) = lower.iter().position(|w| w == "but") else {
        return;
    };
    for k in 0..sentiments.len() {
        let value = sentiments[k];
        let Some(first) = sentiments.iter().position(|s| *s == value) else {
            continue;
        };
        if first < but {
            sentiments[first] = value * 0.5;
        } else if first > but {
            sentiments[first] = value * 1.5;
        }
    }
}

fn score_valence(sentiments: &[f64], text: &str) -> Polarity {
    if sentiments.is_empty() {
        return Polarity {
            negative: 0.0,
            neutral: 0.0,
            positive: 0.0,
            compound: 0.0,
        };
    }
    let mut sum: f64 = 0.0;
    for s in sentiments {
        sum += s;
    }
    let emphasis = punctuation_emphasis(text);
    if sum > 0.0 {
        sum += emphasis;
    } else if sum < 0.0 {
        sum -= emphasis;
    }
    let compound = normalize(sum);
    let (mut positive_sum, mut negative_sum, mut neutral_count) = (0.0f64, 0.0f64, 0u32);
    for &s in sentiments {
        if s > 0.0 {
            positive_sum += s + 1.0;
        }
        if s < 0.0 {
            negative_sum += s - 1.0;
        }
        if s == 0.0 {
            neutral_count += 1;
        }
    }
    if positive_sum > negative_sum.abs() {
        positive_sum += emphasis;
    } else if positive_sum < negative_sum.abs() {
        negative_sum -= emphasis;
    }
    let total = positive_sum + negative_sum.abs() + f64::from(neutral_count);
    Polarity {
        negative: (negative_sum / total).abs(),
        neutral: (f64::from(neutral_count) / total).abs(),
        positive: (positive_sum / total).abs(),
        compound,
    }
}

fn punctuation_emphasis(text: &str) -> f64 {
    let exclamations = text.matches('!').count().min(4);
    let questions = text.matches('?').count();
    let question_emphasis = match questions {
        0 | 1 => 0.0,
        2 | 3 => questions as f64 * 0.18,
        _ => 0.96,
    };
    exclamations as f64 * 0.292 + question_emphasis
}

fn normalize(score: f64) -> f64 {
    (score / (score * score + 15.0).sqrt()).clamp(-1.0, 1.0)
}

/// Python's `str.isspace` for one character: Unicode White_Space plus the ASCII separators.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// The reference strips leading and trailing ASCII punctuation unless that leaves two or fewer
/// characters (so emoticons like ":)" survive).
fn strip_punctuation_if_word(token: &str) -> &str {
    let stripped = token.trim_matches(|c| ASCII_PUNCTUATION.contains(c));
    if stripped.chars().count() <= 2 {
        token
    } else {
        stripped
    }
}

/// Python's `str.isupper`: at least one cased character, and none lowercase or titlecase.
fn python_is_upper(word: &str) -> bool {
    let mut cased = false;
    for c in word.chars() {
        if c.is_lowercase() {
            return false;
        }
        if c.is_uppercase() {
            cased = true;
        } else if c.is_alphabetic() && c.to_lowercase().ne(std::iter::once(c)) {
            // Titlecase letters (ǅ, ǈ, …) are cased but not upper.
            return false;
        }
    }
    cased
}

fn allcap_differential(words: &[&str]) -> bool {
    let all_caps = words.iter().filter(|w| python_is_upper(w)).count();
    let differential = words.len() - all_caps;
    0 < differential && differential < words.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compound(text: &str) -> String {
        format!("{:.4}", vader().polarity_scores(text).compound)
    }

    /// The reference README's examples, with the reference's outputs.
    #[test]
    fn reference_examples() {
        assert_eq!(compound("VADER is smart, handsome, and funny."), "0.8316");
        assert_eq!(compound("VADER is smart, handsome, and funny!"), "0.8439");
        assert_eq!(
            compound("VADER is very smart, handsome, and funny."),
            "0.8545"
        );
        assert_eq!(
            compound("VADER is VERY SMART, handsome, and FUNNY."),
            "0.9227"
        );
        assert_eq!(
            compound("VADER is VERY SMART, handsome, and FUNNY!!!"),
            "0.9342"
        );
        assert_eq!(
            compound("VADER is not smart, handsome, nor funny."),
            "-0.7424"
        );
        assert_eq!(compound("The book was good."), "0.4404");
        assert_eq!(compound("At least it isn't a horrible book."), "0.4310");
        assert_eq!(compound("The plot was good, but the characters are uncompelling and the dialog is not great."), "-0.7042");
        assert_eq!(compound("Today SUX!"), "-0.5461");
        assert_eq!(compound("Make sure you :) or :D today!"), "0.8633");
        assert_eq!(
            compound("Catch utf-8 emoji such as 💘 and 💋 and 😁"),
            "0.8750"
        );
        assert_eq!(compound("Not bad at all"), "0.4310");
        assert_eq!(compound(""), "0.0000");
        // The quirks: `list.index` in the "but" rule, "no X", "kind of", "never so".
        assert_eq!(compound("I love it but it is bad but good good"), "0.6757");
        assert_eq!(compound("no love"), "-0.5216");
        assert_eq!(compound("kind of good"), "0.4404");
        assert_eq!(compound("the shit is never so good"), "0.2087");
    }
}
