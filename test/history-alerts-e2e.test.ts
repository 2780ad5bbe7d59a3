// End to end on real network namespaces: history and surge alerts. A server namespace runs an
// agent and an HTTP server on :80; a client namespace holds keep-alive connections in steps
// (5, then 20, then 8), each held longer than the collector's 10 s history interval, and the
// report (CLI and /api/v1/report) must give the highest step as peak and the final one as last.
// That steady load raises no alert; then a burst of new connections from a third namespace must
// raise a connection_surge naming that namespace's address within 2 alert intervals.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestLan } from './support/netns-bridge.js';
import { startPeer } from './support/http-peers.js';
import { createLan } from './support/netns-bridge.js';
import type { Namespace } from './support/netns.js';
import { createNamespace, deleteAll, netnsSupportProblem } from './support/netns.js';
import type { NatsServer } from './support/nats-server.js';
import { freePort, startNatsServer } from './support/nats-server.js';
import { FLEETSTAT_BIN, fleetstat } from './support/fleetstat-cli.js';

const INTERVAL_MS = 1000;
const ALERT_EVERY_MS = 1000;
/** The collector records history every 10 s (Collector historyEveryMs default); a step held longer is sampled at least once. */
const HISTORY_EVERY_MS = 10_000;
const STEPS = [5, 20, 8] as const;
const BURST = 150;
const SERVER = 'srv';

interface ReportRow {
  node: string;
  port: number;
  direction: string;
  state: string;
  peak: number;
  p95: number;
  avg: number;
  last: number;
}

interface RemoteTally {
  address: string;
  count: number;
}

interface Alert {
  id: string;
  kind: string;
  scope: { node?: string; port: number };
  startedAt: number;
  value: number;
  topRemotes: RemoteTally[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** fleetstat_http_connections{node, port=80, state=ESTABLISHED, direction=inbound} from /metrics. */
function inboundEstablished80(metrics: string, node: string): number {
  for (const line of metrics.split('\n')) {
    const m = /^fleetstat_http_connections\{node="([^"]+)",port="80",state="ESTABLISHED",direction="inbound"\} (\d+)$/.exec(line);
    if (m && m[1] === node) return Number(m[2]);
  }
  return 0;
}

function serverRow(rows: readonly ReportRow[]): ReportRow | undefined {
  return rows.find((r) => r.node === SERVER && r.port === 80 && r.direction === 'inbound' && r.state === 'ESTABLISHED');
}

describe('history and surge alerts end to end: namespaces, NATS, collector', () => {
  const namespaces: Namespace[] = [];
  const processes: ChildProcess[] = [];
  let lan: TestLan;
  let nats: NatsServer;
  let api = '';
  let server: Namespace;
  let client: Namespace;
  let burst: Namespace;
  let burstAddress = '';
  let serverAddress = '';
  // What the collector published on fleetstat.v1.hae2e.alert, as a subscriber sees it.
  let watcher: NatsConnection | undefined;
  const published: { type: string; kind: string; scope: { node?: string; port: number }; topRemotes: { address: string }[] }[] = [];

  const getJson = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${api}${path}`);
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const metrics = async (): Promise<string> => (await fetch(`${api}/metrics`)).text();
  const alerts = (): Promise<{ active: Alert[]; recent: Alert[] }> => getJson('/api/v1/alerts');

  const peer = async (ns: Namespace, args: string[]): Promise<ChildProcess> => {
    const proc = await startPeer(ns, args);
    processes.push(proc);
    return proc;
  };

  const kill = async (proc: ChildProcess): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    process.kill(proc.pid!, 'SIGKILL');
    await exited;
  };

  /** Wait until the collector shows `count` inbound ESTABLISHED connections on the server's :80, sampled after now. */
  const waitForCount = async (count: number, timeoutMs = 10_000): Promise<number> => {
    const deadline = Date.now() + timeoutMs;
    let seen = -1;
    while (Date.now() < deadline) {
      seen = inboundEstablished80(await metrics(), SERVER);
      if (seen === count) return Date.now();
      await sleep(100);
    }
    throw new Error(`the collector showed ${seen} inbound ESTABLISHED connections on ${SERVER}:80, not ${count}, after ${timeoutMs} ms`);
  };

  beforeAll(async () => {
    const problem = netnsSupportProblem();
    if (problem) throw new Error(`the end-to-end test needs network namespaces: ${problem}`);
    await deleteAll();
    lan = await createLan(62);
    nats = await startNatsServer({ jetstream: false, args: ['-a', '0.0.0.0'] });
    watcher = await connect({ servers: nats.url });
    const subscription = watcher.subscribe('fleetstat.v1.hae2e.alert');
    void (async () => {
      for await (const message of subscription) published.push(message.json());
    })();
    await watcher.flush();
    const httpPort = await freePort();
    api = `http://127.0.0.1:${httpPort}`;
    const collector = spawn(
      process.execPath,
      [
        FLEETSTAT_BIN, 'collector', '--cluster', 'hae2e', '--nats', nats.url, '--listen', `127.0.0.1:${httpPort}`,
        '--alert-every', `${ALERT_EVERY_MS}ms`, '--alert-warmup', '5', '--alert-min-rise', '20',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, FLEETSTAT_LOG_LEVEL: 'error' } },
    );
    processes.push(collector);

    server = await createNamespace('hae2e-srv');
    client = await createNamespace('hae2e-cli');
    burst = await createNamespace('hae2e-burst');
    namespaces.push(server, client, burst);
    serverAddress = await lan.attach(server);
    await lan.attach(client);
    burstAddress = await lan.attach(burst);
    await peer(server, ['server', '80']);

    const agent = server.spawn(
      process.execPath,
      [FLEETSTAT_BIN, 'agent', '--cluster', 'hae2e', '--node', SERVER, '--nats', `nats://${lan.gateway}:${nats.port}`, '--netns', 'self', '--interval', `${INTERVAL_MS}ms`],
      { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, FLEETSTAT_LOG_LEVEL: 'warn' } },
    );
    processes.push(agent);
    let live = false;
    for (let i = 0; i < 100 && !live; i++) {
      try {
        const list = await getJson<{ name: string; status: string }[]>('/api/v1/nodes');
        live = list.some((n) => n.name === SERVER && n.status === 'live');
      } catch {
        // collector still starting
      }
      if (!live) await sleep(200);
    }
    if (!live) throw new Error('the agent did not report to the collector within 20 s');
  }, 60_000);

  afterAll(async () => {
    for (const proc of processes) {
      try {
        if (proc.exitCode === null && proc.signalCode === null && proc.pid) process.kill(proc.pid, 'SIGKILL');
      } catch {
        // exited on its own meanwhile
      }
    }
    for (const ns of namespaces) await ns.delete();
    await lan?.delete();
    await watcher?.close();
    await nats?.stop();
  });

  it('a load stepping 5 → 20 → 8 gives peak 20 and last 8 in the report (CLI and API), and raises no alert', async () => {
    const started = Date.now();
    let previous: ChildProcess | undefined;
    for (const [i, count] of STEPS.entries()) {
      // Close the previous step first: the count dips in between, but never exceeds the highest step.
      if (previous) await kill(previous);
      previous = await peer(client, ['client', serverAddress, '80', String(count)]);
      const shownAt = await waitForCount(count);
      // Longer than the history interval after the collector shows the step: sampled at least once.
      await sleep(shownAt + HISTORY_EVERY_MS + 700 - Date.now());
      expect(inboundEstablished80(await metrics(), SERVER), `step ${i + 1} held`).toBe(count);
    }
    console.log(`steps held in ${Date.now() - started} ms`);

    const { stdout, stderr, code } = await fleetstat(['report', '--collector', api, '--since', '10m', '--by', 'node', '-o', 'json']);
    expect(code, stderr).toBe(0);
    const cliRow = serverRow(JSON.parse(stdout) as ReportRow[]);
    expect(cliRow, stdout).toBeDefined();
    expect(cliRow).toMatchObject({ peak: Math.max(...STEPS), last: STEPS[2] });

    const report = await getJson<{ rows: ReportRow[] }>('/api/v1/report?since=10m&by=node');
    const apiRow = serverRow(report.rows);
    expect(apiRow).toMatchObject({ peak: Math.max(...STEPS), last: STEPS[2] });

    // The steady load (steps under --alert-min-rise, then 8 held for over 10 s) raised nothing.
    const { active, recent } = await alerts();
    expect(active).toEqual([]);
    expect(recent).toEqual([]);
    expect(published).toEqual([]);
    expect(await metrics()).toContain('fleetstat_alerts_active{kind="connection_surge"} 0');
  }, 60_000);

  it('a burst of new connections from one namespace raises a connection_surge naming its address within 2 intervals', async () => {
    // Still steady just before the burst.
    expect((await alerts()).active).toEqual([]);
    await peer(burst, ['client', serverAddress, '80', String(BURST)]);
    const burstUp = Date.now();
    let surge: Alert | undefined;
    let raisedAfter = -1;
    while (!surge && Date.now() - burstUp < 10_000) {
      surge = (await alerts()).active.find((a) => a.kind === 'connection_surge' && a.scope.node === SERVER && a.scope.port === 80);
      if (surge) raisedAfter = Date.now() - burstUp;
      else await sleep(100);
    }
    console.log(`connection_surge visible ${raisedAfter} ms after the burst was up: ${JSON.stringify(surge)}`);
    expect(surge, 'a connection_surge on srv:80').toBeDefined();
    // 2 alert intervals, plus the agent's 1 s sampling and publishing.
    expect(raisedAfter).toBeLessThan(2 * ALERT_EVERY_MS + INTERVAL_MS + 1000);
    expect(surge!.topRemotes[0]?.address).toBe(burstAddress);
    expect(surge!.topRemotes[0]?.count).toBeGreaterThanOrEqual(BURST / 2);
    expect(surge!.value).toBeGreaterThanOrEqual(STEPS[2] + 20);

    // Every active surge (per node, cluster-wide) names the burst namespace first; the gauge counts them.
    const { active } = await alerts();
    const surges = active.filter((a) => a.kind === 'connection_surge');
    expect(surges.length).toBeGreaterThan(0);
    for (const a of surges) expect(a.topRemotes[0]?.address, JSON.stringify(a)).toBe(burstAddress);
    // The same alert went out on NATS, naming the burst namespace.
    const deadline = Date.now() + 2000;
    let sent: (typeof published)[number] | undefined;
    while (!sent && Date.now() < deadline) {
      sent = published.find((m) => m.type === 'raised' && m.kind === 'connection_surge' && m.scope.node === SERVER && m.scope.port === 80);
      if (!sent) await sleep(50);
    }
    expect(sent, JSON.stringify(published)).toBeDefined();
    expect(sent!.topRemotes[0]?.address).toBe(burstAddress);
    const gauge = /^fleetstat_alerts_active\{kind="connection_surge"\} (\d+)$/m.exec(await metrics());
    expect(Number(gauge?.[1])).toBeGreaterThan(0);
  }, 30_000);
});
