// A report's top N by peak without reading every series: rollup_day_peak holds each series'
// largest sample per day, indexed by (day, kind, max). Merging the window's days in descending
// max gives every series at its largest day peak, which is at least its exact peak over the
// report's steps (a day covers them). Series are evaluated exactly (their steps) in that order,
// and the walk stops once N exact rows beat the next day peak: nothing unseen can rank higher.
// Hours not sealed yet are not in the index: their series come as one more list, ranked by their
// open samples' largest value (`open`).
// The result equals ranking every series, at the cost of reading about N of them; but when many
// series share the N-th peak (small counts, an idle fleet), every one of them is read, since
// ties are ordered by key.

import type { Database, Statement } from 'better-sqlite3';

/** Day-peak rows of one kind read per query while walking a day's index in descending order. */
const PAGE = 32;

export type PeakRow = [seriesId: number, max: number];

interface PeakCursor {
  /** The current row (the largest not yet taken), or undefined at the end. */
  head(): PeakRow | undefined;
  take(): void;
}

/** Rows already in memory, largest first. */
class ListCursor implements PeakCursor {
  private index = 0;

  constructor(private readonly rows: readonly PeakRow[]) {}

  head(): PeakRow | undefined {
    return this.rows[this.index];
  }

  take(): void {
    this.index++;
  }
}

/** One day's index walked from the top, a page at a time. */
class DayCursor implements PeakCursor {
  private page: PeakRow[] = [];
  private index = 0;
  private done = false;

  constructor(private readonly day: number, private readonly kind: number, private readonly first: Statement, private readonly next: Statement) {}

  head(): PeakRow | undefined {
    if (this.index < this.page.length) return this.page[this.index];
    if (this.done) return undefined;
    const last = this.page.at(-1);
    this.page = (last ? this.next.all(this.day, this.kind, last[1], last[0], PAGE) : this.first.all(this.day, this.kind, PAGE)) as PeakRow[];
    this.index = 0;
    if (this.page.length < PAGE) this.done = true;
    return this.page[0];
  }

  take(): void {
    this.index++;
  }
}

export interface TopByPeakQuery<R extends { peak: number }> {
  kind: number;
  fromDay: number;
  toDay: number;
  limit: number;
  /** Series with samples in hours not sealed yet, each with an upper bound of those samples, largest first. */
  open: readonly PeakRow[];
  /** The series' exact row, or undefined when it has no steps in the report's range. */
  evaluate: (seriesId: number) => R | undefined;
  /** Report order: highest peak first, ties in a stable order. */
  compare: (a: R, b: R) => number;
}

export function topByPeak<R extends { peak: number }>(db: Database, query: TopByPeakQuery<R>): R[] {
  // (max_value, series_id) < (?, ?): the index (day, kind, max_value[, series_id]) walked backwards.
  const first = db.prepare(`SELECT series_id, max_value FROM rollup_day_peak WHERE day = ? AND kind = ?
    ORDER BY max_value DESC, series_id DESC LIMIT ?`).raw(true);
  const next = db.prepare(`SELECT series_id, max_value FROM rollup_day_peak WHERE day = ? AND kind = ?
    AND (max_value, series_id) < (?, ?) ORDER BY max_value DESC, series_id DESC LIMIT ?`).raw(true);
  const cursors: PeakCursor[] = [new ListCursor(query.open)];
  for (let day = query.fromDay; day <= query.toDay; day++) cursors.push(new DayCursor(day, query.kind, first, next));
  const seen = new Set<number>();
  const top: R[] = [];
  for (;;) {
    let best: PeakCursor | undefined;
    let bestRow: PeakRow | undefined;
    for (const cursor of cursors) {
      const row = cursor.head();
      if (row && (!bestRow || row[1] > bestRow[1])) {
        best = cursor;
        bestRow = row;
      }
    }
    if (!best || !bestRow) break;
    // Equal peaks are still evaluated: ties are ordered by key, not by peak.
    if (top.length >= query.limit && (top[query.limit - 1] as R).peak > bestRow[1]) break;
    best.take();
    const seriesId = bestRow[0];
    if (seen.has(seriesId)) continue;
    seen.add(seriesId);
    const row = query.evaluate(seriesId);
    if (!row) continue;
    top.push(row);
    top.sort(query.compare);
    if (top.length > query.limit) top.pop();
  }
  return top;
}
