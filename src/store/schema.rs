//! The database schema as forward migrations; `PRAGMA user_version` records how far a file is.

use rusqlite::Connection;

/// Each entry moves the schema one version forward; never edit one that has shipped.
pub const MIGRATIONS: &[&str] = &[
    // 1: runs and the model fingerprint cache.
    "CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at INTEGER NOT NULL,
        ended_at INTEGER,
        updated_at INTEGER NOT NULL,
        status TEXT NOT NULL,
        pid INTEGER,
        model_name TEXT NOT NULL,
        model_path TEXT NOT NULL,
        model_size INTEGER NOT NULL,
        model_sha256 TEXT,
        engine_version TEXT NOT NULL,
        templated_prompt TEXT NOT NULL,
        system_prompt TEXT,
        user_prompt TEXT NOT NULL,
        raw INTEGER NOT NULL,
        template TEXT,
        sampler TEXT NOT NULL,
        seed INTEGER NOT NULL,
        temperature REAL NOT NULL,
        output TEXT NOT NULL DEFAULT '',
        stop_reason TEXT,
        stats TEXT,
        sentiment TEXT,
        starred INTEGER NOT NULL DEFAULT 0,
        note TEXT NOT NULL DEFAULT '',
        error TEXT
    );
    CREATE INDEX runs_by_start ON runs(started_at DESC);
    CREATE TABLE model_fingerprints (
        path TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        modified_ns INTEGER NOT NULL,
        sha256 TEXT NOT NULL
    );",
    // 2: full-text search over prompts and outputs, kept in step by triggers.
    "CREATE VIRTUAL TABLE runs_fts USING fts5(
        user_prompt, system_prompt, output, content='runs', content_rowid='id'
    );
    INSERT INTO runs_fts(runs_fts) VALUES ('rebuild');
    CREATE TRIGGER runs_fts_insert AFTER INSERT ON runs BEGIN
        INSERT INTO runs_fts(rowid, user_prompt, system_prompt, output)
        VALUES (new.id, new.user_prompt, new.system_prompt, new.output);
    END;
    CREATE TRIGGER runs_fts_delete AFTER DELETE ON runs BEGIN
        INSERT INTO runs_fts(runs_fts, rowid, user_prompt, system_prompt, output)
        VALUES ('delete', old.id, old.user_prompt, old.system_prompt, old.output);
    END;
    CREATE TRIGGER runs_fts_update AFTER UPDATE OF user_prompt, system_prompt, output ON runs BEGIN
        INSERT INTO runs_fts(runs_fts, rowid, user_prompt, system_prompt, output)
        VALUES ('delete', old.id, old.user_prompt, old.system_prompt, old.output);
        INSERT INTO runs_fts(rowid, user_prompt, system_prompt, output)
        VALUES (new.id, new.user_prompt, new.system_prompt, new.output);
    END;",
    // 3: finding runs left running (by a killed process) without scanning every run.
    "CREATE INDEX runs_running ON runs(status) WHERE status = 'running';",
    // 4: sweeps — one prompt run with several sampler settings; each variant is a run linked
    // to its sweep, in order.
    "CREATE TABLE sweeps (
        id INTEGER PRIMARY KEY,
        started_at INTEGER NOT NULL,
        varied TEXT NOT NULL
    );
    ALTER TABLE runs ADD COLUMN sweep_id INTEGER REFERENCES sweeps(id);
    ALTER TABLE runs ADD COLUMN sweep_index INTEGER;
    CREATE INDEX runs_by_sweep ON runs(sweep_id, sweep_index) WHERE sweep_id IS NOT NULL;",
    // 5: forks — a run continued from token `fork_index` of its parent with another token.
    "ALTER TABLE runs ADD COLUMN parent_id INTEGER;
    ALTER TABLE runs ADD COLUMN fork_index INTEGER;",
];

pub fn version(connection: &Connection) -> rusqlite::Result<usize> {
    connection.query_row("PRAGMA user_version", [], |row| {
        row.get::<_, i64>(0).map(|v| v as usize)
    })
}

/// Applies the migrations after the file's version, up to `target`, each in a transaction
/// that takes the write lock first and re-reads the version inside it, so two processes opening
/// an old file at once migrate it once.
pub fn migrate_to(connection: &mut Connection, target: usize) -> rusqlite::Result<()> {
    while version(connection)? < target.min(MIGRATIONS.len()) {
        let transaction =
            connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let current = version(&transaction)?;
        if current < target.min(MIGRATIONS.len()) {
            transaction.execute_batch(MIGRATIONS[current])?;
            transaction.execute_batch(&format!("PRAGMA user_version = {}", current + 1))?;
        }
        transaction.commit()?;
    }
    Ok(())
}
