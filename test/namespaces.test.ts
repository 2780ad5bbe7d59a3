// Real `ip netns` namespaces as test hosts: each namespace's sockets are reported once and
// separately, however many processes share it, and processes exiting mid-walk are tolerated.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readlinkSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Direction } from '../proto/gen/fleetstat/v1/snapshot.js';
import { NodeSampler } from '../agent/sampler/sample-node.js';
import { createNamespace, deleteAll, netnsSupportProblem } from './support/netns.js';
import type { Namespace } from './support/netns.js';
import { FLEETSTAT_BIN, fleetstat } from './support/fleetstat-cli.js';

// Listens on :80 and holds `k` keep-alive client connections to itself.
const HOLDER = `
const net = require('net');
const k = Number(process.argv[1]);
const held = [];
const server = net.createServer((s) => held.push(s)).listen(80, '0.0.0.0', () => {
  let up = 0;
  for (let i = 0; i < k; i++) held.push(net.connect(80, '127.0.0.1', () => { if (++up === k) console.log('ready'); }));
});
process.stdin.on('end', () => process.exit(0)).resume();
`;

interface TestHost {
  ns: Namespace;
  connections: number;
  extraPids: number;
  inode: number;
}

const nsInode = (pid: number): number => Number(/\d+/.exec(readlinkSync(`/proc/${pid}/ns/net`))?.[0]);
const pidsOf = (ns: Namespace): number[] =>
  execFileSync('ip', ['netns', 'pids', ns.name], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);

describe('network namespaces', () => {
  const hosts: TestHost[] = [];

  beforeAll(async () => {
    const problem = netnsSupportProblem();
    if (problem) throw new Error(`namespace tests need network namespaces: ${problem}`);
    await deleteAll();
    for (const [connections, extraPids] of [
      [1, 0],
      [2, 5],
      [3, 40],
    ] as const) {
      const ns = await createNamespace('walk');
      const holder = ns.spawn(process.execPath, ['-e', HOLDER, String(connections)], { stdio: ['pipe', 'pipe', 'inherit'] });
      await once(createInterface({ input: holder.stdout! }), 'line');
      for (let i = 0; i < extraPids; i++) ns.spawn('sleep', ['600'], { stdio: 'ignore' });
      hosts.push({ ns, connections, extraPids, inode: nsInode(holder.pid!) });
    }
    // Let the sleeps finish exec so every pid is in place.
    await new Promise((r) => setTimeout(r, 300));
  });

  afterAll(async () => {
    for (const host of hosts) await host.ns.delete();
  });

  it('reports each namespace once, with all its pids and its own counts', () => {
    const sampler = new NodeSampler({ procRoot: '/proc', netns: 'all', httpPorts: [80], topK: 5, maxPidsListed: 100 });
    const { namespaces, parse } = sampler.sample();
    expect(parse.badLines).toBe(0);
    const inodes = namespaces.map((n) => n.inode);
    expect(new Set(inodes).size).toBe(inodes.length);
    for (const host of hosts) {
      const found = namespaces.filter((n) => n.inode === host.inode);
      expect(found, host.ns.name).toHaveLength(1);
      const [ns] = found;
      expect(ns?.host).toBe(false);
      expect(ns?.pidCount).toBe(pidsOf(host.ns).length);
      expect(ns?.pidCount).toBeGreaterThanOrEqual(1 + host.extraPids);
      const established = (direction: Direction): number | undefined =>
        ns?.ports.find((p) => p.port === 80 && p.direction === direction && p.state === 1)?.count;
      expect(established(Direction.DIRECTION_INBOUND)).toBe(host.connections);
      expect(established(Direction.DIRECTION_OUTBOUND)).toBe(host.connections);
      expect(ns?.listeners).toEqual([{ address: '0.0.0.0', port: 80, acceptQueue: 0, http: true }]);
      expect(ns?.topRemotes.find((r) => r.direction === Direction.DIRECTION_INBOUND)?.remotes).toEqual([
        { address: '127.0.0.1', count: host.connections },
      ]);
    }
    expect(namespaces.filter((n) => n.host)).toHaveLength(1);
  });

  it('--netns self inside a namespace sees only that namespace', async () => {
    const [host] = hosts;
    if (!host) throw new Error('no host');
    const { stdout } = await host.ns.exec(process.execPath, [FLEETSTAT_BIN, 'agent', '--once', '--netns', 'self']);
    const snapshot = JSON.parse(stdout) as { namespaces: { inode: number }[] };
    expect(snapshot.namespaces.map((n) => n.inode)).toEqual([host.inode]);
  });

  it('netstat --netns all tags rows with their namespace, each namespace\'s rows equal to its netstat', async () => {
    const { stdout, code } = await fleetstat(['netstat', '-tan', '--netns', 'all']);
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[1]).toMatch(/State {6}Netns$/);
    for (const host of hosts) {
      const ours = lines
        .filter((l) => l.endsWith(` ${host.inode}/node`))
        .map((l) => l.slice(0, -` ${host.inode}/node`.length));
      const theirs = (await host.ns.exec('netstat', ['-tan'])).stdout.split('\n').slice(2).filter(Boolean);
      expect(ours).toEqual(theirs);
      expect(ours).toHaveLength(1 + 2 * host.connections);
    }
  });

  it('tolerates processes that exit mid-walk', async () => {
    const [, host] = hosts;
    if (!host) throw new Error('no host');
    const churn = host.ns.spawn('sh', ['-c', 'i=0; while [ $i -lt 800 ]; do /bin/true & i=$((i+1)); done; wait'], {
      stdio: 'ignore',
    });
    const sampler = new NodeSampler({ procRoot: '/proc', netns: 'all', httpPorts: [80], topK: 5, maxPidsListed: 4 });
    let samples = 0;
    const until = Date.now() + 5000;
    while (churn.exitCode === null && Date.now() < until) {
      const sample = sampler.sample();
      samples++;
      const ns = sample.namespaces.find((n) => n.inode === host.inode);
      expect(ns?.ports.find((p) => p.port === 80 && p.direction === Direction.DIRECTION_INBOUND)?.count).toBe(
        host.connections,
      );
      await new Promise((r) => setImmediate(r));
    }
    if (churn.exitCode === null && churn.signalCode === null) await once(churn, 'exit');
    expect(samples).toBeGreaterThan(1);
    expect(churn.exitCode).toBe(0);
  });
});
