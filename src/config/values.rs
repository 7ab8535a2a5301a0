//! Checked values for the config file. Each error is raised inside deserialisation, so the
//! toml parser attaches the value's position to it.

use serde::de::{Error, Visitor};
use serde::Deserializer;

use crate::cli::Seed;
use crate::engine::GpuLayers;

/// Accepts integers and floats alike (`temperature = 1` is as good as `1.0`).
struct Number;

impl Visitor<'_> for Number {
    type Value = f64;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a number")
    }

    fn visit_f64<E: Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }
}

fn number_in<'de, D: Deserializer<'de>>(
    d: D,
    min: f64,
    max: f64,
    whole: bool,
) -> Result<f64, D::Error> {
    let value = d.deserialize_any(Number)?;
    if whole && value.fract() != 0.0 {
        return Err(D::Error::custom(format!(
            "expected a whole number, got {value}"
        )));
    }
    if !(min..=max).contains(&value) {
        return Err(D::Error::custom(format!(
            "expected a number from {min} to {max}, got {value}"
        )));
    }
    Ok(value)
}

macro_rules! bounded {
    ($($name:ident: $ty:ty = $min:expr, $max:expr, $whole:expr;)*) => {$(
        pub fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<$ty>, D::Error> {
            number_in(d, $min as f64, $max as f64, $whole).map(|v| Some(v as $ty))
        }
    )*};
}

// The same limits as the studio's controls.
bounded! {
    temperature: f32 = 0, 5, false;
    top_k: i32 = 0, 1000, true;
    top_p: f32 = 0.01, 1, false;
    min_p: f32 = 0, 1, false;
    repeat_penalty: f32 = 0.5, 3, false;
    repeat_last_n: i32 = -1, 65536, true;
    penalty: f32 = -2, 2, false;
    max_tokens: u32 = 1, 1_000_000, true;
    context_size: u32 = 64, 1_048_576, true;
    threads: u32 = 1, 1024, true;
    batch_size: u32 = 1, 65536, true;
    timeout: u32 = 1, 86400, true;
}

/// A whole number, or a word its type parses ("random", "all", "auto").
struct NumberOrWord<T> {
    expecting: &'static str,
    from_number: fn(i64) -> Result<T, String>,
}

impl<T: std::str::FromStr<Err = String>> Visitor<'_> for NumberOrWord<T> {
    type Value = T;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<T, E> {
        (self.from_number)(v).map_err(E::custom)
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<T, E> {
        self.visit_i64(i64::try_from(v).unwrap_or(-1))
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(E::custom)
    }
}

/// A seed: a number, or "random".
pub fn seed<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Seed>, D::Error> {
    d.deserialize_any(NumberOrWord {
        expecting: "a seed from 0 to 4294967295, or \"random\"",
        from_number: |v| {
            u32::try_from(v)
                .map(Seed::Fixed)
                .map_err(|_| format!("expected a seed from 0 to 4294967295, got {v}"))
        },
    })
    .map(Some)
}

/// GPU layers: a number, "all" or "auto".
pub fn gpu_layers<'de, D: Deserializer<'de>>(d: D) -> Result<Option<GpuLayers>, D::Error> {
    d.deserialize_any(NumberOrWord {
        expecting: "a number of layers, \"all\" or \"auto\"",
        from_number: |v| {
            u32::try_from(v)
                .map(GpuLayers::Count)
                .map_err(|_| format!("expected a number of layers, got {v}"))
        },
    })
    .map(Some)
}

/// Any value spelled as a string that `FromStr` understands.
pub fn from_str_opt<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr<Err = String>,
{
    let text: String = serde::Deserialize::deserialize(d)?;
    text.parse().map(Some).map_err(D::Error::custom)
}
