//! The sampler controls: which values can be set, their steps and limits, and typed input.

use crate::engine::SamplerParams;

/// One setting the controls pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Temperature,
    TopK,
    TopP,
    MinP,
    RepeatPenalty,
    MaxTokens,
    Seed,
}

/// Temperature first: it is the one users turn most.
pub const FIELDS: [Field; 7] = [
    Field::Temperature,
    Field::TopK,
    Field::TopP,
    Field::MinP,
    Field::RepeatPenalty,
    Field::MaxTokens,
    Field::Seed,
];

struct Limits {
    min: f64,
    max: f64,
    fine: f64,
    coarse: f64,
    decimals: usize,
}

impl Field {
    pub fn label(self) -> &'static str {
        match self {
            Field::Temperature => "temperature",
            Field::TopK => "top-k",
            Field::TopP => "top-p",
            Field::MinP => "min-p",
            Field::RepeatPenalty => "repeat penalty",
            Field::MaxTokens => "max tokens",
            Field::Seed => "seed",
        }
    }

    fn limits(self) -> Limits {
        let l = |min, max, fine, coarse, decimals| Limits {
            min,
            max,
            fine,
            coarse,
            decimals,
        };
        match self {
            Field::Temperature => l(0.0, 5.0, 0.05, 0.5, 2),
            Field::TopK => l(0.0, 1000.0, 1.0, 10.0, 0),
            Field::TopP => l(0.01, 1.0, 0.01, 0.1, 2),
            Field::MinP => l(0.0, 1.0, 0.01, 0.1, 2),
            Field::RepeatPenalty => l(0.5, 3.0, 0.05, 0.25, 2),
            Field::MaxTokens => l(1.0, 1_000_000.0, 16.0, 256.0, 0),
            Field::Seed => l(0.0, f64::from(u32::MAX), 1.0, 100.0, 0),
        }
    }

    /// What 0 (or 1) means for this field, where it switches the stage off.
    pub fn off_hint(self, value: f64) -> Option<&'static str> {
        match self {
            Field::Temperature if value == 0.0 => Some("greedy"),
            Field::TopK if value == 0.0 => Some("off"),
            Field::TopP if value >= 1.0 => Some("off"),
            Field::MinP if value == 0.0 => Some("off"),
            Field::RepeatPenalty if value == 1.0 => Some("off"),
            _ => None,
        }
    }
}

/// The controls' values plus what is being typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Controls {
    pub params: SamplerParams,
    /// The seed kept while random mode is on, so toggling back restores it.
    pub fixed_seed: u32,
    pub selected: usize,
    /// Characters typed for the selected field, applied with Enter.
    pub typed: String,
    /// Shown under the controls after a value was clamped or refused.
    pub hint: Option<String>,
}

impl Controls {
    pub fn new(params: SamplerParams) -> Self {
        Self {
            fixed_seed: params.seed.unwrap_or(42),
            params,
            selected: 0,
            typed: String::new(),
            hint: None,
        }
    }

    pub fn selected_field(&self) -> Field {
        FIELDS[self.selected.min(FIELDS.len() - 1)]
    }

    pub fn value(&self, field: Field) -> f64 {
        let p = &self.params;
        match field {
            Field::Temperature => f64::from(p.temperature),
            Field::TopK => f64::from(p.top_k),
            Field::TopP => f64::from(p.top_p),
            Field::MinP => f64::from(p.min_p),
            Field::RepeatPenalty => f64::from(p.repeat_penalty),
            Field::MaxTokens => f64::from(p.max_tokens),
            Field::Seed => f64::from(p.seed.unwrap_or(self.fixed_seed)),
        }
    }

    /// The value as shown: fixed decimals, "random" for a random seed, and what 0 means.
    pub fn display(&self, field: Field) -> String {
        if field == Field::Seed && self.params.seed.is_none() {
            return "random".into();
        }
        let value = self.value(field);
        let text = format!("{value:.*}", field.limits().decimals);
        match field.off_hint(value) {
            Some(hint) => format!("{text} ({hint})"),
            None => text,
        }
    }

    /// Sets `field`, clamped to its limits; the hint says when clamping happened.
    pub fn set(&mut self, field: Field, requested: f64) {
        let limits = field.limits();
        let clamped = requested.clamp(limits.min, limits.max);
        let scale = 10f64.powi(limits.decimals as i32);
        let value = (clamped * scale).round() / scale;
        self.hint = if (clamped - requested).abs() > f64::EPSILON {
            let bound = if requested < limits.min {
                "minimum"
            } else {
                "maximum"
            };
            Some(format!(
                "{} clamped to {value:.*} (the {bound})",
                field.label(),
                limits.decimals
            ))
        } else {
            None
        };
        let p = &mut self.params;
        match field {
            Field::Temperature => p.temperature = value as f32,
            Field::TopK => p.top_k = value as i32,
            Field::TopP => p.top_p = value as f32,
            Field::MinP => p.min_p = value as f32,
            Field::RepeatPenalty => p.repeat_penalty = value as f32,
            Field::MaxTokens => p.max_tokens = value as u32,
            Field::Seed => {
                self.fixed_seed = value as u32;
                p.seed = Some(self.fixed_seed);
            }
        }
    }

    pub fn step(&mut self, direction: f64, coarse: bool) {
        let field = self.selected_field();
        let limits = field.limits();
        let step = if coarse { limits.coarse } else { limits.fine };
        self.typed.clear();
        self.set(field, self.value(field) + direction * step);
    }

    pub fn reset_selected(&mut self) {
        let field = self.selected_field();
        let defaults = Controls::new(SamplerParams::default());
        self.typed.clear();
        if field == Field::Seed {
            self.params.seed = None;
            self.hint = None;
        } else {
            self.set(field, defaults.value(field));
        }
    }

    pub fn toggle_random_seed(&mut self) {
        self.params.seed = match self.params.seed {
            Some(seed) => {
                self.fixed_seed = seed;
                None
            }
            None => Some(self.fixed_seed),
        };
    }

    /// Accepts a character typed on the controls; false if it cannot be part of a number.
    pub fn type_char(&mut self, c: char) -> bool {
        if c.is_ascii_digit()
            || (c == '.' && !self.typed.contains('.'))
            || (c == '-' && self.typed.is_empty())
        {
            self.typed.push(c);
            true
        } else {
            false
        }
    }

    pub fn apply_typed(&mut self) {
        if self.typed.is_empty() {
            return;
        }
        let field = self.selected_field();
        match self.typed.parse::<f64>() {
            Ok(value) if value.is_finite() => self.set(field, value),
            _ => self.hint = Some(format!("'{}' is not a number", self.typed)),
        }
        self.typed.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_fine_and_coarse_and_clamped() {
        let mut controls = Controls::new(SamplerParams::default());
        assert_eq!(controls.selected_field(), Field::Temperature);
        controls.step(1.0, false);
        assert!((controls.params.temperature - 0.85).abs() < 1e-6);
        controls.step(1.0, true);
        assert!((controls.params.temperature - 1.35).abs() < 1e-6);
        for _ in 0..20 {
            controls.step(1.0, true);
        }
        assert_eq!(controls.params.temperature, 5.0);
        assert!(controls.hint.as_deref().unwrap().contains("maximum"));
        for _ in 0..200 {
            controls.step(-1.0, false);
        }
        assert_eq!(controls.params.temperature, 0.0);
        assert_eq!(controls.display(Field::Temperature), "0.00 (greedy)");
    }

    #[test]
    fn typed_values_apply_with_validation() {
        let mut controls = Controls::new(SamplerParams::default());
        controls.selected = 2; // top-p
        for c in "1.7".chars() {
            assert!(controls.type_char(c));
        }
        assert!(!controls.type_char('x'));
        controls.apply_typed();
        assert_eq!(controls.params.top_p, 1.0);
        assert!(controls.hint.as_deref().unwrap().contains("clamped"));
        controls.type_char('.');
        controls.apply_typed();
        assert!(controls.hint.as_deref().unwrap().contains("not a number"));
    }

    #[test]
    fn seed_toggles_between_random_and_fixed() {
        let mut controls = Controls::new(SamplerParams::default());
        assert_eq!(controls.display(Field::Seed), "random");
        controls.toggle_random_seed();
        assert_eq!(controls.params.seed, Some(42));
        controls.selected = 6;
        controls.step(1.0, true);
        assert_eq!(controls.params.seed, Some(142));
        controls.toggle_random_seed();
        assert_eq!(controls.params.seed, None);
        controls.toggle_random_seed();
        assert_eq!(controls.params.seed, Some(142));
    }
}
