// The history database's tables, created or checked at open. Sizing and write-cost notes, since
// rollup rows are nearly all of the disk and of the write work:
// - rollup tables are WITHOUT ROWID with primary key (bucket, series_id): a flush writes one
//   bucket for every series, and those rows sit together, so a flush dirties a few hundred pages
//   however many series there are (keyed by series first, each series' newest row sits on its
//   own page: one dirty page per series per flush). Reading one series seeks once per bucket
//   (or packed group); the readers generate the buckets of a range (rollup-reader.ts);
// - the minutes of hours not sealed yet are in memory; rollup_minute_frame holds what each flush
//   added to them (one row for all series, journal-frame.ts) until the hour is sealed, only to
//   rebuild them after a restart;
// - a finished hour's minutes are one packed blob per series in rollup_minute_packed
//   (packed-minutes.ts, journal-sealer.ts), about 2 to 6 bytes a minute instead of a ~24-byte
//   row; rollup_minute holds only samples that arrived after their hour was sealed, until the
//   next seal packs them too (row-sealer.ts);
// - recent hours are rows in rollup_hour, and once a day is over (plus 2 hours) its hours move
//   into one blob per series in rollup_hour_packed: a 30-day read is ~30 seeks per series
//   instead of 720;
// - rollup_day_peak is a ranking index (largest sample per series per day, by report kind): a
//   report's top N by peak reads it instead of every series' steps (top-by-peak.ts);
// - series.last_hour (newest hour with data) lets retention drop series whose rows are all gone
//   without searching the rollup tables by series;
// - buckets are minute or hour numbers since the epoch (4 bytes), not milliseconds (6);
// - values have INTEGER affinity: counts are whole numbers, stored in 0 to 3 bytes instead of an
//   8-byte REAL (a fractional value still stores as REAL, exactly).
// A series is one row of `series`; '' means "all" or "unknown" and node '*' is the cluster.
// AUTOINCREMENT: a deleted series' id is never handed to a new one (rollup_day_peak rows and
// rollup_hour_packed blobs may outlive their series by up to a day).

import type { Database } from 'better-sqlite3';
import { HistoryStoreError } from './history-errors.js';

export const SCHEMA_VERSION = 3;

const rollupTable = (name: string): string => `
  CREATE TABLE IF NOT EXISTS ${name} (
    bucket INTEGER NOT NULL,
    series_id INTEGER NOT NULL,
    min_value INTEGER NOT NULL,
    max_value INTEGER NOT NULL,
    sum_value INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    last_value INTEGER NOT NULL,
    PRIMARY KEY (bucket, series_id)
  ) WITHOUT ROWID;`;

export const SCHEMA_SQL = `
  CREATE TABLE IF NOT EXISTS series (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    node TEXT NOT NULL,
    port INTEGER NOT NULL,
    direction TEXT NOT NULL,
    state TEXT NOT NULL,
    namespace TEXT NOT NULL DEFAULT '',
    pod TEXT NOT NULL DEFAULT '',
    workload TEXT NOT NULL DEFAULT '',
    last_hour INTEGER NOT NULL DEFAULT 0,
    UNIQUE (node, port, direction, state, namespace, pod, workload)
  );
  ${rollupTable('rollup_minute')}
  ${rollupTable('rollup_hour')}
  CREATE TABLE IF NOT EXISTS rollup_minute_packed (
    hour INTEGER NOT NULL,
    series_id INTEGER NOT NULL,
    minutes INTEGER NOT NULL,
    cells BLOB NOT NULL,
    PRIMARY KEY (hour, series_id)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS rollup_minute_frame (
    seq INTEGER PRIMARY KEY,
    last_hour INTEGER NOT NULL,
    body BLOB NOT NULL
  );
  CREATE TABLE IF NOT EXISTS rollup_hour_packed (
    day INTEGER NOT NULL,
    series_id INTEGER NOT NULL,
    hours INTEGER NOT NULL,
    cells BLOB NOT NULL,
    PRIMARY KEY (day, series_id)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS rollup_day_peak (
    day INTEGER NOT NULL,
    series_id INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    max_value INTEGER NOT NULL,
    PRIMARY KEY (day, series_id)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS rollup_day_peak_rank ON rollup_day_peak (day, kind, max_value);
`;

/**
 * Create the tables in a new database, or add what schema 3 added (rollup_minute_frame,
 * rollup_hour_packed) to a schema-2 one in place: its minute and hour rows stay and are sealed
 * as they would have been. Refuse one written by a newer fleetstat, and one in the pre-release
 * layout (schema 1: one row per series per minute), which is not converted.
 */
export function migrate(db: Database, where: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new HistoryStoreError(`history database ${where} has schema ${version}, newer than this fleetstat's (${SCHEMA_VERSION})`);
  }
  if (version === 1) {
    throw new HistoryStoreError(`history database ${where} has the pre-release schema 1, which this fleetstat (schema ${SCHEMA_VERSION}) ` +
      'does not convert: move it away or delete it to start a new history');
  }
  if (version === SCHEMA_VERSION) return;
  db.transaction(() => {
    db.exec(SCHEMA_SQL);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}
