// End to end on real network namespaces as nodes: each runs an agent and a real HTTP server,
// clients in other namespaces hold known numbers of keep-alive connections, agents publish to a
// real nats-server, and the collector's fleetstat_http_connections must equal `ss` run inside
// each namespace. A SIGKILLed agent's node goes stale within 3 intervals and leaves the totals.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestLan } from './support/netns-bridge.js';
import { createLan } from './support/netns-bridge.js';
import type { Namespace } from './support/netns.js';
import { createNamespace, deleteAll, netnsSupportProblem } from './support/netns.js';
import type { NatsServer } from './support/nats-server.js';
import { freePort, startNatsServer } from './support/nats-server.js';
import { FLEETSTAT_BIN, fleetstat } from './support/fleetstat-cli.js';
import { startPeer } from './support/http-peers.js';
import { expectedCounts, parseSsTcp } from './support/ss.js';

const INTERVAL_MS = 1000;
const HTTP_PORTS = new Set([80, 443, 8080, 8443]);

interface Node {
  name: string;
  ns: Namespace;
  address: string;
  agent?: ChildProcess;
}

/** Expected `port/direction/state` counts from ss inside the namespace, by the agent's rule. */
async function ssHttpCounts(ns: Namespace): Promise<Record<string, number>> {
  const { stdout } = await ns.exec('ss', ['-Htan']);
  return Object.fromEntries(expectedCounts(parseSsTcp(stdout), HTTP_PORTS, true));
}

/** fleetstat_http_connections of one node from the collector's /metrics. */
function metricCounts(metrics: string, node: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of metrics.split('\n')) {
    const m = /^fleetstat_http_connections\{node="([^"]+)",port="(\d+)",state="(\w+)",direction="(\w+)"\} (\d+)$/.exec(line);
    if (m && m[1] === node) counts[`${m[2]}/${m[4]}/${m[3]}`] = Number(m[5]);
  }
  return counts;
}

describe('fleet end to end: namespaces as nodes, NATS, collector', () => {
  const nodes: Node[] = [];
  const others: Namespace[] = [];
  const processes: ChildProcess[] = [];
  let lan: TestLan;
  let nats: NatsServer;
  let collector: ChildProcess;
  let api = '';

  const metrics = async (): Promise<string> => (await fetch(`${api}/metrics`)).text();

  beforeAll(async () => {
    const problem = netnsSupportProblem();
    if (problem) throw new Error(`the end-to-end test needs network namespaces: ${problem}`);
    await deleteAll();
    lan = await createLan(61);
    // Agents in the namespaces reach nats-server through the LAN's gateway address.
    nats = await startNatsServer({ jetstream: false, args: ['-a', '0.0.0.0'] });
    const httpPort = await freePort();
    api = `http://127.0.0.1:${httpPort}`;
    collector = spawn(process.execPath, [FLEETSTAT_BIN, 'collector', '--cluster', 'e2e', '--nats', nats.url, '--listen', `127.0.0.1:${httpPort}`], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, FLEETSTAT_LOG_LEVEL: 'warn' },
    });
    processes.push(collector);

    for (const name of ['n1', 'n2', 'n3']) {
      const ns = await createNamespace(`e2e-${name}`);
      nodes.push({ name, ns, address: await lan.attach(ns) });
    }
    const client = await createNamespace('e2e-cli');
    others.push(client);
    await lan.attach(client);
    const [n1, n2, n3] = nodes as [Node, Node, Node];

    const start = async (ns: Namespace, args: string[]): Promise<void> => {
      processes.push(await startPeer(ns, args));
    };
    for (const n of nodes) await start(n.ns, ['server', '80']);
    await start(n2.ns, ['server', '8080']);
    // Known keep-alive connections: [from, to address, port, count]
    const plan: [Namespace, string, number, number][] = [
      [n1.ns, n2.address, 80, 4],
      [n1.ns, n3.address, 80, 2],
      [n2.ns, n3.address, 80, 3],
      [n2.ns, n1.address, 80, 5],
      [n3.ns, n1.address, 80, 1],
      [n3.ns, n2.address, 8080, 6],
      [client, n1.address, 80, 7],
    ];
    for (const [from, to, port, count] of plan) await start(from, ['client', to, String(port), String(count)]);

    const gatewayUrl = `nats://${lan.gateway}:${nats.port}`;
    for (const n of nodes) {
      n.agent = n.ns.spawn(
        process.execPath,
        [FLEETSTAT_BIN, 'agent', '--cluster', 'e2e', '--node', n.name, '--nats', gatewayUrl, '--netns', 'self', '--interval', `${INTERVAL_MS}ms`],
        { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, FLEETSTAT_LOG_LEVEL: 'warn' } },
      );
      processes.push(n.agent);
    }
    // Every node live and sampled after all connections were up.
    const settledAfter = Date.now();
    let settled = false;
    for (let i = 0; i < 100 && !settled; i++) {
      try {
        const list = (await (await fetch(`${api}/api/v1/nodes`)).json()) as { name: string; status: string; lastSeen: string }[];
        settled = list.length === 3 && list.every((n) => n.status === 'live' && Date.parse(n.lastSeen) > settledAfter + INTERVAL_MS);
      } catch {
        // collector still starting
      }
      if (!settled) await new Promise((r) => setTimeout(r, 200));
    }
    if (!settled) throw new Error('the three agents did not all report to the collector within 20 s');
  }, 120_000);

  afterAll(async () => {
    for (const proc of processes) {
      try {
        if (proc.exitCode === null && proc.pid) process.kill(proc.pid, 'SIGKILL');
      } catch {
        // exited on its own meanwhile
      }
    }
    for (const n of nodes) await n.ns.delete();
    for (const ns of others) await ns.delete();
    await lan?.delete();
    await nats?.stop();
  });

  it('fleetstat_http_connections equals ss in every namespace, per (port, state, direction)', async () => {
    const text = await metrics();
    const expectedKnown: Record<string, Record<string, number>> = {
      n1: { '80/inbound/ESTABLISHED': 5 + 1 + 7, '80/outbound/ESTABLISHED': 4 + 2 },
      n2: { '80/inbound/ESTABLISHED': 4, '8080/inbound/ESTABLISHED': 6, '80/outbound/ESTABLISHED': 3 + 5 },
      n3: { '80/inbound/ESTABLISHED': 2 + 3, '80/outbound/ESTABLISHED': 1, '8080/outbound/ESTABLISHED': 6 },
    };
    for (const n of nodes) {
      const fromSs = await ssHttpCounts(n.ns);
      expect(fromSs, `ss in ${n.name}`).toEqual(expectedKnown[n.name]);
      expect(metricCounts(text, n.name), `collector for ${n.name}`).toEqual(fromSs);
    }
    const summary = (await (await fetch(`${api}/api/v1/summary`)).json()) as { httpConnections: number; nodes: { live: number } };
    expect(summary.nodes.live).toBe(3);
    expect(summary.httpConnections).toBe(13 + 6 + 4 + 6 + 8 + 5 + 1 + 6);
  });

  it('connections fans detail requests out over NATS: rows per node equal ss', async () => {
    const { stdout, code } = await fleetstat(['connections', '--collector', api, '--port', '80', '--state', 'ESTABLISHED', '-o', 'json']);
    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as { node: string; localPort: number; remotePort: number; state: string }[];
    for (const n of nodes) {
      const { stdout: ss } = await n.ns.exec('ss', ['-Htan', 'state', 'established', '( sport = :80 or dport = :80 )']);
      const expected = ss.split('\n').filter(Boolean).length;
      expect(rows.filter((r) => r.node === n.name), n.name).toHaveLength(expected);
      expect(expected).toBeGreaterThan(0);
    }
    expect(rows.every((r) => r.state === 'ESTABLISHED' && (r.localPort === 80 || r.remotePort === 80))).toBe(true);
  });

  it('a killed agent\'s node is stale within 3 intervals and leaves the totals', async () => {
    const n3 = nodes[2]!;
    const lastSeen = Date.parse(
      ((await (await fetch(`${api}/api/v1/nodes/n3`)).json()) as { lastSeen: string }).lastSeen,
    );
    process.kill(n3.agent!.pid!, 'SIGKILL');
    await once(n3.agent!, 'exit');
    let staleAt = 0;
    for (let i = 0; i < 100 && !staleAt; i++) {
      const node = (await (await fetch(`${api}/api/v1/nodes/n3`)).json()) as { status: string };
      if (node.status === 'stale') staleAt = Date.now();
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(staleAt).toBeGreaterThan(0);
    // Stale once 3 intervals pass without a snapshot (the collector sweeps every second).
    expect(staleAt - lastSeen).toBeGreaterThan(3 * INTERVAL_MS);
    expect(staleAt - lastSeen).toBeLessThan(3 * INTERVAL_MS + 1500);
    const text = await metrics();
    expect(metricCounts(text, 'n3')).toEqual({});
    expect(text).toContain('fleetstat_nodes{status="stale"} 1');
    const summary = (await (await fetch(`${api}/api/v1/summary`)).json()) as { httpConnections: number };
    expect(summary.httpConnections).toBe(13 + 6 + 4 + 6 + 8);
  });
});
