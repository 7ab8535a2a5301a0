//! Presets: named sampler settings, and prompt forms (a system prompt and a prompt template
//! with `{placeholders}`). Built-ins are embedded from `assets/presets/`; a user's
//! `presets/NAME.toml` in the config dir adds one or replaces the built-in of that name.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::SamplerConfig;

/// A preset file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetFile {
    description: String,
    /// The language the form is written in (a BCP 47 tag: "zh", "ja", "es"); English if absent.
    language: Option<String>,
    system: Option<String>,
    prompt: Option<String>,
    #[serde(default)]
    sampler: SamplerConfig,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    /// The file's stem.
    pub name: String,
    pub description: String,
    pub language: Option<String>,
    pub system: Option<String>,
    /// A template; `None` for a sampler-only preset.
    pub prompt: Option<String>,
    pub sampler: SamplerConfig,
    /// `None` for a built-in, else the user's file.
    pub file: Option<PathBuf>,
}

impl Preset {
    pub fn is_prompt(&self) -> bool {
        self.prompt.is_some()
    }

    /// The placeholders of the prompt and system templates, in order of first appearance.
    pub fn placeholders(&self) -> Vec<String> {
        let mut names = Vec::new();
        for text in [&self.system, &self.prompt].into_iter().flatten() {
            for name in placeholders(text) {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
    }
}

macro_rules! built_in {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../assets/presets/", $name, ".toml")))),*]
    };
}

/// The built-ins, in the order pickers show them: sampler presets, then prompt forms.
const BUILT_IN: &[(&str, &str)] = built_in!(
    "precise",
    "balanced",
    "creative",
    "wild",
    "song-lyrics",
    "ballad",
    "rap-verse",
    "haiku",
    "limerick",
    "short-story",
    "qiyan-jueju",
    "tanka",
    "copla",
    "ghazal",
    "sijo",
    "in-the-style-of",
    "sentiment-rewrite",
);

fn parse(name: &str, text: &str, file: Option<&Path>) -> Result<Preset, String> {
    let shown = file.map_or_else(
        || PathBuf::from(format!("assets/presets/{name}.toml")),
        Path::to_path_buf,
    );
    let parsed: PresetFile = toml::from_str(text)
        .map_err(|error| super::located(text, &shown, &error).to_string())
        .map_err(|message| message.replacen("config file", "preset", 1))?;
    Ok(Preset {
        name: name.to_owned(),
        description: parsed.description,
        language: parsed.language,
        system: parsed.system,
        prompt: parsed.prompt,
        sampler: parsed.sampler,
        file: file.map(Path::to_path_buf),
    })
}

/// The built-in presets.
pub fn built_in() -> Vec<Preset> {
    BUILT_IN
        .iter()
        .map(|(name, text)| parse(name, text, None).expect("built-in presets are tested"))
        .collect()
}

/// The user's preset dir: `presets/` beside the config file.
pub fn user_dir() -> Option<PathBuf> {
    crate::paths::config_dir().map(|dir| dir.join("presets"))
}

/// Built-ins with the user's presets from `dir` laid over them by name. A broken user preset
/// is an error naming its file, line and column.
pub fn with_user_presets(dir: Option<&Path>) -> Result<Vec<Preset>, String> {
    let mut presets = built_in();
    let Some(entries) = dir.and_then(|dir| std::fs::read_dir(dir).ok()) else {
        return Ok(presets);
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    for path in files {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(&path)
            .map_err(|error| format!("preset {}: cannot read it: {error}", path.display()))?;
        let preset = parse(&name, &text, Some(&path))?;
        match presets.iter_mut().find(|p| p.name == name) {
            Some(existing) => *existing = preset,
            None => presets.push(preset),
        }
    }
    Ok(presets)
}

/// Every preset: built-ins and the user's.
pub fn all() -> Result<Vec<Preset>, String> {
    with_user_presets(user_dir().as_deref())
}

/// By exact name, else by unique prefix.
pub fn find<'a>(presets: &'a [Preset], name: &str) -> Result<&'a Preset, String> {
    if let Some(exact) = presets.iter().find(|p| p.name == name) {
        return Ok(exact);
    }
    let matches: Vec<&Preset> = presets
        .iter()
        .filter(|p| p.name.starts_with(name))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(format!(
            "no preset named '{name}'; there are: {}",
            presets
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
        many => Err(format!(
            "'{name}' could be any of: {}",
            many.iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// `{name}` placeholders in `text`, in order (repeats included once).
pub fn placeholders(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find('}') else { break };
        let candidate = &rest[..close];
        if is_placeholder_name(candidate) && !names.iter().any(|n| n == candidate) {
            names.push(candidate.to_owned());
        }
    }
    names
}

fn is_placeholder_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Replaces each `{name}` by its value; the names without a value are the error.
pub fn fill(template: &str, values: &[(String, String)]) -> Result<String, Vec<String>> {
    let mut text = template.to_owned();
    for (name, value) in values {
        text = text.replace(&format!("{{{name}}}"), value);
    }
    let missing = placeholders(&text)
        .into_iter()
        .filter(|name| placeholders(template).contains(name))
        .collect::<Vec<_>>();
    if missing.is_empty() {
        Ok(text)
    } else {
        Err(missing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_ins_parse_and_cover_the_forms() {
        let presets = built_in();
        assert_eq!(presets.len(), BUILT_IN.len());
        let sampler_only: Vec<_> = presets.iter().filter(|p| !p.is_prompt()).collect();
        assert_eq!(
            sampler_only
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>(),
            ["precise", "balanced", "creative", "wild"]
        );
        assert_eq!(
            find(&presets, "precise").unwrap().sampler.temperature,
            Some(0.0)
        );
        for preset in presets.iter().filter(|p| p.is_prompt()) {
            assert!(
                preset.system.is_some(),
                "{} describes its form",
                preset.name
            );
            assert!(
                !preset.placeholders().is_empty(),
                "{} has blanks",
                preset.name
            );
        }
        let languages: Vec<_> = presets
            .iter()
            .filter_map(|p| p.language.as_deref())
            .collect();
        assert_eq!(languages, ["zh", "ja", "es"]);
    }

    #[test]
    fn placeholders_are_found_and_filled() {
        let template = "Write a {genre} song about {subject}; {subject} again. {Not} {} {a b}";
        assert_eq!(placeholders(template), ["genre", "subject"]);
        let filled = fill(template, &[("genre".into(), "folk".into())]);
        assert_eq!(filled, Err(vec!["subject".to_owned()]));
        let filled = fill(
            template,
            &[
                ("genre".into(), "folk".into()),
                ("subject".into(), "rain {x}".into()),
            ],
        )
        .unwrap();
        assert_eq!(
            filled,
            "Write a folk song about rain {x}; rain {x} again. {Not} {} {a b}"
        );
    }

    #[test]
    fn user_presets_override_by_name_and_add() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("haiku.toml"),
            "description = \"mine\"\nprompt = \"{x}\"\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("mine.toml"),
            "description = \"new\"\n[sampler]\ntemperature = 0.3\n",
        )
        .unwrap();
        let presets = with_user_presets(Some(dir.path())).unwrap();
        assert_eq!(presets.len(), BUILT_IN.len() + 1);
        let haiku = find(&presets, "haiku").unwrap();
        assert_eq!(haiku.description, "mine");
        assert!(haiku.file.is_some());
        assert_eq!(
            find(&presets, "mine").unwrap().sampler.temperature,
            Some(0.3)
        );

        std::fs::write(dir.path().join("bad.toml"), "description = 1\n").unwrap();
        let error = with_user_presets(Some(dir.path())).unwrap_err();
        assert!(error.starts_with("preset "), "{error}");
        assert!(error.contains("bad.toml, line 1, column 15"), "{error}");
    }

    #[test]
    fn find_by_prefix_or_explain() {
        let presets = built_in();
        assert_eq!(find(&presets, "lim").unwrap().name, "limerick");
        assert!(find(&presets, "s").unwrap_err().contains("could be any of"));
        assert!(find(&presets, "sonnet")
            .unwrap_err()
            .contains("there are: precise"));
    }
}
