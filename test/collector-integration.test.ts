// The real collector binary against a real nats-server (JetStream) and real gRPC on 127.0.0.1,
// fed by the real NatsPublisher and GrpcPublisher with made-to-order snapshots, and checked only
// through its HTTP API, /metrics and its log. After every step the collector must match a model
// of what the agents sent, exactly: per (node, port, state, direction), per status, in total.
// Bad input is in collector-bad-input.test.ts.
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GrpcPublisher } from '../agent/publish/grpc-publisher.js';
import { NatsPublisher } from '../agent/publish/nats-publisher.js';
import { snapshotSubject } from '../agent/publish/snapshot-publisher.js';
import type { SnapshotPublisher } from '../agent/publish/snapshot-publisher.js';
import { PublishRequest } from '../proto/gen/fleetstat/v1/ingest.js';
import { Snapshot, TcpState } from '../proto/gen/fleetstat/v1/snapshot.js';
import type { Counts, Exposition } from './support/collector-child.js';
import { buildSnapshot, CollectorChild, getJson, NON_HTTP_PORT, scrape, sendRawPublish, SimAgent, valueOf } from './support/collector-child.js';
import { freePort, startNatsServer } from './support/nats-server.js';
import type { NatsServer } from './support/nats-server.js';
import { waitFor } from './support/recording-ingest.js';

const CLUSTER = 'test';
const { TCP_STATE_ESTABLISHED: EST, TCP_STATE_TIME_WAIT: TW, TCP_STATE_SYN_RECV: SYN, TCP_STATE_CLOSE_WAIT: CW } = TcpState;

interface NodeView {
  name: string;
  status: 'live' | 'stale';
  staleReason?: string;
  epoch: number;
  seq: number;
  httpConnections: number;
}
interface SummaryView {
  nodes: { live: number; stale: number };
  httpConnections: number;
  connections: { port: number; direction: string; state: string; count: number }[];
}

/** What the collector should hold for each node: its last accepted snapshot and status. */
interface Expected {
  status: 'live' | 'stale';
  staleReason?: 'goodbye' | 'missed_intervals';
  transport: 'nats' | 'grpc';
  snapshot: Snapshot;
}

let nats: NatsServer;
let collector: CollectorChild;
let rawNc: NatsConnection;
let httpPort = 0;
let grpcPort = 0;
const publishers: SnapshotPublisher[] = [];
const agents: SimAgent[] = [];
/** The agents of the running test. */
const testAgents: SimAgent[] = [];
const model = new Map<string, Expected>();

const collectorArgs = () => ['--cluster', CLUSTER, '--nats', nats.url, '--jetstream', '--grpc', `127.0.0.1:${grpcPort}`];

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: true });
  [httpPort, grpcPort] = [await freePort(), await freePort()];
  collector = await CollectorChild.start(httpPort, collectorArgs());
  rawNc = await connect({ servers: nats.url });
});

// A test that failed midway leaves its nodes in some state: they say goodbye from a new run
// (later agent clock), so that the next test starts from a known fleet.
afterEach(async () => {
  for (const a of testAgents.splice(0)) {
    await a.stop();
    if (a.last?.goodbye) continue;
    a.epoch += 1000;
    a.seq = 0;
    try {
      await a.publish({ goodbye: true, agentTimeMs: Date.now() + 600_000 });
      await untilSeen([a]);
      said(a);
    } catch {
      // the collector is gone; the next test fails on its own
    }
  }
});

afterAll(async () => {
  for (const a of agents) await a.stop();
  await Promise.all(publishers.map((p) => p.shutdown(1000)));
  await rawNc?.close();
  await collector?.stop();
  await nats?.stop();
});

async function agent(node: string, transport: 'nats' | 'grpc' | 'jetstream', namespaces: Counts[], intervalMs: number): Promise<SimAgent> {
  const publisher =
    transport === 'grpc'
      ? new GrpcPublisher({ address: `127.0.0.1:${grpcPort}`, backoff: { initialMs: 50, maxMs: 200 }, startTimeoutMs: 3000, publishTimeoutMs: 2000 })
      : new NatsPublisher({ servers: nats.url, cluster: CLUSTER, node, jetstream: transport === 'jetstream', reconnectTimeWaitMs: 100, reconnectJitterMs: 50, publishTimeoutMs: 2000 });
  publishers.push(publisher);
  await publisher.start();
  const a = new SimAgent(node, publisher, { namespaces, intervalMs });
  agents.push(a);
  testAgents.push(a);
  return a;
}

const transportOf = (a: SimAgent): 'nats' | 'grpc' => (a.publisher.transport === 'grpc' ? 'grpc' : 'nats');
const live = (a: SimAgent): void => void model.set(a.node, { status: 'live', transport: transportOf(a), snapshot: a.last! });
const said = (a: SimAgent): void => void model.set(a.node, { status: 'stale', staleReason: 'goodbye', transport: transportOf(a), snapshot: a.last! });

/** HTTP connections of a snapshot as the contract names them: "port state direction" → count, summed over namespaces. */
function connectionsOf(s: Snapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const ns of s.namespaces) {
    for (const p of ns.ports) {
      if (!p.http) continue;
      const key = `${p.port} ${TcpState[p.state]!.replace('TCP_STATE_', '')} ${p.direction === 1 ? 'inbound' : 'outbound'}`;
      out[key] = (out[key] ?? 0) + p.count;
    }
  }
  return out;
}
const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

/** The collector's whole answer (nodes, /metrics, summary) equals the model, exactly. */
async function expectCollectorMatchesModel(): Promise<Exposition> {
  const liveNodes = [...model].filter(([, e]) => e.status === 'live');
  const nodes = await getJson<NodeView[]>(`${collector.base}/api/v1/nodes`);
  expect(Object.fromEntries(nodes.map((n) => [n.name, { status: n.status, staleReason: n.staleReason, epoch: n.epoch, http: n.httpConnections }]))).toEqual(
    Object.fromEntries(
      [...model].map(([name, e]) => [
        name,
        { status: e.status, staleReason: e.staleReason, epoch: e.snapshot.epoch, http: e.status === 'live' ? sum(connectionsOf(e.snapshot)) : 0 },
      ]),
    ),
  );

  const metrics = await scrape(collector.base);
  expect(metrics.types.get('fleetstat_http_connections')).toBe('gauge');
  const byNode: Record<string, Record<string, number>> = {};
  for (const s of metrics.samples.filter((x) => x.name === 'fleetstat_http_connections')) {
    expect(Object.keys(s.labels).sort()).toEqual(['direction', 'node', 'port', 'state']);
    const { node, port, state, direction } = s.labels as Record<string, string>;
    const key = `${port} ${state} ${direction}`;
    expect(byNode[node!]?.[key], `one series per (node, port, state, direction): ${node} ${key}`).toBeUndefined();
    (byNode[node!] ??= {})[key] = s.value;
  }
  expect(byNode).toEqual(Object.fromEntries(liveNodes.map(([name, e]) => [name, connectionsOf(e.snapshot)])));
  // Listeners have their own gauge (per port, over namespaces), never counted as connections.
  for (const [name, e] of liveNodes) {
    const ns = e.snapshot.namespaces.length;
    expect(valueOf(metrics, 'fleetstat_listeners', { node: name, port: '80' })).toBe(ns);
    expect(valueOf(metrics, 'fleetstat_listeners', { node: name, port: String(NON_HTTP_PORT) })).toBe(ns);
    expect(valueOf(metrics, 'fleetstat_listen_accept_queue', { node: name, port: String(NON_HTTP_PORT) })).toBe(2 * ns);
  }
  const listenerNodes = new Set(metrics.samples.filter((s) => s.name === 'fleetstat_listeners').map((s) => s.labels['node']));
  expect([...listenerNodes].sort()).toEqual(liveNodes.map(([name]) => name).sort());
  expect(valueOf(metrics, 'fleetstat_nodes', { status: 'live' })).toBe(liveNodes.length);
  expect(valueOf(metrics, 'fleetstat_nodes', { status: 'stale' })).toBe(model.size - liveNodes.length);

  const summary = await getJson<SummaryView>(`${collector.base}/api/v1/summary`);
  const totals: Record<string, number> = {};
  for (const [, e] of liveNodes) for (const [k, v] of Object.entries(connectionsOf(e.snapshot))) totals[k] = (totals[k] ?? 0) + v;
  expect(summary.nodes).toEqual({ live: liveNodes.length, stale: model.size - liveNodes.length });
  expect(Object.fromEntries(summary.connections.map((c) => [`${c.port} ${c.state} ${c.direction}`, c.count]))).toEqual(totals);
  expect(summary.httpConnections).toBe(sum(totals));
  return metrics;
}

async function nodeView(name: string): Promise<NodeView | undefined> {
  const res = await fetch(`${collector.base}/api/v1/nodes/${encodeURIComponent(name)}`);
  return res.status === 200 ? ((await res.json()) as NodeView) : undefined;
}

/** Until the collector holds each agent's last sent snapshot. */
async function untilSeen(as: SimAgent[]): Promise<void> {
  for (const a of as) {
    await waitFor(`${a.node} seq ${a.last?.seq}`, async () => {
      const v = await nodeView(a.node);
      return v && v.epoch === a.last!.epoch && v.seq >= a.last!.seq;
    });
  }
}

async function rejected(reason: string): Promise<number> {
  return valueOf(await scrape(collector.base), 'fleetstat_ingest_snapshots_rejected_total', { reason });
}

describe('collector binary over real NATS (JetStream) and gRPC', () => {
  it('counts equal what the agents saw: 3 nodes over NATS, 3 over gRPC, replaced not added, over several intervals', async () => {
    const fleet: SimAgent[] = [];
    for (const [i, transport] of (['nats', 'nats', 'jetstream', 'grpc', 'grpc', 'grpc'] as const).entries()) {
      const name = `${transport === 'grpc' ? 'grpc' : 'nats'}-${i}`;
      fleet.push(await agent(name, transport, [[[80, 'in', EST, 10 + i], [8080, 'in', TW, 3 + i], [443, 'out', EST, 2]], [[80, 'in', EST, 5], [443, 'out', SYN, 1]]], 500));
    }
    await Promise.all(fleet.map((a) => a.publish()));
    await untilSeen(fleet);
    fleet.forEach(live);
    await expectCollectorMatchesModel();

    // The next snapshots replace the first: new counts, a series gone (8080 TIME_WAIT), a state new.
    fleet.forEach((a, i) => (a.shape.namespaces = [[[80, 'in', EST, 20 + i], [443, 'out', EST, 4 + i], [8443, 'in', CW, 1 + i]], [[80, 'in', EST, 7], [80, 'in', TW, i + 1]]]));
    await Promise.all(fleet.map((a) => a.publish()));
    fleet.forEach((a) => a.run());
    await untilSeen(fleet);
    fleet.forEach(live);
    await expectCollectorMatchesModel();
    // Four more intervals of the same counts: still exactly one node's worth each.
    await new Promise((r) => setTimeout(r, 2000));
    await expectCollectorMatchesModel();

    await Promise.all(fleet.map((a) => a.stop()));
    await untilSeen(fleet);
    expect(fleet.flatMap((a) => a.loopErrors)).toEqual([]);
    const metrics = await expectCollectorMatchesModel();
    const sent = (t: string) => fleet.filter((a) => transportOf(a) === t).reduce((n, a) => n + a.seq, 0);
    expect(fleet.every((a) => a.seq >= 4)).toBe(true);
    expect(valueOf(metrics, 'fleetstat_ingest_snapshots_received_total', { transport: 'nats' })).toBe(sent('nats'));
    expect(valueOf(metrics, 'fleetstat_ingest_snapshots_received_total', { transport: 'grpc' })).toBe(sent('grpc'));
    expect(valueOf(metrics, 'fleetstat_ingest_snapshots_accepted_total')).toBe(sent('nats') + sent('grpc'));
    expect(metrics.samples.filter((s) => s.name === 'fleetstat_ingest_snapshots_rejected_total')).toEqual([]);

    await Promise.all(fleet.map((a) => a.goodbye()));
    await untilSeen(fleet);
    fleet.forEach(said);
    await expectCollectorMatchesModel();
  });

  for (const transport of ['nats', 'grpc'] as const) {
    it(`${transport}: duplicated, reordered and replayed snapshots never double count`, async () => {
      const node = `dup-${transport}`;
      const a = await agent(node, transport, [[[80, 'in', EST, 11]]], 10_000);
      const publish = async (s: Snapshot) => expect(await a.publisher.publish(s)).toBe('sent');
      const before = await scrape(collector.base);
      const stale0 = valueOf(before, 'fleetstat_ingest_snapshots_rejected_total', { reason: 'stale_sequence' });
      const accepted0 = valueOf(before, 'fleetstat_ingest_snapshots_accepted_total');
      const received0 = valueOf(before, 'fleetstat_ingest_snapshots_received_total', { transport });

      const s1 = await a.publish(); // (E1, 1)
      a.shape.namespaces = [[[80, 'in', EST, 12]]];
      const s2 = a.next();
      a.shape.namespaces = [[[80, 'in', EST, 13], [443, 'in', EST, 1]]];
      const s3 = a.next();
      await publish(s3);
      await publish(s3); // the same bytes twice
      await publish(s2); // an older seq after a newer
      await publish(s1);
      const run2 = buildSnapshot(node, { namespaces: [[[80, 'in', EST, 40]], [[8080, 'out', EST, 2]]], intervalMs: 10_000 }, { epoch: a.epoch + 1, seq: 1, agentTimeMs: s3.agentTimeMs + 1000 });
      await publish(run2); // the agent restarted: a new epoch
      await publish(s3); // the old run's newest, replayed after the new run
      // The old run with a seq never seen and a later clock: its epoch was replaced, so still refused.
      await publish(buildSnapshot(node, a.shape, { epoch: a.epoch, seq: 99, agentTimeMs: run2.agentTimeMs + 1000 }));
      await publish(run2);
      let extra = 0;
      if (transport === 'nats') {
        // Raw duplicate bytes on the node's subject, as a replaying client would send them.
        for (const s of [s3, run2, run2]) rawNc.publish(snapshotSubject(CLUSTER, node), Snapshot.encode(s).finish());
        await rawNc.flush();
        extra = 3;
      } else {
        // The same bytes on another stream, as a second connection would replay them.
        expect(await sendRawPublish(`127.0.0.1:${grpcPort}`, [s3, run2].map((s) => PublishRequest.encode({ snapshot: s }).finish()))).toEqual({ accepted: 0, rejected: 2 });
        extra = 2;
      }
      const received = 9 + extra;
      await waitFor(`${received} snapshots over ${transport}`, async () =>
        valueOf(await scrape(collector.base), 'fleetstat_ingest_snapshots_received_total', { transport }) === received0 + received);

      a.last = run2;
      live(a);
      const metrics = await expectCollectorMatchesModel();
      expect(await nodeView(node)).toMatchObject({ epoch: a.epoch + 1, seq: 1, status: 'live', httpConnections: 42 });
      expect(valueOf(metrics, 'fleetstat_ingest_snapshots_accepted_total') - accepted0).toBe(3); // s1, s3, run2
      expect(valueOf(metrics, 'fleetstat_ingest_snapshots_rejected_total', { reason: 'stale_sequence' }) - stale0).toBe(received - 3);
      expect(metrics.samples.filter((s) => s.name === 'fleetstat_ingest_snapshots_rejected_total').map((s) => s.labels['reason'])).toEqual(['stale_sequence']);

      a.epoch += 1;
      a.seq = 1;
      await a.goodbye();
      await untilSeen([a]);
      said(a);
      await expectCollectorMatchesModel();
    });
  }

  it('a node is stale after 3 missed intervals, not at 2; its series leave /metrics; the next snapshot brings it back', async () => {
    const interval = 600;
    const pair = [await agent('stale-nats', 'nats', [[[80, 'in', EST, 9]]], interval), await agent('stale-grpc', 'grpc', [[[443, 'in', EST, 4]], [[80, 'out', EST, 3]]], interval)];
    await Promise.all(pair.map((a) => a.publish()));
    pair.forEach((a) => a.run());
    await new Promise((r) => setTimeout(r, 2 * interval));
    await Promise.all(pair.map((a) => a.stop()));
    // One last snapshot from both at the same moment: the clock starts here.
    const t0 = Date.now();
    await Promise.all(pair.map((a) => a.publish()));
    await untilSeen(pair);
    pair.forEach(live);

    // Two intervals missed and half of the third: still live, still counted.
    await new Promise((r) => setTimeout(r, t0 + 2.5 * interval - Date.now()));
    await expectCollectorMatchesModel();
    expect(Date.now() - t0, 'the check after 2 missed intervals finished before the third ended').toBeLessThan(3 * interval);

    await waitFor('both stale', async () => (await Promise.all(pair.map((a) => nodeView(a.node)))).every((v) => v?.status === 'stale'), 5000);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(3 * interval);
    expect(elapsed).toBeLessThan(3 * interval + 2000);
    for (const a of pair) model.set(a.node, { status: 'stale', staleReason: 'missed_intervals', transport: transportOf(a), snapshot: a.last! });
    const metrics = await expectCollectorMatchesModel();
    expect(metrics.samples.filter((s) => s.labels['node']?.startsWith('stale-') && s.name !== 'fleetstat_node_snapshot_age_seconds')).toEqual([]);
    expect(collector.logsWith('node stale').filter((l) => String(l['node']).startsWith('stale-'))).toHaveLength(2);

    await Promise.all(pair.map((a) => a.publish()));
    await untilSeen(pair);
    pair.forEach(live);
    await expectCollectorMatchesModel();
    expect(collector.logsWith('node live again').map((l) => l['node']).sort()).toEqual(['stale-grpc', 'stale-nats']);

    await Promise.all(pair.map((a) => a.goodbye()));
    await untilSeen(pair);
    pair.forEach(said);
    await expectCollectorMatchesModel();
  });

  it('goodbye takes a node out of the live totals at once, long before it could go stale', async () => {
    const pair = [await agent('bye-nats', 'nats', [[[80, 'in', EST, 30]]], 10_000), await agent('bye-grpc', 'grpc', [[[80, 'in', EST, 31]]], 10_000)];
    await Promise.all(pair.map((a) => a.publish()));
    await untilSeen(pair);
    pair.forEach(live);
    await expectCollectorMatchesModel();

    const t0 = Date.now();
    await Promise.all(pair.map((a) => a.goodbye()));
    await waitFor('goodbye seen', async () => (await Promise.all(pair.map((a) => nodeView(a.node)))).every((v) => v?.status === 'stale'), 2000);
    expect(Date.now() - t0).toBeLessThan(2000); // a missed-interval stale would take 30 s
    pair.forEach(said);
    await expectCollectorMatchesModel();
    expect(collector.logsWith('node said goodbye').map((l) => l['node'])).toEqual(expect.arrayContaining(['bye-nats', 'bye-grpc']));
  });

  it('a collector restarted with --jetstream knows every NATS node again before their next interval, and ready only then', async () => {
    const interval = 4000;
    const js = [
      await agent('js-1', 'nats', [[[80, 'in', EST, 100]], [[443, 'out', EST, 5]]], interval),
      await agent('js-2', 'nats', [[[80, 'in', EST, 200], [80, 'in', TW, 8]]], interval),
      await agent('js-3.example.internal', 'jetstream', [[[8080, 'in', EST, 300]]], interval),
    ];
    const viaGrpc = await agent('js-grpc', 'grpc', [[[80, 'in', EST, 400]]], interval);
    await Promise.all([...js, viaGrpc].map((a) => a.publish()));
    await untilSeen([...js, viaGrpc]);
    [...js, viaGrpc].forEach(live);
    await expectCollectorMatchesModel();
    const lastPublish = Math.min(...[...js, viaGrpc].map((a) => a.lastPublishStartMs));

    await collector.kill('SIGKILL');
    // Asked from the moment the new process exists: refused or 503 until it has recovered.
    collector = CollectorChild.spawn(httpPort, collectorArgs());
    const readyz: number[] = [];
    await waitFor('/readyz 200', async () => {
      readyz.push(await fetch(`${collector.base}/readyz`).then((r) => r.status, () => 0));
      return readyz.at(-1) === 200;
    }, 15_000);
    // Only NATS nodes are in JetStream; the gRPC node is known again on its next snapshot.
    for (const [name, e] of model) if (e.transport === 'grpc') model.delete(name);
    const metrics = await expectCollectorMatchesModel();
    const took = Date.now() - lastPublish;
    expect(took, 'recovered before the next interval').toBeLessThan(interval);
    await collector.listening;

    // Every NATS subject's last snapshot came from the stream, none from an agent: none published since.
    expect(valueOf(metrics, 'fleetstat_ingest_snapshots_received_total', { transport: 'jetstream' })).toBe(model.size);
    expect(valueOf(metrics, 'fleetstat_ingest_snapshots_received_total', { transport: 'nats' })).toBe(0);
    expect(valueOf(metrics, 'fleetstat_ingest_snapshots_received_total', { transport: 'grpc' })).toBe(0);
    const msgs = collector.logs.map((l) => l.msg);
    const recoveredAt = msgs.indexOf('recovered the last snapshot of every node from JetStream');
    expect(recoveredAt).toBeGreaterThanOrEqual(0);
    expect(recoveredAt, 'recovery finished before the collector was ready').toBeLessThan(msgs.indexOf('collector ready'));
    // Until then /readyz refused (process starting) or answered 503 (recovering), never 200.
    expect(readyz.slice(0, -1).every((status) => status === 0 || status === 503)).toBe(true);
    expect(collector.logs[recoveredAt]).toMatchObject({ recovered: model.size, complete: true });

    // The gRPC publisher reconnects by itself; its next snapshot makes the node known again.
    await waitFor('gRPC publisher reconnected', () => viaGrpc.publisher.status().connected);
    await viaGrpc.publish();
    await untilSeen([viaGrpc]);
    live(viaGrpc);
    await expectCollectorMatchesModel();
    expect(await rejected('stale_sequence')).toBe(0);
    console.log(`restarted collector: /readyz ${readyz.join(',')}; all ${model.size - 1} NATS nodes known ${took} ms after their last publish (interval ${interval} ms)`);
  });
});
