// The collector's NATS receiver: every snapshot published under fleetstat.v1.<cluster>.snap.
// goes to SnapshotIngest with the node its subject names. No queue group: HA collectors
// each keep the full state. With JetStream, the last snapshot of every node is recovered
// from the stream before `ready` resolves.
//
// Bounded by construction: SnapshotIngest is synchronous, so each message is ingested in the
// client's callback and nothing queues in this process (nats.js 3 has no Go-style pending
// limits; its `slow` option only warns, and not for callbacks). A collector that cannot keep
// up is therefore throttled by TCP and, past the server's max_pending (64 MB by default), cut
// off by the server as a slow consumer; the client reconnects and resubscribes. We count those
// disconnects, and ingest errors, and log them once per interval, never per message. While the
// connection is down the ingest is told so, and does not judge the nodes heard over NATS stale
// for a silence that is the collector's own.
//
// Recovery to live without a gap: the core subscription is made (and flushed to the server)
// before the recovery consumer is created, so a snapshot stored after the consumer's start
// point also arrives live. While recovery runs, live snapshots are held, newest per node, and
// ingested after the recovered ones; a snapshot seen both ways is dropped by the ingest's
// (epoch, seq) check, so duplicates cost nothing.
import type { NatsConnection, Status, Subscription } from '@nats-io/transport-node';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { snapshotSubject } from '../../agent/publish/snapshot-publisher.js';
import { recoverLastSnapshots } from './jetstream-recovery.js';
import type { SnapshotIngest, IngestTransport } from './snapshot-ingest.js';
import { ensureSnapshotStream } from './snapshot-stream.js';
import type { SnapshotStreamOptions } from './snapshot-stream.js';

export interface NatsIngestJetStreamOptions extends SnapshotStreamOptions {
  /** Recovery reading longer than this stops; live snapshots fill the rest in (default 30 s). */
  recoveryTimeoutMs?: number;
}

export interface NatsIngestOptions {
  /** The collector's connection (see connectCollectorNats); not closed by stop(). */
  connection: NatsConnection;
  cluster: string;
  ingest: SnapshotIngest;
  /** Recover every node's last snapshot from JetStream at start (true or stream options). */
  jetstream?: boolean | NatsIngestJetStreamOptions;
  /** How often counted problems are logged (default 60 s). */
  logIntervalMs?: number;
  /** Live snapshots held per node while recovery runs; beyond this they are ingested at once (default 1,000,000). */
  maxHeld?: number;
  logger?: Logger;
}

export interface NatsIngestCounters {
  /** Messages from the core subscription. */
  received: number;
  /** Snapshots read back from the stream at start. */
  recovered: number;
  /** Held live snapshots replaced by a newer one of the same node during recovery. */
  superseded: number;
  /** SnapshotIngest threw (a bug there); the message is dropped and we carry on. */
  ingestErrors: number;
  /** Connection losses seen while running (including the server cutting off a slow consumer). */
  disconnects: number;
}

interface Held {
  data: Uint8Array;
  receivedAtMs: number;
}

export class NatsIngest {
  /** Resolves once subscribed and (with JetStream) recovered; rejects if start() fails. */
  readonly ready: Promise<void>;
  private readonly log: Logger;
  private readonly prefix: string;
  private readonly stats: NatsIngestCounters = { received: 0, recovered: 0, superseded: 0, ingestErrors: 0, disconnects: 0 };
  private readonly held = new Map<string, Held>();
  private holding = false;
  private isReadyFlag = false;
  private sub: Subscription | undefined;
  private statusIter: { stop(): void } | undefined;
  private watcher: Promise<void> | undefined;
  private logTimer: NodeJS.Timeout | undefined;
  private logged = { ingestErrors: 0, disconnects: 0 };
  private lastIngestError = '';
  private startPromise: Promise<void> | undefined;
  private stopPromise: Promise<void> | undefined;
  private resolveReady!: () => void;
  private rejectReady!: (err: unknown) => void;

  constructor(private readonly opts: NatsIngestOptions) {
    this.log = opts.logger ?? pino({ level: 'silent' });
    this.prefix = snapshotSubject(opts.cluster, '');
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // Whoever awaits `ready` sees the rejection; nobody awaiting it must not crash the process.
    this.ready.catch(() => undefined);
  }

  /** Subscribes, and with JetStream ensures the stream and recovers; resolves when ready. Idempotent. */
  start(): Promise<void> {
    this.startPromise ??= this.doStart().then(
      () => {
        this.isReadyFlag = true;
        this.resolveReady();
      },
      (err: unknown) => {
        this.rejectReady(err);
        throw err;
      },
    );
    return this.startPromise;
  }

  isReady(): boolean {
    return this.isReadyFlag;
  }

  counters(): NatsIngestCounters {
    return { ...this.stats };
  }

  /** Unsubscribes (the connection stays open for its owner). Safe twice. */
  stop(): Promise<void> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  private async doStart(): Promise<void> {
    if (this.stopPromise) throw new Error('NatsIngest.start() after stop()');
    const nc = this.opts.connection;
    const js = this.jetStreamOptions();
    this.holding = js !== undefined;
    // `>` rather than `*`: node names may hold dots (ip-10-0-0-1.ec2.internal); the node is the rest of the subject.
    this.sub = nc.subscribe(`${this.prefix}>`, { callback: (err, msg) => {
      if (err) {
        this.log.error({ err: err.message }, 'snapshot subscription failed');
        return;
      }
      this.onLive(msg.subject, msg.data);
    } });
    this.watcher = this.watchConnection(nc);
    this.logTimer = setInterval(() => this.logCounts(), this.opts.logIntervalMs ?? 60_000);
    this.logTimer.unref();
    // The server must have our subscription before the recovery consumer starts: that is the no-gap guarantee.
    await nc.flush();
    if (!js) return;
    try {
      const info = await ensureSnapshotStream(nc, this.opts.cluster, js);
      const started = Date.now();
      const result = await recoverLastSnapshots(
        nc,
        info.config.name,
        (s) => {
          this.stats.recovered++;
          this.deliver(s.data, 'jetstream', s.subject.slice(this.prefix.length), s.storedAtMs);
        },
        js.recoveryTimeoutMs ?? 30_000,
      );
      const level = result.complete ? 'info' : 'warn';
      this.log[level]({ recovered: result.recovered, ms: Date.now() - started, complete: result.complete },
        result.complete ? 'recovered the last snapshot of every node from JetStream' : 'JetStream recovery timed out; live snapshots fill in the rest');
    } finally {
      this.releaseHeld();
    }
  }

  private onLive(subject: string, data: Uint8Array): void {
    this.stats.received++;
    const node = subject.slice(this.prefix.length);
    if (this.holding && (this.held.size < (this.opts.maxHeld ?? 1_000_000) || this.held.has(node))) {
      if (this.held.has(node)) this.stats.superseded++;
      // Copy: the client's buffer may be a view into a larger read chunk we should not pin.
      this.held.set(node, { data: data.slice(), receivedAtMs: Date.now() });
      return;
    }
    this.deliver(data, 'nats', node, Date.now());
  }

  private releaseHeld(): void {
    for (const [node, h] of this.held) this.deliver(h.data, 'nats', node, h.receivedAtMs);
    this.held.clear();
    this.holding = false;
  }

  private deliver(data: Uint8Array, transport: IngestTransport, claimedNode: string, receivedAtMs: number): void {
    try {
      // Rejections are counted and logged by the ingest itself; this layer only hands bytes over.
      this.opts.ingest.ingest(data, { transport, claimedNode, receivedAtMs });
    } catch (err) {
      this.stats.ingestErrors++;
      this.lastIngestError = (err as Error).message;
    }
  }

  private async watchConnection(nc: NatsConnection): Promise<void> {
    // Typed as a plain AsyncIterable, but it is the client's QueuedIterator, whose stop() ends the loop.
    const iter = nc.status() as AsyncIterable<Status> & { stop?: () => void };
    this.statusIter = { stop: () => iter.stop?.() };
    // The client reports a disconnect and a reconnect per failed dial that reached the server
    // (credentials refused while reconnecting), not only per outage: act once per outage.
    let down = false;
    for await (const s of iter) {
      if (s.type === 'disconnect' && !down) {
        down = true;
        this.stats.disconnects++;
        this.opts.ingest.receptionLost?.('nats');
      }
      if (s.type === 'reconnect' && down) {
        down = false;
        this.opts.ingest.receptionResumed?.('nats');
        this.log.info({ server: s.server }, 'snapshot subscription resumed after reconnect');
        this.ensureStreamAgain(nc);
      }
    }
  }

  /**
   * A restarted server may have lost its JetStream store (a fresh pod without its volume): then
   * agents publishing through JetStream fail until the stream exists again, so make sure it does.
   */
  private ensureStreamAgain(nc: NatsConnection): void {
    const js = this.jetStreamOptions();
    if (!js) return;
    ensureSnapshotStream(nc, this.opts.cluster, js).catch((err: unknown) =>
      this.log.warn({ err: (err as Error).message }, 'could not ensure the snapshot stream after reconnect'),
    );
  }

  private jetStreamOptions(): NatsIngestJetStreamOptions | undefined {
    return this.opts.jetstream === true ? {} : this.opts.jetstream || undefined;
  }

  private logCounts(): void {
    const errors = this.stats.ingestErrors - this.logged.ingestErrors;
    const disconnects = this.stats.disconnects - this.logged.disconnects;
    if (errors > 0) this.log.error({ count: errors, last: this.lastIngestError }, 'snapshot ingest threw; messages dropped');
    if (disconnects > 0) {
      this.log.warn({ count: disconnects }, 'NATS connection lost; snapshots in flight were lost (a collector that falls behind is cut off by the server as a slow consumer)');
    }
    this.logged = { ingestErrors: this.stats.ingestErrors, disconnects: this.stats.disconnects };
  }

  private async doStop(): Promise<void> {
    if (this.logTimer) clearInterval(this.logTimer);
    this.logCounts();
    this.statusIter?.stop();
    const sub = this.sub;
    this.sub = undefined;
    if (sub && !sub.isClosed() && !this.opts.connection.isClosed()) {
      sub.unsubscribe();
    }
    await this.watcher;
    this.held.clear();
    this.holding = false;
  }
}
