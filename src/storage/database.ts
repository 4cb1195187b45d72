/** Opening the run store's SQLite database: its settings, the schema version check, migrations. */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Database as DB, Statement } from 'better-sqlite3';
import { InputError } from '../diagnostics/diagnostic.js';
import { SCHEMA_VERSION, migrate, schemaVersion } from './schema.js';

/** A store that cannot be used (newer schema, unwritable directory): bad input for the CLI (exit 2). */
export class StoreError extends InputError {}

/** A statement of the store's current connection, prepared once. */
export type Prepare = (sql: string) => Statement;

/**
 * Opens (creating, migrating) `<home>/runner.db` in WAL mode. A schema newer than this
 * runner's, or a database that cannot be opened, is a StoreError.
 */
export function openDatabase(home: string): DB {
  const file = path.join(home, 'runner.db');
  let db: DB | undefined;
  try {
    fs.mkdirSync(home, { recursive: true });
    db = new Database(file);
    db.pragma('busy_timeout = 10000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    const found = schemaVersion(db);
    if (found > SCHEMA_VERSION) {
      throw new StoreError(`the run store ${file} has schema version ${found}, newer than this runner's ${SCHEMA_VERSION}: upgrade the runner`);
    }
    migrate(db);
  } catch (err) {
    db?.close();
    if (err instanceof StoreError) throw err;
    throw new StoreError(`cannot open the run store ${file}: ${(err as Error).message}`);
  }
  return db;
}
