// The collector's history: live counts recorded each interval become per-minute and per-hour
// rollups in SQLite (`<dir>/history.db`, or in memory without a dir), with a cluster-wide series
// (node '*') beside each node's, kept for a retention per resolution.
//
// Writes are batched: samples fold into pending minute cells in memory, and one transaction
// upserts the minutes that are over every `flushEveryMs` (everything at `flushPoints` samples
// or a half-full buffer). The buffer is bounded; what does not fit is dropped and counted.
// After a timed or size-triggered flush, a bounded slice of the finished hours' minute rows is
// packed into per-hour blobs, then of the finished days' hour rows into per-day blobs
// (row-sealer.ts); a query's flush skips that, so queries never wait for it. After start-up
// nothing here throws on bad input or a failing disk: it counts, logs at most once a minute, and
// retries on the next flush.

import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { ensureDirectory } from './data-directory.js';
import { HistoryStoreError } from './history-errors.js';
import { PendingRollups } from './pending-rollups.js';
import type { HistorySettings, HistoryStoreOptions } from './history-options.js';
import { resolveOptions } from './history-options.js';
import type { PruneResult, Retention } from './retention.js';
import { RetentionPruner } from './retention.js';
import { BUCKET_MS, bucketOf } from './rollup.js';
import { RollupWriter } from './rollup-writer.js';
import { PACKED_GROUPS } from './packed-groups.js';
import { RowSealer } from './row-sealer.js';
import { migrate } from './schema.js';
import { openSeriesRegistry } from './series-registry-seed.js';
import type { PointRejectReason, SamplePoint } from './series-key.js';
import { checkPoint } from './series-key.js';
import type { SeriesHandle, SeriesRegistry } from './series-registry.js';
import { ThrottledWarning } from './throttled-warning.js';

export type { HistoryStoreOptions } from './history-options.js';

// A seal call moves about one slice of series' minutes (~60,000 rows, ~0.1 s) or two to three of
// their hours (24 rows a series): at 80,000 series and a 5 s flush an hour is sealed in under 7
// minutes, a day in under 3. Sparse ids may need more, emptier slices.
const SEAL_ROWS_PER_CALL = 60_000;
const SEAL_SLICES_PER_CALL = 8;
// A day's last hour row is upserted until the first flush after midnight; 2 h leaves room for a
// slow flush, and a later row is merged into the day's blob anyway.
const HOUR_SEAL_GRACE_MS = 2 * BUCKET_MS.hour;

export type RecordRejectReason = PointRejectReason | 'bad_time' | 'bad_input' | 'closed';

export interface HistoryStats {
  /** recordSample calls that were taken (not rejected whole). */
  samples: number;
  /** Caller points accepted into the buffer. */
  points: number;
  /** Zeros recorded for series absent from a sample. */
  zeroFilled: number;
  /** Points refused, by reason; a whole call refused counts each of its points (or 1 if unreadable). */
  rejected: Record<RecordRejectReason, number>;
  /** Points (caller's, cluster-wide or zero-fill) dropped because the buffer was full. */
  dropped: number;
  /** Committed write transactions (flushes and prunes). */
  transactions: number;
  flushes: number;
  flushErrors: number;
  rowsWritten: number;
  prunedRows: number;
  prunedSeries: number;
  pruneErrors: number;
  /** Rows packed into blobs (minutes into hours, hours into days), and failed seal transactions. */
  sealedRows: number;
  sealErrors: number;
}

export interface RecordResult {
  accepted: number;
  rejected: number;
  dropped: number;
}

export class HistoryStore {
  readonly retention: Retention;
  readonly now: () => number;
  readonly stats: HistoryStats = {
    samples: 0, points: 0, zeroFilled: 0, dropped: 0,
    rejected: { bad_value: 0, bad_key: 0, bad_time: 0, bad_input: 0, closed: 0 },
    transactions: 0, flushes: 0, flushErrors: 0, rowsWritten: 0, prunedRows: 0, prunedSeries: 0, pruneErrors: 0,
    sealedRows: 0, sealErrors: 0,
  };
  private readonly pending: PendingRollups;
  private readonly writer: RollupWriter;
  private readonly pruner: RetentionPruner;
  /** Minutes first: they are most of the rows, every hour; a day's hours can wait for them. */
  private readonly sealers: RowSealer[];
  private readonly registry: SeriesRegistry;
  /** Numbers recordSample calls, so a handle can tell whether this call already touched it. */
  private stamp = 0;
  private readonly flushPoints: number;
  private readonly maxPendingCells: number;
  private readonly warning: ThrottledWarning;
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;

  /** Open (creating if needed) the store. Throws HistoryStoreError on bad options or an unusable database: fail at start-up, not later. */
  static open(options: HistoryStoreOptions = {}): HistoryStore {
    const { settings, retention } = resolveOptions(options);
    let db: Database.Database;
    try {
      if (options.dir) ensureDirectory(options.dir);
      db = new Database(options.dir ? join(options.dir, 'history.db') : ':memory:');
    } catch (cause) {
      throw new HistoryStoreError(`cannot open history database in ${options.dir ?? 'memory'}: ${(cause as Error).message}`, { cause });
    }
    try {
      if (options.dir) {
        // WAL: queries read while the collector writes; NORMAL sync loses at most the last
        // transactions on power loss, never consistency, and costs no fsync per flush.
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        // A checkpointed WAL is otherwise kept at its largest size ever (one big flush).
        db.pragma('journal_size_limit = 67108864');
      }
      db.pragma('busy_timeout = 5000');
      migrate(db, options.dir ? join(options.dir, 'history.db') : 'in memory');
      return new HistoryStore(db, retention, options.now ?? Date.now, settings, options.logger);
    } catch (cause) {
      db.close();
      if (cause instanceof HistoryStoreError) throw cause;
      throw new HistoryStoreError(`cannot use history database in ${options.dir ?? 'memory'}`, { cause });
    }
  }

  private constructor(
    private readonly db: Database.Database,
    retention: Retention,
    now: () => number,
    settings: HistorySettings,
    logger: Logger | undefined,
  ) {
    this.retention = retention;
    this.now = now;
    this.flushPoints = settings.flushPoints;
    this.maxPendingCells = settings.maxPendingCells;
    this.pending = new PendingRollups(settings.maxPendingCells);
    this.writer = new RollupWriter(db);
    this.pruner = new RetentionPruner(db);
    // Minutes the zero-fill seed may read at a restart stay rows (see openSeriesRegistry).
    this.sealers = [
      new RowSealer(db, PACKED_GROUPS.minute, settings.zeroFillMs + 60_000),
      new RowSealer(db, PACKED_GROUPS.hour, HOUR_SEAL_GRACE_MS),
    ];
    this.warning = new ThrottledWarning(logger, 60_000);
    // After a restart, series that were non-zero just before it still get their zero when absent.
    this.registry = openSeriesRegistry(db, settings.zeroFillMs, now());
    this.every(settings.flushEveryMs, () => this.flushAndSeal());
    this.every(settings.pruneEveryMs, () => this.prune());
  }

  /**
   * Record the live counts at `atMs`: every series not in `points` that was seen recently gets a
   * 0; points with the same key are added; each point also adds into its cluster-wide series.
   * Never throws.
   */
  recordSample(atMs: number, points: Iterable<SamplePoint>): RecordResult {
    const result: RecordResult = { accepted: 0, rejected: 0, dropped: 0 };
    const stamp = ++this.stamp;
    // Handles touched by this call, each once; a handle's `value` is its total in this call.
    const touched: SeriesHandle[] = [];
    try {
      for (const point of points) {
        const reason = checkPoint(point);
        if (reason) {
          this.reject(result, reason, 1);
          continue;
        }
        this.touch(this.registry.intern(point), stamp, point.value, touched);
      }
    } catch {
      // A sample we cannot read to the end is incomplete: recording part of it would zero-fill
      // the rest, so none of it is kept.
      return this.reject(result, 'bad_input', Math.max(1, touched.length));
    }
    if (this.closed) return this.reject(result, 'closed', touched.length);
    if (!Number.isFinite(atMs)) return this.reject(result, 'bad_time', touched.length);
    this.stats.samples++;
    this.stats.points += touched.length;

    const callerPoints = touched.length;
    for (let i = 0; i < callerPoints; i++) {
      const series = touched[i] as SeriesHandle;
      series.lastSeenMs = Math.max(series.lastSeenMs, atMs);
      const cluster = this.registry.clusterOf(series);
      if (!cluster) continue;
      cluster.lastSeenMs = Math.max(cluster.lastSeenMs, atMs);
      this.touch(cluster, stamp, series.value, touched);
    }
    for (const absent of this.registry.absent(atMs, stamp)) {
      this.touch(absent, stamp, 0, touched);
      this.stats.zeroFilled++;
    }
    for (const series of touched) {
      if (this.pending.add(series, atMs, series.value)) result.accepted++;
      else result.dropped++;
    }
    this.stats.dropped += result.dropped;
    if (this.pending.points >= this.flushPoints) this.flushAndSeal();
    return result;
  }

  /** Write pending samples in one transaction. False when it failed (kept for the next try). */
  flush(): boolean {
    return this.flushBefore(Infinity);
  }

  /**
   * What the flush timer does: write the minutes that are over (each cell once, instead of an
   * upsert per flush while its minute fills: a sixth of the writes at a 10 s interval), then
   * seal a bounded part of the finished hours. Everything pending is written instead when the
   * buffer is half full. Queries and close() flush everything.
   */
  flushAndSeal(): boolean {
    let flushed = this.flushBefore(bucketOf(this.now(), 'minute'));
    if (flushed && (this.pending.points >= this.flushPoints || this.pending.cells >= this.maxPendingCells / 2)) flushed = this.flush();
    this.seal();
    return flushed;
  }

  private flushBefore(beforeMinute: number): boolean {
    if (this.closed || this.pending.cells === 0) return true;
    try {
      const rows = this.db.transaction(() => this.writer.write(this.pending, beforeMinute))();
      if (rows === 0) return true;
      this.stats.transactions++;
      this.stats.flushes++;
      this.stats.rowsWritten += rows;
      if (beforeMinute === Infinity) this.pending.clear();
      else this.pending.clearBefore(beforeMinute);
      return true;
    } catch (error) {
      // The rollback also undid series rows inserted in it, so cached ids may be gone.
      this.writer.forgetSeriesIds();
      this.stats.flushErrors++;
      this.warning.warn('history flush failed; samples kept for the next try', error, this.now());
      return false;
    }
  }

  /**
   * Pack finished hours' minute rows, then finished days' hour rows, into blobs: up to about
   * SEAL_ROWS_PER_CALL rows (or SEAL_SLICES_PER_CALL slices of series ids) in one transaction.
   * Returns rows moved.
   */
  seal(nowMs = this.now()): number {
    if (this.closed) return 0;
    try {
      const moved = this.db.transaction(() => {
        let rows = 0;
        let slices = 0;
        for (const sealer of this.sealers) {
          for (; slices < SEAL_SLICES_PER_CALL && rows < SEAL_ROWS_PER_CALL; slices++) {
            const n = sealer.sealSlice(nowMs);
            if (n === undefined) break;
            rows += n;
          }
        }
        return rows;
      })();
      if (moved > 0) this.stats.transactions++;
      this.stats.sealedRows += moved;
      return moved;
    } catch (error) {
      for (const sealer of this.sealers) sealer.reset();
      this.stats.sealErrors++;
      this.warning.warn('history seal failed; rows stay rows until the next try', error, this.now());
      return 0;
    }
  }

  /** Delete rollups older than retention. Undefined when it failed (counted, logged). */
  prune(nowMs = this.now()): PruneResult | undefined {
    if (this.closed) return undefined;
    try {
      const result = this.db.transaction(() => this.pruner.prune(nowMs, this.retention))();
      this.stats.transactions++;
      this.stats.prunedRows += result.minuteRows + result.hourRows;
      this.stats.prunedSeries += result.series;
      if (result.series > 0) this.writer.forgetSeriesIds();
      return result;
    } catch (error) {
      this.writer.forgetSeriesIds();
      this.stats.pruneErrors++;
      this.warning.warn('history prune failed', error, this.now());
      return undefined;
    }
  }

  /** Pending (series, minute) cells not yet written. */
  get pendingCells(): number {
    return this.pending.cells;
  }

  /** For queries (read-only use). Flush first to see the latest samples. */
  get database(): Database.Database {
    if (this.closed) throw new HistoryStoreError('history store is closed');
    return this.db;
  }

  /** Flush and close; safe to call twice. */
  close(): void {
    if (this.closed) return;
    for (const timer of this.timers) clearInterval(timer);
    this.flush();
    this.closed = true;
    this.db.close();
  }

  /** Add `value` to the handle's total for call `stamp`, listing it on first touch. */
  private touch(series: SeriesHandle, stamp: number, value: number, touched: SeriesHandle[]): void {
    if (series.stamp === stamp) {
      series.value += value;
      return;
    }
    series.stamp = stamp;
    series.value = value;
    touched.push(series);
  }

  private reject(result: RecordResult, reason: RecordRejectReason, n: number): RecordResult {
    this.stats.rejected[reason] += n;
    result.rejected += n;
    return result;
  }

  private every(ms: number, run: () => unknown): void {
    if (ms <= 0) return;
    // Work here is synchronous, so a tick never overlaps the last; unref: history never keeps
    // the process alive on its own.
    const timer = setInterval(run, ms);
    timer.unref();
    this.timers.push(timer);
  }
}
