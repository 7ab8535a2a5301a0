//! Planning a sweep: which sampler parameters vary (one, or two as a grid), over which values,
//! and the variants that come out. Shared by `refrain sweep` and the studio's sweep editor.

use serde::Serialize;

use super::request::{SamplerParams, MAX_SWEEP_VARIANTS};

/// A sampler parameter a sweep can vary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SweepParam {
    Temperature,
    Seed,
    TopP,
    MinP,
    TopK,
}

impl SweepParam {
    pub const ALL: [SweepParam; 5] = [
        SweepParam::Temperature,
        SweepParam::Seed,
        SweepParam::TopP,
        SweepParam::MinP,
        SweepParam::TopK,
    ];

    /// As flags and JSON name it.
    pub fn name(self) -> &'static str {
        match self {
            SweepParam::Temperature => "temperature",
            SweepParam::Seed => "seed",
            SweepParam::TopP => "top_p",
            SweepParam::MinP => "min_p",
            SweepParam::TopK => "top_k",
        }
    }

    /// As column headings show it.
    pub fn short(self) -> &'static str {
        match self {
            SweepParam::Temperature => "t",
            SweepParam::Seed => "seed",
            SweepParam::TopP => "top-p",
            SweepParam::MinP => "min-p",
            SweepParam::TopK => "top-k",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        let wanted = name.trim().replace('-', "_").to_ascii_lowercase();
        let wanted = match wanted.as_str() {
            "t" | "temp" => "temperature",
            "seeds" => "seed",
            other => other,
        }
        .to_owned();
        Self::ALL.into_iter().find(|p| p.name() == wanted)
    }

    fn check(self, value: f64) -> Result<(), String> {
        let ok = match self {
            SweepParam::Temperature => (0.0..=5.0).contains(&value),
            SweepParam::Seed => {
                value.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&value)
            }
            SweepParam::TopP => value > 0.0 && value <= 1.0,
            SweepParam::MinP => (0.0..=1.0).contains(&value),
            SweepParam::TopK => value.fract() == 0.0 && (0.0..=1000.0).contains(&value),
        };
        if ok {
            Ok(())
        } else {
            Err(format!("{value} is not a valid {}", self.name()))
        }
    }

    fn apply(self, params: &mut SamplerParams, value: f64) {
        match self {
            SweepParam::Temperature => params.temperature = value as f32,
            SweepParam::Seed => params.seed = Some(value as u32),
            SweepParam::TopP => params.top_p = value as f32,
            SweepParam::MinP => params.min_p = value as f32,
            SweepParam::TopK => params.top_k = value as i32,
        }
    }

    /// A value as a heading shows it: "0.3", "42".
    pub fn format(self, value: f64) -> String {
        match self {
            SweepParam::Seed | SweepParam::TopK => format!("{}", value as i64),
            _ => {
                let text = format!("{value:.3}");
                text.trim_end_matches('0').trim_end_matches('.').to_owned()
            }
        }
    }
}

/// One varied parameter and its values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepAxis {
    pub param: SweepParam,
    pub values: Vec<f64>,
}

impl SweepAxis {
    /// Parses "0.3,0.8,1.3" (spaces allowed).
    pub fn parse(param: SweepParam, list: &str) -> Result<Self, String> {
        let values = list
            .split(',')
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.parse::<f64>()
                    .map_err(|_| format!("'{v}' is not a number ({})", param.name()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if values.is_empty() {
            return Err(format!("no values given for {}", param.name()));
        }
        for value in &values {
            param.check(*value)?;
        }
        Ok(Self { param, values })
    }
}

/// One variant: its settings along the axes, and its full sampler parameters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedVariant {
    pub settings: Vec<(SweepParam, f64)>,
    pub sampler: SamplerParams,
}

impl PlannedVariant {
    /// "t 0.3 · seed 1".
    pub fn label(&self) -> String {
        self.settings
            .iter()
            .map(|(param, value)| format!("{} {}", param.short(), param.format(*value)))
            .collect::<Vec<_>>()
            .join(" · ")
    }
}

/// What a sweep varies, for headings and history: "temperature × seed" — the parameters its
/// variants differ in (a single-value axis is a fixed setting and is not named).
pub fn varied(variants: &[PlannedVariant]) -> String {
    variants
        .first()
        .map(|v| {
            v.settings
                .iter()
                .map(|(param, _)| param.name())
                .collect::<Vec<_>>()
                .join(" × ")
        })
        .unwrap_or_default()
}

/// The variants of `axes` over `base`: one axis gives a list, two a grid (first axis outer).
/// Axes with a single value are fixed settings, not dimensions. A random base seed becomes one
/// seed shared by every variant (`shared_seed`), so only the swept parameters differ.
pub fn plan(
    base: &SamplerParams,
    axes: &[SweepAxis],
    shared_seed: u32,
) -> Result<Vec<PlannedVariant>, String> {
    let mut base = base.clone();
    let mut dimensions: Vec<&SweepAxis> = Vec::new();
    for axis in axes {
        if axes.iter().filter(|a| a.param == axis.param).count() > 1 {
            return Err(format!("{} is given twice", axis.param.name()));
        }
        if axis.values.len() == 1 {
            axis.param.apply(&mut base, axis.values[0]);
        } else {
            dimensions.push(axis);
        }
    }
    if base.seed.is_none() {
        base.seed = Some(shared_seed);
    }
    let variants: Vec<PlannedVariant> = match dimensions.as_slice() {
        [] => {
            return Err(
                "nothing to sweep: give two or more values, e.g. --temperature 0.3,0.8,1.3".into(),
            )
        }
        [one] => one
            .values
            .iter()
            .map(|&v| variant(&base, &[(one.param, v)]))
            .collect(),
        [outer, inner] => outer
            .values
            .iter()
            .flat_map(|&a| {
                inner
                    .values
                    .iter()
                    .map(move |&b| [(outer.param, a), (inner.param, b)])
            })
            .map(|settings| variant(&base, &settings))
            .collect(),
        _ => return Err("a sweep varies one parameter, or two as a grid".into()),
    };
    if variants.len() > MAX_SWEEP_VARIANTS {
        return Err(format!(
            "{} variants; a sweep runs at most {MAX_SWEEP_VARIANTS} at once",
            variants.len()
        ));
    }
    Ok(variants)
}

fn variant(base: &SamplerParams, settings: &[(SweepParam, f64)]) -> PlannedVariant {
    let mut sampler = base.clone();
    for (param, value) in settings {
        param.apply(&mut sampler, *value);
    }
    PlannedVariant {
        settings: settings.to_vec(),
        sampler,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(param: SweepParam, list: &str) -> SweepAxis {
        SweepAxis::parse(param, list).unwrap()
    }

    #[test]
    fn one_axis_is_a_list_with_a_shared_seed() {
        let base = SamplerParams::default();
        let variants = plan(&base, &[axis(SweepParam::Temperature, "0.3, 0.8,1.3")], 77).unwrap();
        assert_eq!(variants.len(), 3);
        assert_eq!(variants[0].sampler.temperature, 0.3);
        assert_eq!(variants[2].sampler.temperature, 1.3);
        assert!(variants.iter().all(|v| v.sampler.seed == Some(77)));
        assert_eq!(variants[1].label(), "t 0.8");
    }

    #[test]
    fn two_axes_are_a_grid_and_single_values_are_fixed() {
        let base = SamplerParams::default();
        let axes = [
            axis(SweepParam::Temperature, "0.3,0.8,1.3"),
            axis(SweepParam::Seed, "1,2"),
            axis(SweepParam::TopP, "0.9"),
        ];
        let variants = plan(&base, &axes, 5).unwrap();
        assert_eq!(variants.len(), 6);
        assert_eq!(variants[1].label(), "t 0.3 · seed 2");
        assert_eq!(variants[2].label(), "t 0.8 · seed 1");
        assert!(variants.iter().all(|v| v.sampler.top_p == 0.9));
        assert_eq!(
            varied(&variants),
            "temperature × seed",
            "the fixed top-p is not named"
        );
    }

    #[test]
    fn bad_plans_are_explained() {
        let base = SamplerParams::default();
        assert!(plan(&base, &[axis(SweepParam::Temperature, "0.5")], 1)
            .unwrap_err()
            .contains("nothing to sweep"));
        let too_many = [
            axis(SweepParam::Temperature, "0.1,0.2,0.3"),
            axis(SweepParam::Seed, "1,2,3"),
        ];
        assert!(plan(&base, &too_many, 1)
            .unwrap_err()
            .contains("9 variants"));
        let three = [
            axis(SweepParam::Temperature, "0.1,0.2"),
            axis(SweepParam::Seed, "1,2"),
            axis(SweepParam::TopK, "10,20"),
        ];
        assert!(plan(&base, &three, 1)
            .unwrap_err()
            .contains("one parameter, or two"));
        assert!(SweepAxis::parse(SweepParam::TopP, "0.5,1.5").is_err());
        assert!(SweepAxis::parse(SweepParam::Seed, "1.5").is_err());
        assert!(SweepAxis::parse(SweepParam::Temperature, "hot").is_err());
        assert_eq!(SweepParam::parse("top-p"), Some(SweepParam::TopP));
        assert_eq!(SweepParam::parse("seeds"), Some(SweepParam::Seed));
    }
}
