// The history database's tables, created or checked at open. Sizing notes, since rollup rows are
// nearly all of the disk:
// - rollup tables are WITHOUT ROWID with primary key (series_id, bucket): rows of one series sit
//   together (a series over a range is one B-tree range) and no separate rowid or index is kept;
// - buckets are minute or hour numbers since the epoch (4 bytes), not milliseconds (6);
// - values have INTEGER affinity: counts are whole numbers, stored in 0 to 3 bytes instead of an
//   8-byte REAL (a fractional value still stores as REAL, exactly).
// A series is one row of `series`; '' means "all" or "unknown" and node '*' is the cluster.

import type { Database } from 'better-sqlite3';
import { HistoryStoreError } from './history-errors.js';

export const SCHEMA_VERSION = 1;

const rollupTable = (name: string): string => `
  CREATE TABLE IF NOT EXISTS ${name} (
    series_id INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    min_value INTEGER NOT NULL,
    max_value INTEGER NOT NULL,
    sum_value INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    last_value INTEGER NOT NULL,
    PRIMARY KEY (series_id, bucket)
  ) WITHOUT ROWID;`;

export const SCHEMA_SQL = `
  CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY,
    node TEXT NOT NULL,
    port INTEGER NOT NULL,
    direction TEXT NOT NULL,
    state TEXT NOT NULL,
    namespace TEXT NOT NULL DEFAULT '',
    pod TEXT NOT NULL DEFAULT '',
    workload TEXT NOT NULL DEFAULT '',
    UNIQUE (node, port, direction, state, namespace, pod, workload)
  );
  ${rollupTable('rollup_minute')}
  ${rollupTable('rollup_hour')}
`;

/** Create the tables in a new database; refuse one written by a newer fleetstat. */
export function migrate(db: Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new HistoryStoreError(`history database schema ${version} is newer than this fleetstat's (${SCHEMA_VERSION})`);
  }
  if (version === SCHEMA_VERSION) return;
  db.transaction(() => {
    db.exec(SCHEMA_SQL);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}
