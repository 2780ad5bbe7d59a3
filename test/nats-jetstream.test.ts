// JetStream mode over a real nats-server: the stream the collector ensures, msgID de-duplication,
// and a restarted collector that knows every node's last snapshot before it reports ready,
// with no snapshot lost between recovery and live.
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NatsPublisher } from '../agent/publish/nats-publisher.js';
import { NatsIngest } from '../collector/ingest/nats-ingest.js';
import { SnapshotStreamError, snapshotStreamName } from '../collector/ingest/snapshot-stream.js';
import { startNatsServer } from './support/nats-server.js';
import type { NatsServer } from './support/nats-server.js';
import { RecordingIngest, waitFor } from './support/recording-ingest.js';
import { makeSnapshot } from './support/snapshots.js';

const CLUSTER = 'test';
const STREAM = snapshotStreamName(CLUSTER);

let server: NatsServer;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  server = await startNatsServer({ jetstream: true });
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => server.stop());

async function connection(url = server.url): Promise<NatsConnection> {
  const nc = await connect({ servers: url });
  cleanups.push(() => nc.close());
  return nc;
}

/** A collector's NATS side as it runs after a restart: a new connection and a new ingest. */
async function startCollector(): Promise<{ ingest: NatsIngest; record: RecordingIngest }> {
  const record = new RecordingIngest();
  const ingest = new NatsIngest({ connection: await connection(), cluster: CLUSTER, ingest: record, jetstream: { recoveryTimeoutMs: 10_000 } });
  cleanups.push(() => ingest.stop());
  await ingest.start();
  return { ingest, record };
}

async function startPublisher(node: string): Promise<NatsPublisher> {
  const publisher = new NatsPublisher({ servers: server.url, cluster: CLUSTER, node, jetstream: true, publishTimeoutMs: 2000 });
  cleanups.push(() => publisher.shutdown(2000));
  await publisher.start();
  return publisher;
}

describe('JetStream', () => {
  it('a restarted collector recovers the last snapshot of each of 3 nodes before it is ready', async () => {
    const first = await startCollector(); // creates the stream
    const info = await (await jetstreamManager(await connection())).streams.info(STREAM);
    expect(info.config).toMatchObject({ subjects: ['fleetstat.v1.test.snap.>'], max_msgs_per_subject: 1, storage: 'file' });

    const nodes = ['node-a', 'node-b', 'ip-10-0-0-3.ec2.internal'];
    const before = Date.now();
    for (const node of nodes) {
      const publisher = await startPublisher(node);
      for (let seq = 1; seq <= 3; seq++) expect(await publisher.publish(makeSnapshot({ node, seq: seq * 10 + nodes.indexOf(node) }))).toBe('sent');
    }
    await waitFor('the first collector to see 9 snapshots', () => first.record.records.length === 9);
    await first.ingest.stop();

    const second = await startCollector();
    // Nothing was published since: everything the second collector knows came from the stream, before ready.
    const recovered = second.record.records;
    expect(recovered.map((r) => [r.snapshot?.node, r.snapshot?.seq]).sort()).toEqual(nodes.map((n, i) => [n, 30 + i]).sort());
    for (const r of recovered) {
      expect(r.origin).toMatchObject({ transport: 'jetstream', claimedNode: r.snapshot?.node });
      // The stored time, not "now": a node silent for an hour must look silent for an hour.
      expect(r.origin.receivedAtMs).toBeGreaterThanOrEqual(before - 1000);
      expect(r.origin.receivedAtMs).toBeLessThanOrEqual(Date.now());
    }
    expect(second.ingest.counters().recovered).toBe(3);
  });

  it('drops a re-sent snapshot by its msgID', async () => {
    await startCollector();
    const publisher = await startPublisher('dup');
    const jsm = await jetstreamManager(await connection());
    const snapshot = makeSnapshot({ node: 'dup', seq: 1 });
    expect(await publisher.publish(snapshot)).toBe('sent');
    const afterFirst = (await jsm.streams.info(STREAM)).state.last_seq;
    expect(await publisher.publish(snapshot)).toBe('sent');
    expect((await jsm.streams.info(STREAM)).state.last_seq).toBe(afterFirst);
    expect(publisher.counters().duplicates).toBe(1);
    expect(await publisher.publish(makeSnapshot({ node: 'dup', seq: 2 }))).toBe('sent');
    expect((await jsm.streams.info(STREAM)).state.last_seq).toBe(afterFirst + 1);
  });

  it('loses no snapshot between recovery and live while agents keep publishing', async () => {
    await startCollector();
    const publishers = await Promise.all(['busy-1', 'busy-2'].map(startPublisher));
    let seq = 0;
    let publishing = true;
    const loop = (async () => {
      while (publishing) {
        seq++;
        await Promise.all(publishers.map((p, i) => p.publish(makeSnapshot({ node: `busy-${i + 1}`, seq }))));
      }
    })();
    await waitFor('some history', () => seq > 50);

    const { ingest, record } = await startCollector(); // starts while snapshots keep coming
    const seqAtReady = seq;
    const atReady = record.records.length;
    const stopSeq = seq + 30;
    await waitFor('30 more rounds', () => seq >= stopSeq);
    publishing = false;
    await loop;

    let missingTotal = 0;
    for (const node of ['busy-1', 'busy-2']) {
      await waitFor(`the last snapshot of ${node}`, () => record.ofNode(node).some((r) => r.snapshot?.seq === seq));
      const seen = new Set(record.ofNode(node).map((r) => r.snapshot?.seq ?? 0));
      // From the first snapshot it saw (recovered, or live when the node published again while the
      // read began) every seq arrived, except live ones superseded by a newer one of the same node
      // while recovery ran (held newest-only).
      const from = record.ofNode(node)[0]?.snapshot?.seq ?? 0;
      const missing = [];
      for (let s = from; s <= seq; s++) if (!seen.has(s)) missing.push(s);
      expect(missing.filter((s) => s > seqAtReady + 2)).toEqual([]);
      missingTotal += missing.length;
    }
    expect(missingTotal).toBeLessThanOrEqual(ingest.counters().superseded);
    expect(atReady).toBeGreaterThanOrEqual(2);
  });

  it('refuses to start, naming the fix, when the server has no JetStream', async () => {
    const plain = await startNatsServer({ jetstream: false });
    cleanups.push(() => plain.stop());
    const ingest = new NatsIngest({ connection: await connection(plain.url), cluster: CLUSTER, ingest: new RecordingIngest(), jetstream: true });
    cleanups.push(() => ingest.stop());
    const err = await ingest.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SnapshotStreamError);
    expect((err as Error).message).toMatch(/start nats-server with -js, or run the collector without JetStream/);
    await expect(ingest.ready).rejects.toBe(err);
    expect(ingest.isReady()).toBe(false);
  });
});
