/**
 * The store's schema as an ordered list of migrations. `PRAGMA user_version` holds the
 * number of migrations applied; each one runs in its own IMMEDIATE transaction that
 * re-reads the version, so two runners opening a fresh store at once apply each exactly
 * once. Migrations are append-only: never edit one that has shipped, add the next.
 */
import type { Database } from 'better-sqlite3';

/** One step of the schema, applied once, in order. */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/** Every migration, oldest first; `version` is its 1-based position. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'runs, steps and events',
    sql: `
      CREATE TABLE runs (
        id          TEXT PRIMARY KEY,
        status      TEXT NOT NULL,
        trigger     TEXT NOT NULL,          -- JSON: {"type":"manual"} | {"type":"schedule","schedule","tick"} | {"type":"retry","retry_of"} (v7)
        env         TEXT NOT NULL,
        selection   TEXT NOT NULL,
        job         TEXT,
        created_at  TEXT NOT NULL,
        started_at  TEXT,
        ended_at    TEXT,
        error       TEXT
      );
      CREATE INDEX runs_created ON runs (created_at);
      CREATE TABLE steps (
        run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        key         TEXT NOT NULL,
        position    INTEGER NOT NULL,       -- plan order
        status      TEXT NOT NULL,
        attempts    INTEGER NOT NULL DEFAULT 0,
        started_at  TEXT,
        ended_at    TEXT,
        exit_code   INTEGER,
        metadata    TEXT,                   -- JSON object
        error       TEXT,
        PRIMARY KEY (run_id, key)
      );
      CREATE TABLE events (
        id          INTEGER PRIMARY KEY,
        run_id      TEXT NOT NULL,
        ts          TEXT NOT NULL,
        type        TEXT NOT NULL,
        key         TEXT,
        attempt     INTEGER,
        status      TEXT,
        message     TEXT,
        data        TEXT                    -- JSON object
      );
      CREATE INDEX events_run ON events (run_id, id);
    `,
  },
  {
    version: 2,
    description: 'run owners (for the reaper), pools, alerts',
    sql: `
      ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
      ALTER TABLE runs ADD COLUMN owner_start TEXT;
      ALTER TABLE runs ADD COLUMN owner_machine TEXT;
      ALTER TABLE runs ADD COLUMN heartbeat_at TEXT;
      ALTER TABLE runs ADD COLUMN alert TEXT;  -- JSON: {"status","detail"?,"at"?}
      CREATE INDEX runs_status ON runs (status);
      CREATE INDEX steps_key ON steps (key, ended_at);
      CREATE TABLE pool_slots (
        pool        TEXT NOT NULL,
        run_id      TEXT NOT NULL,
        key         TEXT NOT NULL,
        acquired_at TEXT NOT NULL,
        PRIMARY KEY (pool, run_id, key)
      );
    `,
  },
  {
    version: 3,
    description: 'schedule state, ticks, watchers',
    sql: `
      CREATE TABLE schedule_state (
        name        TEXT PRIMARY KEY,
        status      TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      );
      CREATE TABLE ticks (
        schedule    TEXT NOT NULL,
        tick_time   TEXT NOT NULL,
        run_id      TEXT,
        outcome     TEXT NOT NULL,
        reason      TEXT,
        created_at  TEXT NOT NULL,
        UNIQUE (schedule, tick_time)
      );
      CREATE TABLE watcher_state (
        name        TEXT PRIMARY KEY,
        status      TEXT NOT NULL,
        cursor      TEXT,
        updated_at  TEXT NOT NULL
      );
      CREATE TABLE watcher_alerts (
        watcher     TEXT NOT NULL,
        run_id      TEXT NOT NULL,
        sent_at     TEXT NOT NULL,
        UNIQUE (watcher, run_id)
      );
    `,
  },
  {
    version: 4,
    description: 'serve processes (health heartbeat, who is serving)',
    sql: `
      CREATE TABLE serve_processes (
        id            TEXT PRIMARY KEY,     -- a UUID per serve process
        pid           INTEGER NOT NULL,
        host          TEXT NOT NULL,        -- hostname
        address       TEXT,                 -- where its HTTP server listens
        started_at    TEXT NOT NULL,
        heartbeat_at  TEXT NOT NULL
      );
    `,
  },
  {
    version: 5,
    description: "the run's pipelines directory",
    sql: `ALTER TABLE runs ADD COLUMN pipelines_dir TEXT;`,
  },
  {
    version: 6,
    description: 'watcher cursors, alert claims and poll errors (src/watch/state.ts)',
    sql: `
      ALTER TABLE watcher_state ADD COLUMN status_source TEXT NOT NULL DEFAULT 'set';  -- 'default': the row only holds the cursor
      ALTER TABLE watcher_state ADD COLUMN last_poll_at TEXT;
      ALTER TABLE watcher_state ADD COLUMN last_success_at TEXT;
      ALTER TABLE watcher_state ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE watcher_state ADD COLUMN last_error TEXT;
      -- Rebuilt: a claim exists before its alert is sent (sent_at NULL until then).
      CREATE TABLE watcher_alerts_v6 (
        watcher         TEXT NOT NULL,
        run_id          TEXT NOT NULL,
        status          TEXT NOT NULL,      -- claimed | sending | sent | printed | failed | skipped | uncertain | given_up
        job             TEXT,
        location        TEXT,
        run_updated_at  REAL,               -- Dagster's updateTime of the failed run
        claimed_at      TEXT NOT NULL,
        owner           TEXT,
        owner_pid       INTEGER,
        owner_start     TEXT,
        owner_machine   TEXT,
        lease_until     TEXT,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT,
        message         TEXT,               -- JSON: the masked Slack message, kept for retries
        targets         TEXT,               -- JSON: notification name -> sent | printed | failed
        detail          TEXT,
        sent_at         TEXT,
        UNIQUE (watcher, run_id)
      );
      INSERT INTO watcher_alerts_v6 (watcher, run_id, status, claimed_at, sent_at) SELECT watcher, run_id, 'sent', sent_at, sent_at FROM watcher_alerts;
      DROP TABLE watcher_alerts;
      ALTER TABLE watcher_alerts_v6 RENAME TO watcher_alerts;
      CREATE INDEX watcher_alerts_status ON watcher_alerts (watcher, status);
      CREATE INDEX watcher_alerts_claimed ON watcher_alerts (watcher, claimed_at);
      CREATE TABLE watcher_events (
        id        INTEGER PRIMARY KEY,
        watcher   TEXT NOT NULL,
        kind      TEXT NOT NULL,            -- error | recovered
        detail    TEXT,
        first_at  TEXT NOT NULL,
        last_at   TEXT NOT NULL,
        count     INTEGER NOT NULL DEFAULT 1
      );
      CREATE INDEX watcher_events_at ON watcher_events (watcher, last_at);
    `,
  },
  {
    version: 7,
    description: 'the run a retry re-executes (`runner retry`)',
    sql: `
      ALTER TABLE runs ADD COLUMN retry_of TEXT;  -- the id of the run whose unsucceeded steps this run re-executes
      CREATE INDEX runs_retry_of ON runs (retry_of);
    `,
  },
  {
    version: 8,
    description: 'runs a stopping serve handed over to the next one (their Kubernetes Jobs run on)',
    sql: `
      ALTER TABLE runs ADD COLUMN handed_over_at TEXT;  -- set while no runner owns the run: the next serve re-attaches and carries it on
      ALTER TABLE steps ADD COLUMN handed_over TEXT;    -- the Job (namespace/name) of a handed-over step's attempt
    `,
  },
];

/** The schema version this runner writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** The store's current schema version (0 for a new file). */
export function schemaVersion(db: Database): number {
  return Number(db.pragma('user_version', { simple: true }));
}

/**
 * Applies the migrations after the store's version, up to `target` (all by default; tests
 * stop early to build an old store). Returns the version reached. A store newer than this
 * runner is left alone: the caller refuses to use it.
 */
export function migrate(db: Database, target = SCHEMA_VERSION): number {
  for (const m of MIGRATIONS) {
    if (m.version > target) break;
    if (schemaVersion(db) >= m.version) continue;
    db.transaction(() => {
      if (schemaVersion(db) >= m.version) return; // another runner got here first
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
  return schemaVersion(db);
}
