// Bad input to the real collector binary over a real nats-server and real gRPC on 127.0.0.1:
// garbage, snapshots over --max-snapshot-bytes, node names that differ from their subject or
// stream, old (epoch, seq), schema violations and other clusters. Each is rejected and counted by
// reason, logged once per reason and window (10 s), and the collector keeps serving.
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import type { ServiceError } from '@grpc/grpc-js';
import { status as Status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcPublisher } from '../agent/publish/grpc-publisher.js';
import { NatsPublisher } from '../agent/publish/nats-publisher.js';
import { PublishError, snapshotSubject } from '../agent/publish/snapshot-publisher.js';
import type { SnapshotPublisher } from '../agent/publish/snapshot-publisher.js';
import { PublishRequest } from '../proto/gen/fleetstat/v1/ingest.js';
import { Snapshot, TcpState } from '../proto/gen/fleetstat/v1/snapshot.js';
import type { Counts, SnapshotShape } from './support/collector-child.js';
import { buildSnapshot, CollectorChild, getJson, scrape, sendRawPublish, SimAgent, valueOf } from './support/collector-child.js';
import { freePort, startNatsServer } from './support/nats-server.js';
import type { NatsServer } from './support/nats-server.js';
import { waitFor } from './support/recording-ingest.js';

const CLUSTER = 'test';
const MAX = 4096;
const N = 50; // of each bad kind, per transport
const EST = TcpState.TCP_STATE_ESTABLISHED;
const REASONS = ['malformed', 'too_large', 'node_mismatch', 'stale_sequence', 'invalid', 'cluster_mismatch'] as const;
type Reason = (typeof REASONS)[number];

let nats: NatsServer;
let collector: CollectorChild;
let rawNc: NatsConnection;
let grpcAddress = '';
const publishers: SnapshotPublisher[] = [];
let goodNats: SimAgent;
let goodGrpc: SimAgent;

function grpcPublisher(maxMessageBytes?: number): GrpcPublisher {
  const p = new GrpcPublisher({ address: grpcAddress, backoff: { initialMs: 50, maxMs: 200 }, startTimeoutMs: 3000, publishTimeoutMs: 2000, ...(maxMessageBytes ? { maxMessageBytes } : {}) });
  publishers.push(p);
  return p;
}

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: false });
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  grpcAddress = `127.0.0.1:${grpcPort}`;
  collector = await CollectorChild.start(httpPort, ['--cluster', CLUSTER, '--nats', nats.url, '--grpc', grpcAddress, '--max-snapshot-bytes', String(MAX)]);
  rawNc = await connect({ servers: nats.url });
  const natsPublisher = new NatsPublisher({ servers: nats.url, cluster: CLUSTER, node: 'good-nats', publishTimeoutMs: 2000 });
  publishers.push(natsPublisher);
  const gp = grpcPublisher();
  await Promise.all([natsPublisher.start(), gp.start()]);
  goodNats = new SimAgent('good-nats', natsPublisher, { namespaces: [[[80, 'in', EST, 5]]], intervalMs: 30_000 });
  goodGrpc = new SimAgent('good-grpc', gp, { namespaces: [[[443, 'in', EST, 6]], [[80, 'out', EST, 1]]], intervalMs: 30_000 });
});

afterAll(async () => {
  await Promise.all(publishers.map((p) => p.shutdown(1000)));
  await rawNc?.close();
  await collector?.stop();
  await nats?.stop();
});

const rejectLines = (reason: Reason) => collector.logsWith('snapshot rejected').filter((l) => l['reason'] === reason);

/** A valid snapshot of `bytes` bytes or a little more (one namespace, many HTTP ports). */
function snapshotOfSize(node: string, seq: number, bytes: number): Snapshot {
  const counts: Counts = Array.from({ length: Math.ceil(bytes / 10) }, (_, i) => [1024 + i, 'in', EST, 1]);
  return buildSnapshot(node, { namespaces: [counts], intervalMs: 30_000 }, { epoch: 1, seq, agentTimeMs: Date.now() });
}

/** The HTTP connections /metrics shows per node: "port state direction" → count. */
async function connectionsByNode(): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const s of (await scrape(collector.base)).samples.filter((x) => x.name === 'fleetstat_http_connections')) {
    (out[s.labels['node']!] ??= {})[`${s.labels['port']} ${s.labels['state']} ${s.labels['direction']}`] = s.value;
  }
  return out;
}
const expectedConnections = (shape: SnapshotShape): Record<string, number> =>
  Object.fromEntries(shape.namespaces.flat().map(([port, dir, state, count]) => [`${port} ${TcpState[state]!.replace('TCP_STATE_', '')} ${dir === 'in' ? 'inbound' : 'outbound'}`, count]));

describe('collector binary: bad input', () => {
  it(`rejects ${N} of each bad kind per transport, counts each by reason, logs each reason once, and keeps serving`, async () => {
    const first = await Promise.all([goodNats.publish(), goodGrpc.publish()]);
    await waitFor('both good nodes', async () => (await getJson<unknown[]>(`${collector.base}/api/v1/nodes`)).length === 2);

    const big = { nats: snapshotOfSize('good-nats', 100, MAX + 200), grpc: snapshotOfSize('good-grpc', 100, MAX + 200) };
    for (const s of Object.values(big)) expect(Snapshot.encode(s).finish().length).toBeGreaterThan(MAX);
    expect(PublishRequest.encode({ snapshot: big.grpc }).finish().length).toBeLessThan(2 * MAX); // under the gRPC limit: reaches ingest
    const other = (node: string, extra: { cluster?: string; intervalMs?: number } = {}) =>
      buildSnapshot(node, { namespaces: [[[80, 'in', EST, 999]]], intervalMs: extra.intervalMs ?? 30_000 }, { epoch: 1, seq: 50, agentTimeMs: Date.now(), ...(extra.cluster ? { cluster: extra.cluster } : {}) });

    // NATS: the real publisher where it would send it, raw bytes where it would refuse to.
    const raw = (node: string, bytes: Uint8Array) => rawNc.publish(snapshotSubject(CLUSTER, node), bytes);
    for (let i = 0; i < N; i++) {
      raw('mallory', i % 2 ? new Uint8Array([0xff, 0xff, 0xff, 0xff]) : new Uint8Array([0x0a, 0x7f, 0x01]));
      expect(await goodNats.publisher.publish(big.nats)).toBe('sent');
      raw('bob', Snapshot.encode(other('alice')).finish());
      expect(await goodNats.publisher.publish(first[0])).toBe('sent');
      raw('good-nats', Snapshot.encode(other('good-nats', { intervalMs: 50 })).finish());
      raw('good-nats', Snapshot.encode(other('good-nats', { cluster: 'prod' })).finish());
    }
    await rawNc.flush();

    // gRPC: garbage on a stream of its own; the rest on the stream bound to good-grpc.
    const garbage = Array.from({ length: N }, (_, i) => (i % 2 ? new Uint8Array([0xff, 0xff, 0xff, 0xff]) : new Uint8Array([0x0a, 0x03, 0xff, 0xff, 0xff])));
    expect(await sendRawPublish(grpcAddress, garbage)).toEqual({ accepted: 0, rejected: N });
    for (let i = 0; i < N; i++) {
      for (const s of [big.grpc, other('alice'), first[1], other('good-grpc', { intervalMs: 50 }), other('good-grpc', { cluster: 'prod' })]) {
        expect(await goodGrpc.publisher.publish(s)).toBe('sent');
      }
    }

    await waitFor(`${2 * N} rejections of each reason`, async () => {
      const m = await scrape(collector.base);
      return REASONS.every((reason) => valueOf(m, 'fleetstat_ingest_snapshots_rejected_total', { reason }) === 2 * N);
    });
    const m = await scrape(collector.base);
    expect(valueOf(m, 'fleetstat_ingest_snapshots_received_total', { transport: 'nats' })).toBe(1 + REASONS.length * N);
    expect(valueOf(m, 'fleetstat_ingest_snapshots_received_total', { transport: 'grpc' })).toBe(1 + REASONS.length * N);
    expect(valueOf(m, 'fleetstat_ingest_snapshots_accepted_total')).toBe(2);

    // Written synchronously as each first rejection happened; give the pipe a moment.
    await waitFor('a log line per reason', () => REASONS.every((r) => rejectLines(r).length > 0));
    await new Promise((r) => setTimeout(r, 200));
    for (const reason of REASONS) {
      expect(rejectLines(reason), reason).toHaveLength(1);
      expect(rejectLines(reason)[0]).toMatchObject({ level: 40, suppressedSinceLast: 0 });
    }
    expect(rejectLines('too_large')[0]?.['detail']).toMatch(/^\d+ bytes > limit 4096$/);
    expect(rejectLines('node_mismatch')[0]?.['detail']).toMatch(/names node "alice" but came from "(bob|good-grpc)"/);
    expect(collector.logs.filter((l) => l.level >= 50)).toEqual([]);

    // Nothing bad reached the fleet view, and valid snapshots still go through on both transports.
    const nodes = await getJson<{ name: string; status: string; seq: number }[]>(`${collector.base}/api/v1/nodes`);
    expect(nodes.map((n) => [n.name, n.status, n.seq])).toEqual([['good-grpc', 'live', 1], ['good-nats', 'live', 1]]);
    expect(await connectionsByNode()).toEqual({ 'good-grpc': expectedConnections(goodGrpc.shape), 'good-nats': expectedConnections(goodNats.shape) });
    expect((await fetch(`${collector.base}/healthz`)).status).toBe(200);
    goodNats.shape.namespaces = [[[80, 'in', EST, 8]]];
    goodGrpc.shape.namespaces = [[[443, 'in', EST, 9]]];
    await Promise.all([goodNats.publish(), goodGrpc.publish()]);
    await waitFor('the next valid snapshots', async () => valueOf(await scrape(collector.base), 'fleetstat_ingest_snapshots_accepted_total') === 4);
    expect(await connectionsByNode()).toEqual({ 'good-grpc': expectedConnections(goodGrpc.shape), 'good-nats': expectedConnections(goodNats.shape) });
  });

  it('a gRPC message over the transport limit (2 x --max-snapshot-bytes) ends only its stream; the collector keeps serving', async () => {
    const p = grpcPublisher(1 << 20); // its own limit above the collector's, so it sends what the collector refuses
    await p.start();
    const agent = new SimAgent('huge-grpc', p, { namespaces: [[[80, 'in', EST, 3]]], intervalMs: 30_000 });
    await agent.publish();
    await waitFor('huge-grpc seq 1', async () => (await fetch(`${collector.base}/api/v1/nodes/huge-grpc`)).status === 200);
    const before = await scrape(collector.base);
    const huge = snapshotOfSize('huge-grpc', 2, 4 * MAX);
    expect(PublishRequest.encode({ snapshot: huge }).finish().length).toBeGreaterThan(2 * MAX + 16);

    const outcome = await p.publish(huge).catch((e: unknown) => e);
    expect(outcome === 'sent' || outcome instanceof PublishError).toBe(true);
    const refused = await sendRawPublish(grpcAddress, [PublishRequest.encode({ snapshot: huge }).finish()]).then(() => undefined, (e: ServiceError) => e);
    expect(refused?.code).toBe(Status.RESOURCE_EXHAUSTED);

    await waitFor('the publisher reconnected', () => p.stats().streamsOpened >= 2 && p.status().connected);
    agent.seq = 2;
    await agent.publish();
    await waitFor('huge-grpc seq 3', async () => (await getJson<{ seq: number }>(`${collector.base}/api/v1/nodes/huge-grpc`)).seq === 3);
    expect(collector.running).toBe(true);
    expect((await fetch(`${collector.base}/healthz`)).status).toBe(200);
    const after = await scrape(collector.base);
    // Refused by grpc-js before ingest: neither received nor rejected; the two small ones accepted.
    expect(valueOf(after, 'fleetstat_ingest_snapshots_received_total', { transport: 'grpc' }) - valueOf(before, 'fleetstat_ingest_snapshots_received_total', { transport: 'grpc' })).toBe(1);
    expect((await connectionsByNode())['huge-grpc']).toEqual({ '80 ESTABLISHED inbound': 3 });
    expect(collector.otherStderr).toEqual([]);
  });

  it('after the window each reason is logged again, with how many were suppressed', async () => {
    const firstLogged = Math.max(...REASONS.map((r) => rejectLines(r)[0]!['time'] as number));
    await new Promise((r) => setTimeout(r, Math.max(0, firstLogged + 10_000 + 100 - Date.now())));
    rawNc.publish(snapshotSubject(CLUSTER, 'mallory'), new Uint8Array([0xff, 0xff, 0xff, 0xff]));
    expect(await goodNats.publisher.publish(snapshotOfSize('good-nats', 200, MAX + 200))).toBe('sent');
    await rawNc.flush();
    await waitFor('second lines', () => rejectLines('malformed').length === 2 && rejectLines('too_large').length === 2);
    for (const reason of ['malformed', 'too_large'] as const) expect(rejectLines(reason)[1]).toMatchObject({ suppressedSinceLast: 2 * N - 1 });
    expect(rejectLines('node_mismatch')).toHaveLength(1);
  });

  it('after all of it still shuts down cleanly: SIGTERM exits 0', async () => {
    expect(collector.running).toBe(true);
    await collector.kill('SIGTERM');
    expect(await collector.exited).toEqual({ code: 0, signal: null });
    expect(collector.logsWith('stopping')).toHaveLength(1);
  });
});
