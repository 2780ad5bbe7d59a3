// The real collector as a child process for integration tests: the built CLI, spawned with
// FLEETSTAT_LOG_LEVEL=info, its pino JSON lines on stderr parsed as they arrive. Also a strict
// parser for the Prometheus text of /metrics, and a simulated agent that publishes made-to-order
// snapshots through a real publisher (NatsPublisher, GrpcPublisher).
import type { ServiceError } from '@grpc/grpc-js';
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import type { SnapshotPublisher } from '../../agent/publish/snapshot-publisher.js';
import { IngestServiceService } from '../../proto/gen/fleetstat/v1/ingest.js';
import type { PublishResponse } from '../../proto/gen/fleetstat/v1/ingest.js';
import { Direction } from '../../proto/gen/fleetstat/v1/snapshot.js';
import type { Snapshot } from '../../proto/gen/fleetstat/v1/snapshot.js';
import { LoggedChild } from './logged-child.js';
import { makeSnapshot } from './snapshots.js';

export type { LogLine } from './logged-child.js';

export class CollectorChild extends LoggedChild {
  /** Resolves once the collector logs "collector ready"; rejects if it exits first. */
  readonly listening: Promise<void>;

  private constructor(
    httpPort: number,
    args: string[],
    readonly base = `http://127.0.0.1:${httpPort}`,
  ) {
    super('collector', ['--listen', `127.0.0.1:${httpPort}`, ...args]);
    // Ready, not just listening: HTTP answers (503) while transports start and JetStream recovers.
    const listening = this.waitForLog('collector ready', (l) => l.msg === 'collector ready', 15_000);
    const died = this.exited.then((e) => {
      throw new Error(`collector exited (${e.code ?? e.signal}) before listening:\n${this.stderrText()}`);
    });
    this.listening = Promise.race([listening.then(() => undefined), died]);
    // Whoever awaits `listening` sees a failure; nobody awaiting it must not be an unhandled rejection.
    this.listening.catch(() => undefined);
  }

  /** `fleetstat collector --listen 127.0.0.1:<httpPort> ...args`, returned at once (see `listening`). */
  static spawn(httpPort: number, args: string[]): CollectorChild {
    return new CollectorChild(httpPort, args);
  }

  static async start(httpPort: number, args: string[]): Promise<CollectorChild> {
    const collector = CollectorChild.spawn(httpPort, args);
    await collector.listening;
    return collector;
  }
}

export async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** `# TYPE` of each metric family. */
  types: Map<string, string>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;

/** Prometheus text format 0.0.4, strictly: a line that is neither a comment nor a sample throws. */
export function parsePrometheus(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (type) types.set(type[1]!, type[2]!);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const start = LABEL.lastIndex;
      const l = LABEL.exec(body);
      if (!l || l.index !== start) throw new Error(`bad labels in ${JSON.stringify(line)}`);
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const raw = m[3]!;
    // Prometheus parses values with Go's ParseFloat, which takes any case of NaN and Inf (prom-client writes "Nan").
    const value = /^\+?inf$/i.test(raw) ? Infinity : /^-inf$/i.test(raw) ? -Infinity : /^nan$/i.test(raw) ? NaN : Number(raw);
    if (Number.isNaN(value) && !/^nan$/i.test(raw)) throw new Error(`bad value in ${JSON.stringify(line)}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { samples, types };
}

export async function scrape(base: string): Promise<Exposition> {
  const res = await fetch(`${base}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics: HTTP ${res.status}`);
  const type = res.headers.get('content-type');
  if (!type?.startsWith('text/plain')) throw new Error(`/metrics content-type ${type}`);
  return parsePrometheus(await res.text());
}

/** The value of the one sample of `name` whose labels include `labels`; 0 when there is none. */
export function valueOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  const found = exposition.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value ?? 0;
}

/** One namespace's HTTP counts: [port, direction, TCP state code, count]. */
export type Counts = [number, 'in' | 'out', number, number][];

export interface SnapshotShape {
  /** HTTP counts per namespace; the node's connections are their sums. */
  namespaces: Counts[];
  intervalMs: number;
}

/** A port every namespace listens on that is not HTTP: counted by the agent, never an HTTP connection. */
export const NON_HTTP_PORT = 5432;

/** makeSnapshot with several namespaces, each also holding non-HTTP connections and listeners. */
export function buildSnapshot(
  node: string,
  shape: SnapshotShape,
  ids: { epoch: number; seq: number; agentTimeMs: number; goodbye?: boolean; cluster?: string },
): Snapshot {
  const s = makeSnapshot({ node, ...ids, intervalMs: shape.intervalMs, http: shape.namespaces[0] ?? [] });
  const first = s.namespaces[0]!;
  for (let i = 1; i < shape.namespaces.length; i++) {
    s.namespaces.push({
      ...first,
      inode: first.inode + i,
      host: false,
      listeners: first.listeners.map((l) => ({ ...l })),
      ports: shape.namespaces[i]!.map(([port, dir, state, count]) => ({
        port,
        direction: dir === 'in' ? Direction.DIRECTION_INBOUND : Direction.DIRECTION_OUTBOUND,
        state,
        count,
        http: true,
      })),
    });
  }
  for (const ns of s.namespaces) {
    ns.ports.push({ port: NON_HTTP_PORT, direction: Direction.DIRECTION_INBOUND, state: 1, count: 7, http: false });
    ns.listeners.push({ address: '0.0.0.0', port: NON_HTTP_PORT, acceptQueue: 2, http: false });
  }
  return s;
}

/**
 * An agent without /proc: publishes made-to-order snapshots (its shape, an increasing seq) through
 * a real publisher, once on demand or every interval. Publishes never overlap.
 */
export class SimAgent {
  seq = 0;
  /** The last snapshot the publisher reported 'sent'. */
  last: Snapshot | undefined;
  /** Date.now() just before the last publish began. */
  lastPublishStartMs = 0;
  readonly loopErrors: unknown[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly node: string,
    readonly publisher: SnapshotPublisher,
    public shape: SnapshotShape,
    public epoch = 1 + Math.floor(Math.random() * 2 ** 31),
  ) {}

  /** The next snapshot of this run (seq + 1); not sent. */
  next(extra: { goodbye?: boolean; agentTimeMs?: number } = {}): Snapshot {
    return buildSnapshot(this.node, this.shape, { epoch: this.epoch, seq: ++this.seq, agentTimeMs: extra.agentTimeMs ?? Date.now(), ...extra });
  }

  /** Sends the next snapshot (after any publish in flight); fails unless the publisher says 'sent'. */
  publish(extra: { goodbye?: boolean; agentTimeMs?: number } = {}): Promise<Snapshot> {
    const run = this.chain.then(async () => {
      const s = this.next(extra);
      this.lastPublishStartMs = Date.now();
      const result = await this.publisher.publish(s);
      if (result !== 'sent') throw new Error(`${this.node}: publish answered ${result}`);
      this.last = s;
      return s;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Publishes every interval until stop(). */
  run(): void {
    const tick = (): void => {
      this.timer = setTimeout(() => {
        this.publish().catch((e: unknown) => this.loopErrors.push(e));
        tick();
      }, this.shape.intervalMs);
    };
    tick();
  }

  /** Ends the loop and waits for a publish in flight. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.chain;
  }

  async goodbye(): Promise<Snapshot> {
    await this.stop();
    return this.publish({ goodbye: true });
  }
}

/** Client-streams the given bytes as PublishRequests, unchecked, and returns the reply or the error. */
export function sendRawPublish(address: string, messages: Uint8Array[]): Promise<PublishResponse> {
  const client = new Client(address, credentials.createInsecure());
  return new Promise<PublishResponse>((resolve, reject) => {
    const call = client.makeClientStreamRequest<Uint8Array, PublishResponse>(
      IngestServiceService.publish.path,
      (bytes) => Buffer.from(bytes),
      IngestServiceService.publish.responseDeserialize,
      new Metadata(),
      {},
      (error: ServiceError | null, response?: PublishResponse) => {
        client.close();
        if (error || !response) reject(error ?? new Error('no response'));
        else resolve(response);
      },
    );
    for (const message of messages) call.write(message);
    call.end();
  });
}
