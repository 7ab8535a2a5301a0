//! Finding every GGUF on the machine: ./models, directories the user names, and the caches of
//! Hugging Face, llama.cpp, LM Studio and Ollama. Missing places are skipped silently; a file
//! that cannot be read is listed as invalid with the reason.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::gguf::{read_summary, GgufSummary};

/// Where a model was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    /// "models dir", "Hugging Face", "llama.cpp cache", "LM Studio", "Ollama", "your dirs"
    /// (--dir, the config file's model.dirs, REFRAIN_MODEL_DIRS).
    pub kind: &'static str,
    pub root: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FoundModel {
    /// How to name it with `--model`: the file stem, "org/repo/file" for Hugging Face,
    /// "name:tag" for Ollama.
    pub name: String,
    /// The file to load (the first part of a split model).
    pub path: PathBuf,
    /// Bytes on disk, all parts together.
    pub size: u64,
    pub parts: u32,
    pub source: Source,
    /// The header's facts, or why the file is unusable.
    pub summary: Result<GgufSummary, String>,
}

/// The places to look, in order; `extra` are directories from `--dir` or `REFRAIN_MODEL_DIRS`.
pub fn default_sources(extra: &[PathBuf]) -> Vec<Source> {
    let env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let home = env("HOME").unwrap_or_default();
    let mut sources = vec![Source {
        kind: "models dir",
        root: PathBuf::from("models"),
    }];
    sources.extend(extra.iter().map(|dir| Source {
        kind: "your dirs",
        root: dir.clone(),
    }));
    let hf = env("HF_HUB_CACHE")
        .or_else(|| env("HF_HOME").map(|h| h.join("hub")))
        .unwrap_or_else(|| home.join(".cache/huggingface/hub"));
    sources.push(Source {
        kind: "Hugging Face",
        root: hf,
    });
    let llama = env("LLAMA_CACHE").unwrap_or_else(|| home.join(".cache/llama.cpp"));
    sources.push(Source {
        kind: "llama.cpp cache",
        root: llama,
    });
    for root in [
        home.join(".lmstudio/models"),
        home.join(".cache/lm-studio/models"),
    ] {
        sources.push(Source {
            kind: "LM Studio",
            root,
        });
    }
    let ollama = env("OLLAMA_MODELS").unwrap_or_else(|| home.join(".ollama/models"));
    sources.push(Source {
        kind: "Ollama",
        root: ollama,
    });
    sources
}

/// Every model in `sources`, each file once (the first place that names it wins).
pub fn discover(sources: &[Source]) -> Vec<FoundModel> {
    let mut found: Vec<FoundModel> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for source in sources {
        let candidates = match source.kind {
            "Hugging Face" => hugging_face(&source.root),
            "Ollama" => ollama(&source.root),
            _ => gguf_files(&source.root)
                .into_iter()
                .map(|path| (stem(&path), path))
                .collect(),
        };
        for (name, paths) in group_splits(candidates) {
            let first = paths[0].clone();
            let key = std::fs::canonicalize(&first).unwrap_or_else(|_| first.clone());
            if !seen.insert(key) {
                continue;
            }
            let size = paths
                .iter()
                .filter_map(|p| std::fs::metadata(p).ok())
                .map(|m| m.len())
                .sum();
            found.push(FoundModel {
                name,
                summary: read_summary(&first),
                path: first,
                size,
                parts: paths.len() as u32,
                source: source.clone(),
            });
        }
    }
    found
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// `*.gguf` files below `root` (following links, a few levels deep).
fn gguf_files(root: &Path) -> Vec<PathBuf> {
    files_below(root, |path| {
        path.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gguf"))
    })
}

/// Files below `root` that `keep` accepts, sorted, at most six directories down.
fn files_below(root: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    fn walk(dir: &Path, depth: u32, keep: &dyn Fn(&Path) -> bool, files: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for path in entries.filter_map(Result::ok).map(|e| e.path()) {
            if path.is_dir() {
                if depth > 0 {
                    walk(&path, depth - 1, keep, files);
                }
            } else if keep(&path) {
                files.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(root, 6, &keep, &mut files);
    files.sort();
    files
}

/// `models--org--repo/snapshots/<revision>/**/*.gguf` (links into `blobs/`).
fn hugging_face(root: &Path) -> Vec<(String, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut repos: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    repos.sort();
    for repo in repos {
        let Some(dir_name) = repo.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(repo_id) = dir_name.strip_prefix("models--") else {
            continue;
        };
        let repo_id = repo_id.replacen("--", "/", 1);
        for file in gguf_files(&repo.join("snapshots")) {
            found.push((format!("{repo_id}/{}", stem(&file)), file));
        }
    }
    found
}

/// Ollama's manifests name the blobs that hold GGUF model layers.
fn ollama(root: &Path) -> Vec<(String, PathBuf)> {
    let manifests = files_below(&root.join("manifests"), |_| true);
    let mut found = Vec::new();
    for manifest in manifests {
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let Some(layers) = json["layers"].as_array() else {
            continue;
        };
        for layer in layers {
            if layer["mediaType"] != "application/vnd.ollama.image.model" {
                continue;
            }
            let Some(digest) = layer["digest"].as_str() else {
                continue;
            };
            let blob = root.join("blobs").join(digest.replace(':', "-"));
            // manifests/<registry>/<namespace>/<model>/<tag>
            let tag = manifest
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let model = manifest
                .parent()
                .and_then(|p| p.file_name())
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            found.push((format!("{model}:{tag}"), blob));
        }
    }
    found
}

/// Groups `name-00001-of-00003` parts under one name; other files stand alone.
fn group_splits(candidates: Vec<(String, PathBuf)>) -> Vec<(String, Vec<PathBuf>)> {
    let mut groups: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    let mut order = Vec::new();
    for (name, path) in candidates {
        let (base, _) = split_part(&name).unwrap_or((name.clone(), 0));
        if !groups.contains_key(&base) {
            order.push(base.clone());
        }
        groups.entry(base).or_default().push(path);
    }
    order
        .into_iter()
        .filter_map(|name| {
            let mut paths = groups.remove(&name)?;
            paths.sort();
            Some((name, paths))
        })
        .collect()
}

/// "model-00002-of-00003" → ("model", 2).
fn split_part(name: &str) -> Option<(String, u32)> {
    let (head, total) = name.rsplit_once("-of-")?;
    if total.len() != 5 || !total.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (base, part) = head.rsplit_once('-')?;
    if part.len() != 5 {
        return None;
    }
    Some((base.to_owned(), part.parse().ok()?))
}

/// Resolves `--model NAME`: an exact name, else a unique case-insensitive prefix of one.
pub fn resolve_name(models: &[FoundModel], wanted: &str) -> Result<PathBuf, String> {
    if let Some(model) = models.iter().find(|m| m.name == wanted) {
        return Ok(model.path.clone());
    }
    let lower = wanted.to_lowercase();
    let matches: Vec<&FoundModel> = models
        .iter()
        .filter(|m| m.name.to_lowercase().starts_with(&lower))
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.path.clone()),
        [] => Err(format!(
            "no model file or known model named '{wanted}' (see `refrain models`)"
        )),
        many => Err(format!(
            "'{wanted}' matches {} models: {}; give more of the name",
            many.len(),
            many.iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn split_names() {
        assert_eq!(
            super::split_part("llama-70b-q4-00002-of-00003"),
            Some(("llama-70b-q4".into(), 2))
        );
        assert_eq!(super::split_part("model-q4"), None);
        assert_eq!(super::split_part("x-1-of-2"), None);
    }
}
