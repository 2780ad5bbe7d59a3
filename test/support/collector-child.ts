// The real collector as a child process for integration tests: the built CLI, spawned with
// FLEETSTAT_LOG_LEVEL=info, its pino JSON lines on stderr parsed as they arrive. Also a strict
// parser for the Prometheus text of /metrics, and a simulated agent that publishes made-to-order
// snapshots through a real publisher (NatsPublisher, GrpcPublisher).
import type { ServiceError } from '@grpc/grpc-js';
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { SnapshotPublisher } from '../../agent/publish/snapshot-publisher.js';
import { IngestServiceService } from '../../proto/gen/fleetstat/v1/ingest.js';
import type { PublishResponse } from '../../proto/gen/fleetstat/v1/ingest.js';
import { Direction } from '../../proto/gen/fleetstat/v1/snapshot.js';
import type { Snapshot } from '../../proto/gen/fleetstat/v1/snapshot.js';
import { FLEETSTAT_BIN } from './fleetstat-cli.js';
import { makeSnapshot } from './snapshots.js';

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) if (child.pid !== undefined && child.exitCode === null) child.kill('SIGKILL');
});

export class CollectorChild {
  /** Every JSON log line so far, in order. */
  readonly logs: LogLine[] = [];
  /** stderr lines that are not JSON (a crash's stack trace, say). */
  readonly otherStderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    private readonly child: ChildProcess,
    readonly base: string,
  ) {
    children.add(child);
    this.exited = once(child, 'exit').then(([code, signal]) => {
      children.delete(child);
      return { code: code as number | null, signal: signal as NodeJS.Signals | null };
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.otherStderr.push(line);
      }
    });
    // Ready, not just listening: HTTP answers (503) while transports start and JetStream recovers.
    const listening = this.waitForLog('collector ready', (l) => l.msg === 'collector ready', 15_000);
    const died = this.exited.then((e) => {
      throw new Error(`collector exited (${e.code ?? e.signal}) before listening:\n${this.stderrText()}`);
    });
    this.listening = Promise.race([listening.then(() => undefined), died]);
    // Whoever awaits `listening` sees a failure; nobody awaiting it must not be an unhandled rejection.
    this.listening.catch(() => undefined);
  }

  /** Resolves once the collector logs "collector ready"; rejects if it exits first. */
  readonly listening: Promise<void>;

  /** `fleetstat collector --listen 127.0.0.1:<httpPort> ...args`, returned at once (see `listening`). */
  static spawn(httpPort: number, args: string[]): CollectorChild {
    const child = spawn(process.execPath, [FLEETSTAT_BIN, 'collector', '--listen', `127.0.0.1:${httpPort}`, ...args], {
      env: { ...process.env, FLEETSTAT_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    return new CollectorChild(child, `http://127.0.0.1:${httpPort}`);
  }

  static async start(httpPort: number, args: string[]): Promise<CollectorChild> {
    const collector = CollectorChild.spawn(httpPort, args);
    await collector.listening;
    return collector;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  logsWith(msg: string): LogLine[] {
    return this.logs.filter((l) => l.msg === msg);
  }

  async waitForLog(what: string, match: (line: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs.find(match);
      if (found) return found;
      if (!this.running) throw new Error(`collector exited without logging ${what}:\n${this.stderrText()}`);
      if (Date.now() > deadline) throw new Error(`collector did not log ${what} within ${timeoutMs} ms:\n${this.stderrText()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  stderrText(): string {
    return [...this.logs.map((l) => JSON.stringify(l)), ...this.otherStderr].slice(-40).join('\n');
  }

  /** Signals our own child by pid and waits for it to exit. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    if (!this.running || this.child.pid === undefined) return;
    process.kill(this.child.pid, signal);
    await this.exited;
  }

  /** SIGTERM, then SIGKILL after 5 s. Safe to call twice. */
  async stop(): Promise<void> {
    if (!this.running || this.child.pid === undefined) return;
    const timer = setTimeout(() => {
      if (this.running) this.child.kill('SIGKILL');
    }, 5000);
    await this.kill('SIGTERM');
    clearTimeout(timer);
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
