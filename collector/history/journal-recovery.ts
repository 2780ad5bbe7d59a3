// Rebuild the open hours at open from the frames of the last run: every journal as it was at
// the last committed flush. An entry whose (hour, series) already has a packed blob was sealed
// before the restart and is skipped. Each recovered series is zero-filled on as if the store had
// not stopped when its newest minute was non-zero and recent (its last sample's exact time is
// not stored: the end of that minute is the latest it can have been); the others are dormant,
// kept until their hours are sealed. A frame that cannot be read is skipped and counted.

import type { Database } from 'better-sqlite3';
import { readFrame } from './journal-frame.js';
import { journalOf } from './open-minutes.js';
import { BUCKET_MS } from './rollup.js';
import type { RollupWriter } from './rollup-writer.js';
import type { SeriesKey } from './series-key.js';
import type { SeriesHandle, SeriesRegistry } from './series-registry.js';

export interface Recovery {
  cells: number;
  badFrames: number;
}

interface SeriesRow extends SeriesKey {
  last_hour: number;
}

export function recoverJournals(db: Database, registry: SeriesRegistry, writer: RollupWriter, holdMs: number, nowMs: number): Recovery {
  const keyOf = db.prepare('SELECT node, port, direction, state, namespace, pod, workload, last_hour FROM series WHERE id = ?');
  const packed = db.prepare('SELECT 1 FROM rollup_minute_packed WHERE hour = ? AND series_id = ?').pluck();
  const handles = new Map<number, SeriesHandle | null>();
  const result: Recovery = { cells: 0, badFrames: 0 };
  for (const body of db.prepare('SELECT body FROM rollup_minute_frame ORDER BY seq').pluck().iterate() as IterableIterator<Buffer>) {
    try {
      for (const { seriesId, hour, bytes } of readFrame(body)) {
        let handle = handles.get(seriesId);
        if (handle === undefined) {
          const row = keyOf.get(seriesId) as SeriesRow | undefined;
          handle = row ? registry.internKey(row) : null;
          if (handle) writer.adopt(handle, seriesId, row?.last_hour ?? -1);
          handles.set(seriesId, handle);
        }
        if (!handle || packed.get(hour, seriesId) !== undefined) continue;
        const journal = journalOf(handle, hour);
        const before = journal.cells;
        journal.appendEncoded(bytes);
        journal.persisted = journal.length;
        result.cells += journal.cells - before;
      }
    } catch {
      result.badFrames++;
    }
  }
  for (const handle of handles.values()) {
    if (!handle) continue;
    const journal = handle.journals.at(-1);
    const newest = journal?.minutes().at(-1);
    const seenMs = journal && newest ? (journal.hour * 60 + newest.slot + 1) * BUCKET_MS.minute - 1 : -Infinity;
    if (newest && newest.last > 0 && nowMs - seenMs < holdMs) handle.lastSeenS = Math.floor(seenMs / 1000);
    else handle.dormant = true;
  }
  return result;
}
