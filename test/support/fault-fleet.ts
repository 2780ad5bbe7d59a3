// One fleet for the fault tests: three node namespaces and a client namespace on a bridged
// LAN, a real HTTP server in every node with keep-alive clients between them, an agent per
// node (n3 publishes through JetStream), a real nats-server with a JetStream store dir and
// its monitoring port, and two collectors: `core` (plain NATS) and `js` (--jetstream). Both
// collectors must agree with `ss` in every namespace after every fault.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CollectorChild, scrape, valueOf } from './collector-child.js';
import type { Exposition } from './collector-child.js';
import { FLEETSTAT_BIN } from './fleetstat-cli.js';
import { startPeer } from './http-peers.js';
import type { TestLan } from './netns-bridge.js';
import { createLan } from './netns-bridge.js';
import type { Namespace } from './netns.js';
import { createNamespace, deleteAll, netnsSupportProblem } from './netns.js';
import type { NatsServer } from './nats-server.js';
import { freePort, startNatsServer } from './nats-server.js';
import { expectedCounts, parseSsTcp } from './ss.js';

export const CLUSTER = 'faults';
export const INTERVAL_MS = 2000;
const HTTP_PORTS = new Set([80, 443, 8080, 8443]);
/** The slow-consumer fault needs the server to give up on a stopped collector soon. */
const NATS_CONFIG = 'max_pending: 1MB\nwrite_deadline: "2s"\n';

export type CollectorName = 'core' | 'js';
export type Counts = Record<string, number>;

export interface FleetNode {
  name: string;
  ns: Namespace;
  address: string;
  jetstream: boolean;
  agent: ChildProcess | undefined;
  /** Resolves with the time the current agent logged "agent started" (connected, sampling). */
  agentStarted: Promise<number>;
}

export interface Exactness {
  exact: boolean;
  /** What differed, for the failure message. */
  detail: string;
}

export interface IngestFigures {
  received: number;
  accepted: number;
  rejected: Record<string, number>;
}

export class FaultFleet {
  readonly nodes: FleetNode[] = [];
  readonly collectors = new Map<CollectorName, CollectorChild>();
  private readonly collectorPorts = new Map<CollectorName, number>();
  private readonly peers: ChildProcess[] = [];
  private readonly namespaces: Namespace[] = [];
  private confDir = '';
  lan!: TestLan;
  nats!: NatsServer;
  monitorPort = 0;
  client!: Namespace;

  static async create(subnet: number): Promise<FaultFleet> {
    const problem = netnsSupportProblem();
    if (problem) throw new Error(`the fault tests need network namespaces: ${problem}`);
    const fleet = new FaultFleet();
    try {
      await fleet.build(subnet);
    } catch (err) {
      await fleet.delete();
      throw err;
    }
    return fleet;
  }

  private async build(subnet: number): Promise<void> {
    await deleteAll({ prefix: 'flt' });
    this.lan = await createLan(subnet);
    this.confDir = mkdtempSync(join(tmpdir(), 'fleetstat-faults-'));
    writeFileSync(join(this.confDir, 'nats.conf'), NATS_CONFIG);
    this.monitorPort = await freePort();
    // Listening on every address: agents in the namespaces dial it at the LAN's gateway address.
    this.nats = await startNatsServer({
      jetstream: true,
      args: ['-a', '0.0.0.0', '-m', String(this.monitorPort), '-c', join(this.confDir, 'nats.conf')],
    });
    // Collectors first: the js collector creates the stream n3's agent publishes into.
    for (const name of ['core', 'js'] as const) this.collectorPorts.set(name, await freePort());
    await Promise.all((['core', 'js'] as const).map((name) => this.startCollector(name)));

    for (const name of ['n1', 'n2', 'n3']) {
      const ns = await createNamespace('flt');
      this.namespaces.push(ns);
      this.nodes.push({ name, ns, address: await this.lan.attach(ns), jetstream: name === 'n3', agent: undefined, agentStarted: Promise.resolve(0) });
    }
    this.client = await createNamespace('flt');
    this.namespaces.push(this.client);
    await this.lan.attach(this.client);
    const [n1, n2, n3] = this.nodes as [FleetNode, FleetNode, FleetNode];
    for (const n of this.nodes) this.peers.push(await startPeer(n.ns, ['server', '80']));
    this.peers.push(await startPeer(n2.ns, ['server', '8080']));
    const plan: [Namespace, string, number, number][] = [
      [n1.ns, n2.address, 80, 4],
      [n2.ns, n3.address, 80, 3],
      [n3.ns, n1.address, 80, 2],
      [n3.ns, n2.address, 8080, 5],
      [this.client, n1.address, 80, 6],
    ];
    for (const [from, to, port, count] of plan) await this.addClients(from, to, port, count);
    for (const n of this.nodes) this.startAgent(n);
  }

  node(name: string): FleetNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  collector(name: CollectorName): CollectorChild {
    const c = this.collectors.get(name);
    if (!c) throw new Error(`no collector ${name}`);
    return c;
  }

  /** Spawns the collector (not waiting for it to be ready). */
  startCollector(name: CollectorName): Promise<void> {
    const args = ['--cluster', CLUSTER, '--nats', this.nats.url, ...(name === 'js' ? ['--jetstream'] : [])];
    const child = CollectorChild.spawn(this.collectorPorts.get(name)!, args);
    this.collectors.set(name, child);
    return child.listening;
  }

  /**
   * Starts the node's agent; `skew` (e.g. '+30s') shifts its clock with libfaketime, preloaded
   * directly rather than through the `faketime` wrapper, which forks: the child's pid must be
   * the agent's, or killing it would leave the agent running.
   */
  startAgent(n: FleetNode, skew?: string): ChildProcess {
    const args = [
      FLEETSTAT_BIN, 'agent', '--cluster', CLUSTER, '--node', n.name, '--nats', `nats://${this.lan.gateway}:${this.nats.port}`,
      ...(n.jetstream ? ['--jetstream'] : []), '--netns', 'self', '--interval', `${INTERVAL_MS}ms`,
    ];
    const env = { ...process.env, FLEETSTAT_LOG_LEVEL: 'info', ...(skew ? { LD_PRELOAD: libfaketime(), FAKETIME: skew } : {}) };
    const agent = n.ns.spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    n.agent = agent;
    n.agentStarted = new Promise<number>((resolve, reject) => {
      createInterface({ input: agent.stderr! }).on('line', (line) => {
        let entry: { level?: number; msg?: string } = {};
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          // not pino's: shown below
        }
        if (entry.msg === 'agent started') resolve(Date.now());
        // Warnings and worse (and anything unparsed) stay visible in the test output.
        if (entry.level === undefined || entry.level >= 40) process.stderr.write(`${n.name}: ${line}\n`);
      });
      agent.once('exit', (code, signal) => reject(new Error(`agent ${n.name} exited (${code ?? signal}) before it started`)));
    });
    n.agentStarted.catch(() => undefined);
    return agent;
  }

  async killAgent(n: FleetNode, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const agent = n.agent;
    if (!agent?.pid || agent.exitCode !== null || agent.signalCode !== null) return;
    const exited = once(agent, 'exit');
    process.kill(agent.pid, signal);
    await exited;
  }

  /** `count` more keep-alive connections from `from` to address:port, held until the fleet is deleted. */
  async addClients(from: Namespace, address: string, port: number, count: number): Promise<void> {
    this.peers.push(await startPeer(from, ['client', address, String(port), String(count)]));
  }

  /** `port/direction/state` counts by the agent's rule from `ss` inside the node's namespace. */
  async ssCounts(n: FleetNode): Promise<Counts> {
    const { stdout } = await n.ns.exec('ss', ['-Htan']);
    return Object.fromEntries(expectedCounts(parseSsTcp(stdout), HTTP_PORTS, true));
  }

  /** ss counts of every node, read once for all collectors compared against them. */
  async ssAll(): Promise<Map<string, Counts>> {
    return new Map(await Promise.all(this.nodes.map(async (n) => [n.name, await this.ssCounts(n)] as const)));
  }

  /** Every node's counts equal ss, the cluster total is their sum, and all nodes are live. */
  async exactness(name: CollectorName, ss: Map<string, Counts>): Promise<Exactness> {
    const base = this.collector(name).base;
    let metrics: Exposition;
    let summary: { httpConnections: number; nodes: { live: number; stale: number } };
    try {
      metrics = await scrape(base);
      summary = (await (await fetch(`${base}/api/v1/summary`)).json()) as typeof summary;
    } catch (err) {
      return { exact: false, detail: `collector ${name} did not answer: ${(err as Error).message}` };
    }
    const problems: string[] = [];
    let ssTotal = 0;
    for (const n of this.nodes) {
      const expected = ss.get(n.name) ?? {};
      ssTotal += Object.values(expected).reduce((a, b) => a + b, 0);
      const got = countsOf(metrics, n.name);
      if (JSON.stringify(sorted(got)) !== JSON.stringify(sorted(expected))) {
        problems.push(`${n.name}: collector ${JSON.stringify(sorted(got))} ss ${JSON.stringify(sorted(expected))}`);
      }
    }
    if (summary.nodes.live !== this.nodes.length) problems.push(`live nodes ${summary.nodes.live}`);
    if (summary.httpConnections !== ssTotal) problems.push(`cluster total ${summary.httpConnections}, sum of ss ${ssTotal}`);
    return { exact: problems.length === 0, detail: problems.join('; ') };
  }

  /**
   * Polls every 100 ms until both collectors are exact; returns by when each was, in ms after
   * `sinceMs`. Throws past the deadline with what still differed and the collectors' recent
   * log lines.
   */
  async untilExact(sinceMs: number, deadlineMs: number): Promise<Record<CollectorName, number>> {
    const at: Partial<Record<CollectorName, number>> = {};
    let last: Record<string, string> = {};
    for (;;) {
      const polledAt = Date.now();
      const ss = await this.ssAll();
      for (const name of ['core', 'js'] as const) {
        if (at[name] !== undefined) continue;
        const e = await this.exactness(name, ss);
        // Exact as of some moment in this poll: reported as its end (an upper bound), held to the deadline by its start.
        if (e.exact && polledAt <= deadlineMs) at[name] = Date.now() - sinceMs;
        else last[name] = e.detail || 'exact only after the deadline';
      }
      if (at.core !== undefined && at.js !== undefined) return at as Record<CollectorName, number>;
      if (Date.now() > deadlineMs) {
        const logs = Object.keys(last).map((name) => `collector ${name}:\n${this.collector(name as CollectorName).stderrText()}`);
        throw new Error(`not exact within ${deadlineMs - sinceMs} ms: ${JSON.stringify(last)}\n${logs.join('\n')}`);
      }
      last = {};
      await sleep(100);
    }
  }

  async ingestFigures(name: CollectorName): Promise<IngestFigures> {
    const m = await scrape(this.collector(name).base);
    const rejected: Record<string, number> = {};
    for (const s of m.samples) if (s.name === 'fleetstat_ingest_snapshots_rejected_total' && s.value > 0) rejected[s.labels['reason']!] = s.value;
    const received = m.samples.filter((s) => s.name === 'fleetstat_ingest_snapshots_received_total').reduce((a, s) => a + s.value, 0);
    return { received, accepted: valueOf(m, 'fleetstat_ingest_snapshots_accepted_total'), rejected };
  }

  /** nats-server's /varz (slow_consumers and friends). */
  async varz(): Promise<Record<string, unknown>> {
    return (await (await fetch(`http://127.0.0.1:${this.monitorPort}/varz`)).json()) as Record<string, unknown>;
  }

  async delete(): Promise<void> {
    for (const c of this.collectors.values()) await c.stop().catch(() => undefined);
    for (const ns of this.namespaces) await ns.delete();
    await this.lan?.delete();
    await this.nats?.stop();
    if (this.confDir) rmSync(this.confDir, { recursive: true, force: true });
  }
}

const LIBFAKETIME_DIRS = ['/usr/lib/x86_64-linux-gnu/faketime', '/usr/lib/aarch64-linux-gnu/faketime', '/usr/lib/faketime'];

function libfaketime(): string {
  for (const dir of LIBFAKETIME_DIRS) {
    const lib = join(dir, 'libfaketime.so.1');
    if (existsSync(lib)) return lib;
  }
  throw new Error(`libfaketime.so.1 not found in ${LIBFAKETIME_DIRS.join(', ')}: apt-get install -y faketime`);
}

function countsOf(metrics: Exposition, node: string): Counts {
  const counts: Counts = {};
  for (const s of metrics.samples) {
    if (s.name !== 'fleetstat_http_connections' || s.labels['node'] !== node || s.value === 0) continue;
    counts[`${s.labels['port']}/${s.labels['direction']}/${s.labels['state']}`] = s.value;
  }
  return counts;
}

function sorted(counts: Counts): [string, number][] {
  return Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1));
}
