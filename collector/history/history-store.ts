// The collector's history: live counts recorded each interval become per-minute and per-hour
// rollups in SQLite (`<dir>/history.db`, or in memory without a dir), with a cluster-wide series
// (node '*') beside each node's, kept for a retention per resolution.
//
// The hours not sealed yet live in memory, on each series' handle (open-minutes.ts): samples
// fold into the current minute's cell, a finished minute is appended to its hour's journal and,
// in the same pass, to the pending frame, which every `flushEveryMs` one transaction writes as
// one row for all series (journal-frame.ts): a crash loses the open minute and what the last
// flush had not written. Once an hour is over, its journals become packed minute blobs and hour
// rows, a slice of series per timer tick (journal-sealer.ts), and once a day is over its hour
// rows are packed into day blobs (row-sealer.ts); queries read the open hours from memory and
// the rest from the tables. Samples for an hour already sealed are written as rows, merged by
// readers and packed by the row sealer too. After start-up nothing here throws on bad input or a
// failing disk: it counts, logs at most once a minute, and retries on the next flush.

import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { CountGroup } from './count-batch.js';
import { ensureDirectory } from './data-directory.js';
import { HistoryStoreError } from './history-errors.js';
import type { HistorySettings, HistoryStoreOptions } from './history-options.js';
import { resolveOptions } from './history-options.js';
import { FrameWriter } from './journal-frame.js';
import { recoverJournals } from './journal-recovery.js';
import { JournalSealer } from './journal-sealer.js';
import { appendLate, closeCell, foldSample } from './open-minutes.js';
import { PendingRollups } from './pending-rollups.js';
import type { PruneResult, Retention } from './retention.js';
import { RetentionPruner } from './retention.js';
import { PACKED_GROUPS } from './packed-groups.js';
import { BUCKET_MS, bucketOf } from './rollup.js';
import { RollupWriter } from './rollup-writer.js';
import { RowSealer } from './row-sealer.js';
import { migrate } from './schema.js';
import type { PointRejectReason, SamplePoint } from './series-key.js';
import { checkGroupLabels, checkPoint, isCount } from './series-key.js';
import type { ConnectionLabels, SeriesGroup, SeriesHandle } from './series-registry.js';
import { hasOpenData, MASKED_MEMBERS, SeriesRegistry } from './series-registry.js';
import type { MinuteJournal } from './minute-journal.js';
import type { WarnLogger } from './throttled-warning.js';
import { ThrottledWarning } from './throttled-warning.js';

export type { HistoryStoreOptions } from './history-options.js';

// A seal call moves a bounded slice (~0.1 s): 4,096 series' open hour from memory, then up to
// about 60,000 rows (late minutes, or two to three slices of a finished day's hours: 24 rows a
// series). At 80,000 series and a 5 s timer an hour is sealed in under 2 minutes, a day in
// under 3.
const SEAL_SERIES_PER_CALL = 4096;
const SEAL_ROWS_PER_CALL = 60_000;
const SEAL_SLICES_PER_CALL = 8;
/** An hour is sealed this long after it ended: samples recorded a little late still fold in memory. */
const SEAL_GRACE_MS = 2 * 60_000;
// A day's last hour row is written when that hour is sealed, minutes after midnight; 2 h leaves
// room for a slow seal, and a later row is merged into the day's blob anyway.
const DAY_SEAL_GRACE_MS = 2 * BUCKET_MS.hour;

export type RecordRejectReason = PointRejectReason | 'bad_time' | 'bad_input' | 'closed';

export interface HistoryStats {
  /** recordSample/recordCounts calls that were taken (not rejected whole). */
  samples: number;
  /** Caller points accepted. */
  points: number;
  /** Zeros recorded for series absent from a sample. */
  zeroFilled: number;
  /** Points refused, by reason; a whole call refused counts each of its points (or 1 if unreadable). */
  rejected: Record<RecordRejectReason, number>;
  /** Late points (their hour sealed) dropped because the late-row buffer was full. */
  dropped: number;
  /** Committed write transactions (flushes, seals and prunes). */
  transactions: number;
  flushes: number;
  flushErrors: number;
  /** Frame rows (one per flush with new minutes) and late rollup rows written. */
  framesWritten: number;
  rowsWritten: number;
  prunedRows: number;
  prunedSeries: number;
  pruneErrors: number;
  /** Minute cells packed into sealed hours (open hours from memory, late rows), and failed seal transactions. */
  sealedCells: number;
  sealErrors: number;
  /** At open: minute cells rebuilt from the last run's frames, and frames that could not be read. */
  recoveredCells: number;
  badFrames: number;
  /** Time spent (ms) recording, flushing, sealing and pruning: what history costs the thread it runs on. */
  busyMs: Record<'record' | 'flush' | 'seal' | 'prune', number>;
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
    transactions: 0, flushes: 0, flushErrors: 0, framesWritten: 0, rowsWritten: 0, prunedRows: 0, prunedSeries: 0, pruneErrors: 0,
    sealedCells: 0, sealErrors: 0, recoveredCells: 0, badFrames: 0,
    busyMs: { record: 0, flush: 0, seal: 0, prune: 0 },
  };
  private readonly pending: PendingRollups;
  private readonly writer: RollupWriter;
  private readonly pruner: RetentionPruner;
  private readonly journalSealer: JournalSealer;
  /** Late minute rows, then finished days' hour rows. */
  private readonly rowSealers: RowSealer[];
  private readonly registry: SeriesRegistry;
  private readonly insertFrame: Database.Statement;
  /** What the journals gained since the last flush, written by it (reused: grows once to a minute's size). */
  private readonly frame = new FrameWriter();
  /** Series the next flush gives a row (new, or after a failed write) or a newer last_hour. */
  private readonly needsRow: SeriesHandle[] = [];
  /** Numbers record calls, so a handle can tell whether this call already touched it. */
  private stamp = 0;
  /** Handles touched by the running record call, each once (reused: no garbage per call). */
  private readonly touched: SeriesHandle[] = [];
  /** Distinct series the caller gave in the running record call. */
  private callerPoints = 0;
  /** recordCounts' groups, and one group's points (reused). */
  private readonly groupList: CountGroup[] = [];
  private readonly groupHandles: Array<SeriesHandle | undefined> = [];
  private readonly groupValues: number[] = [];
  private readonly flushPoints: number;
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
    logger: WarnLogger | undefined,
  ) {
    this.retention = retention;
    this.now = now;
    this.flushPoints = settings.flushPoints;
    this.pending = new PendingRollups(settings.maxPendingCells);
    this.writer = new RollupWriter(db);
    this.pruner = new RetentionPruner(db);
    this.registry = new SeriesRegistry(settings.zeroFillMs);
    this.journalSealer = new JournalSealer(db, this.writer, this.registry, SEAL_GRACE_MS);
    this.rowSealers = [new RowSealer(db, PACKED_GROUPS.minute, SEAL_GRACE_MS), new RowSealer(db, PACKED_GROUPS.hour, DAY_SEAL_GRACE_MS)];
    this.insertFrame = db.prepare('INSERT INTO rollup_minute_frame (last_hour, body) VALUES (?, ?)');
    this.warning = new ThrottledWarning(logger, 60_000);
    // The open hours as the last run left them; series non-zero just before it still get their 0.
    const recovered = recoverJournals(db, this.registry, this.writer, settings.zeroFillMs, now());
    this.stats.recoveredCells = recovered.cells;
    this.stats.badFrames = recovered.badFrames;
    if (recovered.badFrames > 0) this.warning.warn('history frames unreadable at open; their minutes are lost', new Error(`${recovered.badFrames} bad frames`), now());
    this.every(settings.flushEveryMs, () => this.flushAndSeal());
    this.every(settings.pruneEveryMs, () => this.prune());
  }

  /**
   * Record the live counts at `atMs`: every series not in `points` that was seen recently gets a
   * 0; points with the same key are added; each point also adds into its cluster-wide series.
   * Never throws.
   */
  recordSample(atMs: number, points: Iterable<SamplePoint>): RecordResult {
    return this.timed('record', () => this.recordPoints(atMs, points));
  }

  /**
   * recordSample for the collector's own counts: per node or pod, counts by numeric connection
   * key, decoded to labels by `labelsOf` only the first time a series is seen. Each group at
   * most once a call (a repeat is refused as bad_key). Never throws.
   */
  recordCounts(atMs: number, groups: Iterable<CountGroup>, labelsOf: ConnectionLabels): RecordResult {
    return this.timed('record', () => this.recordGroups(atMs, groups, labelsOf));
  }

  private recordPoints(atMs: number, points: Iterable<SamplePoint>): RecordResult {
    const result: RecordResult = { accepted: 0, rejected: 0, dropped: 0 };
    const stamp = this.begin();
    try {
      for (const point of points) {
        const reason = checkPoint(point);
        if (reason) {
          this.reject(result, reason, 1);
          continue;
        }
        this.touchCaller(this.registry.intern(point), stamp, point.value, atMs);
      }
    } catch {
      // A sample we cannot read to the end is incomplete: recording part of it would zero-fill
      // the rest, so none of it is kept.
      return this.reject(result, 'bad_input', Math.max(1, this.callerPoints));
    }
    return this.fold(atMs, stamp, result);
  }

  private recordGroups(atMs: number, groups: Iterable<CountGroup>, labelsOf: ConnectionLabels): RecordResult {
    const result: RecordResult = { accepted: 0, rejected: 0, dropped: 0 };
    const stamp = this.begin();
    const list = this.groupList;
    list.length = 0;
    try {
      for (const g of groups) list.push(g);
    } catch {
      return this.reject(result, 'bad_input', Math.max(1, list.length));
    }
    // Points are folded as they come unless the call is refused or late (then the second pass decides).
    const direct = !this.closed && Number.isFinite(atMs) && !this.journalSealer.isSealed(bucketOf(atMs, 'minute'));
    let group: SeriesGroup | undefined;
    let n = 0;
    let position = 0;
    const handles = this.groupHandles;
    const values = this.groupValues;
    // One callback for every map (forEach makes no entry arrays).
    const collect = (value: number, key: number): void => {
      const handle = isCount(value) ? this.registry.internAt(group as SeriesGroup, position++, key, labelsOf) : undefined;
      if (handle) {
        handles[n] = handle;
        values[n++] = value;
      } else {
        this.reject(result, isCount(value) ? 'bad_key' : 'bad_value', 1);
      }
    };
    for (const g of list) {
      const reason = checkGroupLabels(g.node, g.namespace, g.pod, g.workload);
      const into = reason ? undefined : this.registry.group(g.node, g.namespace ?? '', g.pod ?? '', g.workload ?? '');
      // Each group once a call: its series are folded as they come, so a repeat cannot add to them.
      if (!into || into.stamp === stamp) {
        this.reject(result, reason ?? 'bad_key', g.counts.size);
        continue;
      }
      into.stamp = stamp;
      into.touched = 0;
      into.touchedMask = 0;
      group = into;
      n = 0;
      position = 0;
      g.counts.forEach(collect);
      // Two keys naming one series (rare: only where labels collide) are one point: add them.
      if (into.collides) {
        for (let i = 1; i < n; i++) {
          for (let j = 0; j < i; j++) {
            if (handles[j] !== handles[i]) continue;
            values[j] = (values[j] as number) + (values[i] as number);
            handles[i] = undefined;
            break;
          }
        }
      }
      // Each series once in this call: fold it now, while its handle is at hand, instead of in
      // a second pass over every series.
      for (let i = 0; i < n; i++) {
        const handle = handles[i];
        if (!handle) continue;
        if (direct) this.foldCaller(handle, stamp, values[i] as number, atMs, result);
        else this.touchCaller(handle, stamp, values[i] as number, atMs);
        handles[i] = undefined;
      }
    }
    list.length = 0;
    return this.fold(atMs, stamp, result);
  }

  /**
   * Write the minutes closed since the last flush as one frame, and late rows, in one
   * transaction; every series with open data gets its row. False when it failed (kept for the
   * next try).
   */
  flush(): boolean {
    return this.timed('flush', () => this.flushOpen(false));
  }

  /** What the flush timer does: flush, then seal a bounded part of the finished hours. */
  flushAndSeal(): boolean {
    const flushed = this.flush();
    this.seal();
    return flushed;
  }

  /**
   * Seal, in one transaction, a bounded slice of the oldest finished open hour (memory to packed
   * blobs and hour rows), then of rows (late minutes into hour blobs, finished days' hours into
   * day blobs). Returns cells sealed.
   */
  seal(nowMs = this.now()): number {
    return this.timed('seal', () => this.sealSlices(nowMs));
  }

  private sealSlices(nowMs: number): number {
    if (this.closed) return 0;
    try {
      const moved = this.db.transaction(() => {
        const cells = this.journalSealer.sealSlice(nowMs, SEAL_SERIES_PER_CALL) ?? 0;
        let rows = 0;
        let slices = 0;
        for (const sealer of this.rowSealers) {
          for (; slices < SEAL_SLICES_PER_CALL && rows < SEAL_ROWS_PER_CALL; slices++) {
            const n = sealer.sealSlice(nowMs);
            if (n === undefined) break;
            rows += n;
          }
        }
        return cells + rows;
      })();
      this.journalSealer.committed();
      if (moved > 0) this.stats.transactions++;
      this.stats.sealedCells += moved;
      return moved;
    } catch (error) {
      this.journalSealer.rolledBack();
      for (const sealer of this.rowSealers) sealer.reset();
      this.writer.forgetSeriesIds();
      this.stats.sealErrors++;
      this.warning.warn('history seal failed; the hour stays open until the next try', error, this.now());
      return 0;
    }
  }

  /** Delete rollups older than retention. Undefined when it failed (counted, logged). */
  prune(nowMs = this.now()): PruneResult | undefined {
    return this.timed('prune', () => this.pruneOld(nowMs));
  }

  private pruneOld(nowMs: number): PruneResult | undefined {
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

  /** Late (series, minute) cells not yet written. */
  get pendingCells(): number {
    return this.pending.cells;
  }

  /** For queries (read-only use). Flush first so every series with open data has its row. */
  get database(): Database.Database {
    if (this.closed) throw new HistoryStoreError('history store is closed');
    return this.db;
  }

  /** Series with open (not yet sealed) minutes, by row id: what readers merge with the tables. Call after flush(). */
  openSeries(): Map<number, SeriesHandle> {
    const byId = new Map<number, SeriesHandle>();
    for (const handle of this.registry.handles()) {
      if (hasOpenData(handle) && this.writer.knowsRow(handle)) byId.set(handle.rowId, handle);
    }
    return byId;
  }

  /** Write everything, the current minutes too, and close; safe to call twice. */
  close(): void {
    if (this.closed) return;
    for (const timer of this.timers) clearInterval(timer);
    this.flushOpen(true);
    this.closed = true;
    this.db.close();
    for (const handle of this.registry.handles()) for (const journal of handle.journals) journal.release();
  }

  /** Caller points are final (with their cluster-wide sums): add the zeros, then fold every touched series. */
  private fold(atMs: number, stamp: number, result: RecordResult): RecordResult {
    const touched = this.touched;
    if (this.closed) return this.reject(result, 'closed', this.callerPoints);
    if (!Number.isFinite(atMs)) return this.reject(result, 'bad_time', this.callerPoints);
    this.stats.samples++;
    this.stats.points += this.callerPoints;
    this.stats.zeroFilled += this.registry.absent(atMs, stamp, touched);
    const late = this.journalSealer.isSealed(bucketOf(atMs, 'minute'));
    for (const series of touched) {
      if (late) {
        if (this.pending.add(series, atMs, series.value)) result.accepted++;
        else result.dropped++;
        continue;
      }
      this.foldValue(series, atMs, series.value);
      result.accepted++;
    }
    this.stats.dropped += result.dropped;
    // Timed as part of the record call that made it due.
    if (this.pending.points >= this.flushPoints) {
      this.flushOpen(false);
      this.sealSlices(this.now());
    }
    return result;
  }

  /** A caller's point: its series and the cluster-wide one it adds into are seen at `atMs`. */
  private touchCaller(series: SeriesHandle, stamp: number, value: number, atMs: number): void {
    if (series.stamp !== stamp) this.firstTouch(series, stamp, atMs);
    this.touch(series, stamp, value);
    this.addToCluster(series, stamp, value, atMs);
  }

  /** A caller's point whose series nothing else in the call adds to: folded at once. */
  private foldCaller(series: SeriesHandle, stamp: number, value: number, atMs: number, result: RecordResult): void {
    this.firstTouch(series, stamp, atMs);
    series.stamp = stamp;
    series.value = value;
    this.foldValue(series, atMs, value);
    result.accepted++;
    this.addToCluster(series, stamp, value, atMs);
  }

  private firstTouch(series: SeriesHandle, stamp: number, atMs: number): void {
    this.callerPoints++;
    this.seen(series, atMs);
    const group = series.group;
    if (group.stamp !== stamp) {
      group.stamp = stamp;
      group.touched = 0;
      group.touchedMask = 0;
    }
    group.touched++;
    if (series.memberIndex < MASKED_MEMBERS) group.touchedMask |= 1 << series.memberIndex;
  }

  private addToCluster(series: SeriesHandle, stamp: number, value: number, atMs: number): void {
    const cluster = series.cluster === null ? null : this.registry.clusterOf(series);
    if (!cluster) return;
    if (cluster.stamp !== stamp) this.seen(cluster, atMs);
    this.touch(cluster, stamp, value);
  }

  /** Into the current minute's cell, or the journal of an earlier minute (its hour not sealed). */
  private foldValue(series: SeriesHandle, atMs: number, value: number): void {
    if (!foldSample(series, atMs, value)) appendLate(series, bucketOf(atMs, 'minute'), value);
    if (series.dirty || !this.writer.knowsRow(series)) this.takeNew(series);
  }

  private seen(series: SeriesHandle, atMs: number): void {
    // NaN (a call refused for its time) moves nothing.
    const seconds = Math.floor(atMs / 1000);
    if (seconds > series.lastSeenS) series.lastSeenS = seconds;
    series.dormant = false;
  }

  /**
   * Take what a series' journals gained into the pending frame while its handle is at hand (the
   * record pass), or queue it for the flush when it has no row yet.
   */
  private takeNew(series: SeriesHandle): void {
    if (!this.writer.knowsRow(series)) {
      if (!series.queued) {
        series.queued = true;
        this.needsRow.push(series);
      }
      return;
    }
    this.addToFrame(series, series.rowId);
  }

  private addToFrame(series: SeriesHandle, seriesId: number): void {
    for (const journal of series.journals) {
      if (journal.length === journal.persisted) continue;
      // Retention keeps a series while last_hour is recent: note each new hour once.
      if (journal.hour > series.writtenHour && !series.queued) {
        series.queued = true;
        this.needsRow.push(series);
      }
      this.frame.add(seriesId, journal.hour, journal, journal.persisted, journal.length);
      journal.persisted = journal.length;
    }
    series.dirty = false;
  }

  /**
   * Write the pending frame (and late rows) in one transaction, after giving every queued series
   * its row and last_hour; with `closeAll`, every open minute is closed and taken first.
   */
  private flushOpen(closeAll: boolean): boolean {
    if (this.closed) return true;
    if (closeAll) {
      for (const handle of this.registry.handles()) {
        closeCell(handle);
        if (handle.dirty) this.takeNew(handle);
      }
    }
    const frame = this.frame;
    const mark = frame.mark();
    // What this transaction takes into the frame, to give back if it rolls back.
    const taken: Array<[MinuteJournal, number]> = [];
    try {
      const written = this.db.transaction(() => {
        for (const handle of this.needsRow) {
          const seriesId = this.writer.seriesRowId(handle);
          for (const journal of handle.journals) {
            this.writer.noteLastHour(handle, seriesId, journal.hour);
            if (journal.length > journal.persisted) taken.push([journal, journal.persisted]);
          }
          if (handle.dirty) this.addToFrame(handle, seriesId);
        }
        const body = frame.body();
        if (frame.entries > 0) this.insertFrame.run(frame.lastHour, Buffer.from(body.buffer, body.byteOffset, body.length));
        const rows = this.pending.cells > 0 ? this.writer.write(this.pending) : 0;
        return { frames: frame.entries > 0 ? 1 : 0, rows };
      })();
      for (const handle of this.needsRow) handle.queued = false;
      this.needsRow.length = 0;
      frame.reset();
      this.pending.clear();
      if (written.frames + written.rows > 0) {
        this.stats.transactions++;
        this.stats.flushes++;
        this.stats.framesWritten += written.frames;
        this.stats.rowsWritten += written.rows;
      }
      return true;
    } catch (error) {
      // The rollback also undid series rows inserted in it, so cached ids may be gone: entries
      // added with them go; what was in the frame before stays for the next try.
      frame.rollback(mark);
      for (const [journal, persisted] of taken) journal.persisted = persisted;
      for (const handle of this.needsRow) {
        handle.writtenHour = -1;
        if (handle.journals.some((journal) => journal.length > journal.persisted)) handle.dirty = true;
      }
      this.writer.forgetSeriesIds();
      this.stats.flushErrors++;
      this.warning.warn('history flush failed; samples kept for the next try', error, this.now());
      return false;
    }
  }

  /** Start a record call: its stamp, and an empty touched list. */
  private begin(): number {
    this.touched.length = 0;
    this.callerPoints = 0;
    return ++this.stamp;
  }

  /** Add `value` to the handle's total for call `stamp`, listing it on first touch. */
  private touch(series: SeriesHandle, stamp: number, value: number): void {
    if (series.stamp === stamp) {
      series.value += value;
      return;
    }
    series.stamp = stamp;
    series.value = value;
    this.touched.push(series);
  }

  private timed<T>(part: keyof HistoryStats['busyMs'], work: () => T): T {
    const t0 = performance.now();
    try {
      return work();
    } finally {
      this.stats.busyMs[part] += performance.now() - t0;
    }
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
