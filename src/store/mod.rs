//! Run history in SQLite: one database file, WAL mode, forward migrations, full-text search.
//! Knows nothing of the terminal.

pub mod export;
pub mod record;
pub mod recorder;
mod schema;
pub mod worker;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::paths::FileStamp;

pub use record::{
    Filter, ForkLink, NewRun, RunOutcome, RunRecord, RunStatus, RunSummary, SentimentRecord,
    SweepLink, SweepMembership, ENGINE_VERSION,
};
pub use schema::{migrate_to, MIGRATIONS};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the history database {path} is not a SQLite database (corrupt?); it was left untouched — move it away to start a new one")]
    NotADatabase { path: PathBuf },
    #[error("cannot open the history database {path}: {reason}")]
    Open { path: PathBuf, reason: String },
    #[error("history database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("history record is malformed: {0}")]
    Malformed(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The default database: `REFRAIN_DATA_DIR`, else the platform data dir.
pub fn default_path() -> Option<PathBuf> {
    std::env::var_os("REFRAIN_DATA_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            directories::ProjectDirs::from("", "", "refrain").map(|d| d.data_dir().to_path_buf())
        })
        .map(|dir| dir.join("history.sqlite"))
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub struct Store {
    connection: Connection,
    path: PathBuf,
}

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

impl Store {
    /// Opens (creating with mode 0600 if missing) and migrates the database. A file that is not
    /// a SQLite database is refused before SQLite touches it.
    pub fn open(path: &Path) -> Result<Self> {
        let open_error = |reason: String| StoreError::Open {
            path: path.to_path_buf(),
            reason,
        };
        match std::fs::File::open(path) {
            Ok(mut file) => {
                let mut header = [0u8; 16];
                let read = file
                    .read(&mut header)
                    .map_err(|e| open_error(e.to_string()))?;
                if read > 0 && (read < 16 || &header != SQLITE_MAGIC) {
                    return Err(StoreError::NotADatabase {
                        path: path.to_path_buf(),
                    });
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| open_error(e.to_string()))?;
                }
                use std::os::unix::fs::OpenOptionsExt;
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .or_else(|e| {
                        if e.kind() == std::io::ErrorKind::AlreadyExists {
                            std::fs::File::open(path)
                        } else {
                            Err(e)
                        }
                    })
                    .map_err(|e| open_error(e.to_string()))?;
            }
            Err(error) => return Err(open_error(error.to_string())),
        }
        let mut connection = Connection::open(path).map_err(|e| open_error(e.to_string()))?;
        connection.busy_timeout(Duration::from_secs(10))?;
        connection
            .query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(ref f, _)
                    if f.code == rusqlite::ErrorCode::NotADatabase =>
                {
                    StoreError::NotADatabase {
                        path: path.to_path_buf(),
                    }
                }
                other => open_error(other.to_string()),
            })?;
        connection.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")?;
        migrate_to(&mut connection, MIGRATIONS.len())?;
        let store = Self {
            connection,
            path: path.to_path_buf(),
        };
        store.mark_orphans_interrupted()?;
        Ok(store)
    }

    /// Runs `work` in one transaction (bulk imports, benchmarks).
    pub fn in_transaction<T>(&self, work: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        self.connection.execute_batch("BEGIN IMMEDIATE")?;
        match work(self) {
            Ok(value) => {
                self.connection.execute_batch("COMMIT")?;
                Ok(value)
            }
            Err(error) => {
                let _ = self.connection.execute_batch("ROLLBACK");
                Err(error)
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs left "running" by a process that no longer exists (killed) were interrupted.
    fn mark_orphans_interrupted(&self) -> Result<()> {
        let mut statement = self
            .connection
            .prepare("SELECT id, pid FROM runs WHERE status = 'running'")?;
        let orphans: Vec<i64> = statement
            .query_map([], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, Option<i64>>(1)?))
            })?
            .filter_map(|row| row.ok())
            .filter(|(_, pid)| !pid.is_some_and(process_alive))
            .map(|(id, _)| id)
            .collect();
        for id in orphans {
            self.connection.execute(
                "UPDATE runs SET status = 'interrupted', ended_at = updated_at WHERE id = ?1 AND status = 'running'",
                params![id],
            )?;
        }
        Ok(())
    }

    /// Writes the run's row as generation starts; returns its id.
    pub fn begin_run(&self, run: &NewRun) -> Result<i64> {
        let now = now_ms();
        let sampler = serde_json::to_string(&run.sampler)
            .map_err(|e| StoreError::Malformed(e.to_string()))?;
        self.connection.execute(
            "INSERT INTO runs (started_at, updated_at, status, pid, model_name, model_path, model_size,
                engine_version, templated_prompt, system_prompt, user_prompt, raw, template, sampler,
                seed, temperature)
             VALUES (?1, ?1, 'running', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                now,
                std::process::id(),
                run.model_name,
                run.model_path,
                run.model_size as i64,
                run.engine_version,
                run.templated_prompt,
                run.system_prompt,
                run.user_prompt,
                run.raw,
                run.template,
                sampler,
                run.sampler.seed.unwrap_or(0),
                f64::from(run.sampler.temperature),
            ],
        )?;
        Ok(self.connection.last_insert_rowid())
    }

    /// Marks run `id` as forked from `link.parent` at token `link.index`.
    pub fn link_fork(&self, id: i64, link: ForkLink) -> Result<()> {
        self.connection.execute(
            "UPDATE runs SET parent_id = ?2, fork_index = ?3 WHERE id = ?1",
            params![id, link.parent, link.index],
        )?;
        Ok(())
    }

    /// A new sweep; `varied` names what differs between its variants ("temperature × seed").
    pub fn begin_sweep(&self, varied: &str) -> Result<i64> {
        self.connection.execute(
            "INSERT INTO sweeps (started_at, varied) VALUES (?1, ?2)",
            params![now_ms(), varied],
        )?;
        Ok(self.connection.last_insert_rowid())
    }

    /// Marks run `id` as variant `index` of sweep `sweep_id`.
    pub fn link_to_sweep(&self, id: i64, link: SweepLink) -> Result<()> {
        self.connection.execute(
            "UPDATE runs SET sweep_id = ?2, sweep_index = ?3 WHERE id = ?1",
            params![id, link.id, link.index],
        )?;
        Ok(())
    }

    /// What a sweep varied, and its runs in variant order.
    pub fn sweep(&self, sweep_id: i64) -> Result<Option<(String, Vec<RunRecord>)>> {
        let varied: Option<String> = self
            .connection
            .query_row(
                "SELECT varied FROM sweeps WHERE id = ?1",
                params![sweep_id],
                |row| row.get(0),
            )
            .optional()?;
        let Some(varied) = varied else {
            return Ok(None);
        };
        let mut statement = self.connection.prepare_cached(&format!(
            "SELECT {RECORD_COLUMNS} FROM runs WHERE sweep_id = ?1 ORDER BY sweep_index"
        ))?;
        let runs = statement
            .query_map(params![sweep_id], read_record)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Some((varied, runs)))
    }

    /// The partial output so far (called at most every few hundred ms while generating).
    pub fn record_progress(&self, id: i64, output: &str) -> Result<()> {
        self.connection.execute(
            "UPDATE runs SET output = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'running'",
            params![id, output, now_ms()],
        )?;
        Ok(())
    }

    pub fn finish_run(&self, id: i64, outcome: &RunOutcome) -> Result<()> {
        let now = now_ms();
        self.connection.execute(
            "UPDATE runs SET status = ?2, output = ?3, stop_reason = ?4, stats = ?5, error = ?6,
                ended_at = ?7, updated_at = ?7 WHERE id = ?1",
            params![
                id,
                outcome.status.as_str(),
                outcome.output,
                to_json(&outcome.stop_reason)?,
                to_json(&outcome.stats)?,
                outcome.error,
                now,
            ],
        )?;
        Ok(())
    }

    pub fn set_sentiment(&self, id: i64, sentiment: &SentimentRecord) -> Result<()> {
        let text =
            serde_json::to_string(sentiment).map_err(|e| StoreError::Malformed(e.to_string()))?;
        self.connection.execute(
            "UPDATE runs SET sentiment = ?2 WHERE id = ?1",
            params![id, text],
        )?;
        Ok(())
    }

    pub fn set_fingerprint(&self, id: i64, sha256: &str) -> Result<()> {
        self.connection.execute(
            "UPDATE runs SET model_sha256 = ?2 WHERE id = ?1",
            params![id, sha256],
        )?;
        Ok(())
    }

    pub fn set_starred(&self, id: i64, starred: bool) -> Result<bool> {
        Ok(self.connection.execute(
            "UPDATE runs SET starred = ?2 WHERE id = ?1",
            params![id, starred],
        )? > 0)
    }

    pub fn set_note(&self, id: i64, note: &str) -> Result<bool> {
        Ok(self
            .connection
            .execute("UPDATE runs SET note = ?2 WHERE id = ?1", params![id, note])?
            > 0)
    }

    pub fn delete(&self, id: i64) -> Result<bool> {
        Ok(self
            .connection
            .execute("DELETE FROM runs WHERE id = ?1", params![id])?
            > 0)
    }

    pub fn get(&self, id: i64) -> Result<Option<RunRecord>> {
        let record = self
            .connection
            .query_row(
                &format!("SELECT {RECORD_COLUMNS} FROM runs WHERE id = ?1"),
                params![id],
                read_record,
            )
            .optional()?;
        Ok(record)
    }

    pub fn count(&self) -> Result<i64> {
        Ok(self
            .connection
            .query_row("SELECT COUNT(*) FROM runs", [], |row| row.get(0))?)
    }

    /// Newest first.
    pub fn list(&self, filter: &Filter) -> Result<Vec<RunSummary>> {
        self.summaries(None, filter)
    }

    /// Full-text search over prompts and outputs (every word must appear; a word is matched as
    /// a prefix), newest first.
    pub fn search(&self, query: &str, filter: &Filter) -> Result<Vec<RunSummary>> {
        // Split as the index's tokenizer does (letters and digits), so "don't" or "—" never
        // become a phrase the index cannot hold.
        let terms: Vec<String> = query
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .map(|word| format!("\"{word}\"*"))
            .collect();
        if terms.is_empty() {
            return self.list(filter);
        }
        self.summaries(Some(terms.join(" ")), filter)
    }

    fn summaries(&self, fts: Option<String>, filter: &Filter) -> Result<Vec<RunSummary>> {
        let mut conditions = Vec::new();
        let mut values: Vec<rusqlite::types::Value> = Vec::new();
        let searching = fts.is_some();
        if let Some(query) = fts {
            values.push(query.into());
            conditions.push(format!("runs_fts MATCH ?{}", values.len()));
        }
        if filter.starred_only {
            conditions.push("runs.starred = 1".into());
        }
        if let Some(model) = &filter.model {
            let escaped = model
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            values.push(format!("%{escaped}%").into());
            conditions.push(format!(
                "(runs.model_name LIKE ?{0} ESCAPE '\\' OR runs.model_path LIKE ?{0} ESCAPE '\\')",
                values.len()
            ));
        }
        if let Some(since) = filter.since {
            values.push(since.into());
            conditions.push(format!("runs.started_at >= ?{}", values.len()));
        }
        if let Some(until) = filter.until {
            values.push(until.into());
            conditions.push(format!("runs.started_at <= ?{}", values.len()));
        }
        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        values.push((filter.limit as i64).into());
        // Searching walks the full-text index newest-id first and stops at the limit, instead of
        // collecting every match of a common word and sorting them.
        let (from, order) = if searching {
            (
                "runs_fts JOIN runs ON runs.id = runs_fts.rowid",
                "runs_fts.rowid DESC",
            )
        } else {
            ("runs", "runs.started_at DESC, runs.id DESC")
        };
        let sql = format!(
            "SELECT runs.id, runs.started_at, runs.model_name, runs.temperature, runs.seed,
                substr(runs.user_prompt, 1, 200), runs.status, runs.stop_reason, runs.starred,
                runs.sentiment, runs.sweep_id
             FROM {from} {where_clause} ORDER BY {order} LIMIT ?{}",
            values.len()
        );
        let mut statement = self.connection.prepare_cached(&sql)?;
        let rows = statement.query_map(rusqlite::params_from_iter(values), |row| {
            let prompt: String = row.get(5)?;
            let sentiment: Option<String> = row.get(9)?;
            Ok(RunSummary {
                id: row.get(0)?,
                started_at: row.get(1)?,
                model_name: row.get(2)?,
                temperature: row.get(3)?,
                seed: row.get::<_, i64>(4)? as u32,
                first_line: prompt.lines().next().unwrap_or("").to_owned(),
                status: RunStatus::parse(&row.get::<_, String>(6)?),
                stop_reason: row
                    .get::<_, Option<String>>(7)?
                    .and_then(|s| serde_json::from_str(&s).ok()),
                starred: row.get(8)?,
                sentiment: sentiment
                    .and_then(|s| serde_json::from_str::<SentimentRecord>(&s).ok())
                    .and_then(|s| s.headline()),
                sweep_id: row.get(10)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The SHA-256 of a model file, computed once and cached by (path, size, mtime).
    pub fn fingerprint(&self, model: &Path) -> Result<Option<String>> {
        let Some(identity) = FileStamp::of(model) else {
            return Ok(None);
        };
        if let Some(cached) = self.cached_fingerprint_of(&identity)? {
            return Ok(Some(cached));
        }
        let Some(digest) = sha256_file(&identity.path) else {
            return Ok(None);
        };
        self.connection.execute(
            "INSERT OR REPLACE INTO model_fingerprints (path, size, modified_ns, sha256) VALUES (?1, ?2, ?3, ?4)",
            params![identity.path.display().to_string(), identity.size as i64, identity.modified_ns, digest],
        )?;
        Ok(Some(digest))
    }

    /// The fingerprint if it is already known; never reads the model file.
    pub fn cached_fingerprint(&self, model: &Path) -> Result<Option<String>> {
        match FileStamp::of(model) {
            Some(identity) => self.cached_fingerprint_of(&identity),
            None => Ok(None),
        }
    }

    fn cached_fingerprint_of(&self, identity: &FileStamp) -> Result<Option<String>> {
        Ok(self
            .connection
            .query_row(
                "SELECT sha256 FROM model_fingerprints WHERE path = ?1 AND size = ?2 AND modified_ns = ?3",
                params![identity.path.display().to_string(), identity.size as i64, identity.modified_ns],
                |row| row.get(0),
            )
            .optional()?)
    }
}

fn to_json<T: serde::Serialize>(value: &Option<T>) -> Result<Option<String>> {
    value
        .as_ref()
        .map(|v| serde_json::to_string(v).map_err(|e| StoreError::Malformed(e.to_string())))
        .transpose()
}

fn sha256_file(path: &Path) -> Option<String> {
    use sha2::Digest;
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = file.read(&mut buffer).ok()?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Some(
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

fn process_alive(pid: i64) -> bool {
    // SAFETY: kill with signal 0 only checks that the process exists.
    pid > 0
        && (unsafe { libc::kill(pid as libc::pid_t, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
}

const RECORD_COLUMNS: &str =
    "id, started_at, ended_at, status, model_sha256, model_name, model_path, model_size,
    engine_version, templated_prompt, system_prompt, user_prompt, raw, template, sampler, output,
    stop_reason, stats, sentiment, starred, note, error, sweep_id, sweep_index,
    (SELECT varied FROM sweeps WHERE sweeps.id = runs.sweep_id), parent_id, fork_index";

fn read_record(row: &Row<'_>) -> rusqlite::Result<RunRecord> {
    let json_error = |index: usize, error: serde_json::Error| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Text,
            Box::new(error),
        )
    };
    let sampler: String = row.get(14)?;
    let optional_json = |index: usize| -> rusqlite::Result<Option<String>> { row.get(index) };
    Ok(RunRecord {
        id: row.get(0)?,
        started_at: row.get(1)?,
        ended_at: row.get(2)?,
        status: RunStatus::parse(&row.get::<_, String>(3)?),
        model_sha256: row.get(4)?,
        run: NewRun {
            model_name: row.get(5)?,
            model_path: row.get(6)?,
            model_size: row.get::<_, i64>(7)? as u64,
            engine_version: row.get(8)?,
            templated_prompt: row.get(9)?,
            system_prompt: row.get(10)?,
            user_prompt: row.get(11)?,
            raw: row.get(12)?,
            template: row.get(13)?,
            sampler: serde_json::from_str(&sampler).map_err(|e| json_error(14, e))?,
        },
        output: row.get(15)?,
        stop_reason: optional_json(16)?
            .map(|s| serde_json::from_str(&s))
            .transpose()
            .map_err(|e| json_error(16, e))?,
        stats: optional_json(17)?
            .map(|s| serde_json::from_str(&s))
            .transpose()
            .map_err(|e| json_error(17, e))?,
        sentiment: optional_json(18)?
            .map(|s| serde_json::from_str(&s))
            .transpose()
            .map_err(|e| json_error(18, e))?,
        starred: row.get(19)?,
        note: row.get(20)?,
        error: row.get(21)?,
        sweep: match (
            row.get::<_, Option<i64>>(22)?,
            row.get::<_, Option<i64>>(23)?,
        ) {
            (Some(id), Some(index)) => Some(SweepMembership {
                id,
                index: index as u32,
                varied: row.get::<_, Option<String>>(24)?.unwrap_or_default(),
            }),
            _ => None,
        },
        fork: match (
            row.get::<_, Option<i64>>(25)?,
            row.get::<_, Option<i64>>(26)?,
        ) {
            (Some(parent), Some(index)) => Some(ForkLink {
                parent,
                index: index as u32,
            }),
            _ => None,
        },
    })
}
