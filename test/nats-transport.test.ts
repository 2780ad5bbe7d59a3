// The NATS transport over a real nats-server on loopback: publisher to ingest, outages,
// bad input, and detail request/reply. JetStream recovery is in nats-jetstream.test.ts.
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NatsDetailResponder } from '../agent/detail/nats-detail-responder.js';
import type { DetailSource } from '../agent/detail/detail-source.js';
import { NatsLink } from '../agent/publish/nats-link.js';
import { NatsPublisher } from '../agent/publish/nats-publisher.js';
import { detailSubject, PublishError, snapshotSubject } from '../agent/publish/snapshot-publisher.js';
import { NatsDetailClient } from '../collector/detail/nats-detail-client.js';
import { NatsIngest } from '../collector/ingest/nats-ingest.js';
import { GetSocketsRequest, GetSocketsResponse } from '../proto/gen/fleetstat/v1/detail.js';
import type { SocketRow } from '../proto/gen/fleetstat/v1/detail.js';
import { Snapshot, Table, TcpState } from '../proto/gen/fleetstat/v1/snapshot.js';
import { startNatsServer } from './support/nats-server.js';
import type { NatsServer } from './support/nats-server.js';
import { RecordingIngest, waitFor } from './support/recording-ingest.js';
import { makeSnapshot } from './support/snapshots.js';

const CLUSTER = 'test';
// Bytes that are no protobuf message: field 31 with the invalid wire type 7.
const GARBAGE = new Uint8Array([0xff, 0xff, 0xff, 0xff]);
const FAST = { reconnectTimeWaitMs: 100, reconnectJitterMs: 50, publishTimeoutMs: 2000 };

let server: NatsServer;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  server = await startNatsServer({ jetstream: true });
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
afterAll(async () => server.stop());

async function collectorConnection(): Promise<NatsConnection> {
  const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  cleanups.push(() => nc.close());
  return nc;
}

async function startIngest(record = new RecordingIngest()): Promise<{ ingest: NatsIngest; record: RecordingIngest; nc: NatsConnection }> {
  const nc = await collectorConnection();
  const ingest = new NatsIngest({ connection: nc, cluster: CLUSTER, ingest: record });
  cleanups.push(() => ingest.stop());
  await ingest.start();
  return { ingest, record, nc };
}

async function startPublisher(node: string, extra: Partial<ConstructorParameters<typeof NatsPublisher>[0]> = {}): Promise<NatsPublisher> {
  const publisher = new NatsPublisher({ servers: server.url, cluster: CLUSTER, node, ...FAST, ...extra });
  cleanups.push(() => publisher.shutdown(2000));
  await publisher.start();
  return publisher;
}

describe('snapshots over core NATS', () => {
  it('arrive byte-identical with the node named by the subject, dotted node names included', async () => {
    const a = await startIngest();
    const b = await startIngest(); // a second (HA) collector: no queue group, it sees everything too
    for (const node of ['node-1', 'ip-10-0-0-1.ec2.internal']) {
      const publisher = await startPublisher(node);
      const snapshot = makeSnapshot({ node, seq: 7, http: [[80, 'in', TcpState.TCP_STATE_ESTABLISHED, 12]] });
      expect(await publisher.publish(snapshot)).toBe('sent');
      for (const { record } of [a, b]) {
        const [got] = await waitFor(`${node} at the ingest`, () => record.ofNode(node).length > 0 && record.ofNode(node));
        expect(got?.bytes).toEqual(Snapshot.encode(snapshot).finish());
        expect(got?.origin).toMatchObject({ transport: 'nats', claimedNode: node });
        expect(got?.origin.receivedAtMs).toBeGreaterThan(Date.now() - 10_000);
      }
    }
    expect(a.ingest.isReady()).toBe(true);
  });

  it('hands garbage on the snapshot subject to the ingest as bytes and keeps going, even when the ingest throws', async () => {
    let throwNext = false;
    const record = new RecordingIngest();
    const flaky = {
      ingest: (bytes: Uint8Array, origin: Parameters<RecordingIngest['ingest']>[1]) => {
        if (throwNext) {
          throwNext = false;
          throw new Error('bug in the ingest');
        }
        return record.ingest(bytes, origin);
      },
    };
    const { ingest } = await startIngest(flaky as unknown as RecordingIngest);
    const raw = await collectorConnection();
    raw.publish(snapshotSubject(CLUSTER, 'mallory'), GARBAGE);
    await raw.flush();
    const [bad] = await waitFor('garbage at the ingest', () => record.records.length > 0 && record.records);
    expect(bad?.bytes).toEqual(GARBAGE);
    expect(bad?.snapshot).toBeUndefined();
    expect(bad?.origin.claimedNode).toBe('mallory');

    throwNext = true;
    raw.publish(snapshotSubject(CLUSTER, 'node-1'), Snapshot.encode(makeSnapshot({ node: 'node-1', seq: 1 })).finish());
    raw.publish(snapshotSubject(CLUSTER, 'node-1'), Snapshot.encode(makeSnapshot({ node: 'node-1', seq: 2 })).finish());
    await raw.flush();
    await waitFor('the message after the throw', () => record.ofNode('node-1').length === 1);
    expect(record.ofNode('node-1')[0]?.snapshot?.seq).toBe(2);
    expect(ingest.counters()).toMatchObject({ received: 3, ingestErrors: 1 });
  });

  it('while the server is down keeps only the newest snapshot and sends it after the restart', async () => {
    // A stream that keeps every message shows exactly what reached the server, whoever subscribes when.
    const admin = await collectorConnection();
    const jsm = await jetstreamManager(admin);
    await jsm.streams.add({ name: 'CAPTURE', subjects: [snapshotSubject(CLUSTER, 'outage')] });
    cleanups.push(() => jsm.streams.delete('CAPTURE'));
    const { record, nc: collectorNc } = await startIngest();

    const publisher = await startPublisher('outage');
    const snap = (seq: number) => makeSnapshot({ node: 'outage', seq });
    expect(await publisher.publish(snap(1))).toBe('sent');

    await server.kill('SIGKILL');
    await waitFor('the publisher to notice', () => !publisher.status().connected);
    expect(publisher.status().lastError).toBeTruthy();
    expect(await publisher.publish(snap(2))).toBe('pending');
    expect(await publisher.publish(snap(3))).toBe('pending');
    expect(await publisher.publish(snap(4))).toBe('pending');
    expect(publisher.counters().superseded).toBe(2);

    await server.restart();
    await waitFor('the publisher to reconnect', () => publisher.status().connected, 15_000);
    const stored = await waitFor('the kept snapshot in the stream', async () => {
      const info = await jsm.streams.info('CAPTURE').catch(() => undefined);
      return info && info.state.messages === 2 && info;
    }, 15_000);
    const last = await jsm.streams.getMessage('CAPTURE', { seq: stored.state.last_seq });
    expect(Snapshot.decode(last!.data).seq).toBe(4);
    expect(publisher.counters().sent).toBe(2);

    // The collector's subscription comes back with its connection, which reconnects on its own
    // schedule: a flush fails until it has.
    await waitFor('the collector connection back', () => collectorNc.flush().then(() => true, () => false), 15_000);
    expect(await publisher.publish(snap(5))).toBe('sent');
    await waitFor('a live snapshot after the restart', () => record.ofNode('outage').some((r) => r.snapshot?.seq === 5));
  });

  it('starts before NATS is up, reports why it is not connected, and delivers once it is', async () => {
    await server.kill('SIGKILL');
    const publisher = new NatsPublisher({ servers: server.url, cluster: CLUSTER, node: 'early', ...FAST });
    cleanups.push(() => publisher.shutdown(2000));
    await publisher.start(); // resolves: the agent keeps sampling while NATS comes up
    expect(publisher.status()).toMatchObject({ connected: false, lastError: expect.stringMatching(/connection refused/) });
    expect(await publisher.publish(makeSnapshot({ node: 'early', seq: 1 }))).toBe('pending');
    expect(await publisher.publish(makeSnapshot({ node: 'early', seq: 2 }))).toBe('pending');

    await server.restart();
    const { record } = await startIngest();
    await waitFor('the publisher to connect', () => publisher.status().connected, 15_000);
    expect(await publisher.publish(makeSnapshot({ node: 'early', seq: 3 }))).toBe('sent');
    await waitFor('seq 3', () => record.ofNode('early').some((r) => r.snapshot?.seq === 3));
    expect(publisher.counters()).toMatchObject({ sent: 2, superseded: 1 });
  });

  it('rejects start() with a PublishError when NATS refuses the credentials, and shutdown is safe twice', async () => {
    const secured = await startNatsServer({ jetstream: false, args: ['--user', 'agent', '--pass', 'right'] });
    cleanups.push(() => secured.stop());
    const wrong = new NatsPublisher({ servers: secured.url, cluster: CLUSTER, node: 'n', credentials: { user: 'agent', pass: 'wrong' } });
    const err = await wrong.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PublishError);
    expect((err as Error).message).toMatch(/refused the connection: Authorization Violation/);
    await expect(wrong.publish(makeSnapshot({ cluster: CLUSTER, node: 'n', seq: 1 }))).rejects.toThrow(PublishError);
    await wrong.shutdown(1000);

    const right = new NatsPublisher({ servers: secured.url, cluster: CLUSTER, node: 'n', credentials: { user: 'agent', pass: 'right' } });
    await right.start();
    expect(right.status().connected).toBe(true);
    await right.shutdown(1000);
    await right.shutdown(1000);
    await expect(right.publish(makeSnapshot({ node: 'n', seq: 2 }))).rejects.toThrow(/after shutdown/);
  });
});

describe('detail requests over NATS', () => {
  const row: SocketRow = {
    table: Table.TABLE_TCP, localAddress: '10.0.0.1', localPort: 80, remoteAddress: '10.0.0.2', remotePort: 51000,
    state: TcpState.TCP_STATE_ESTABLISHED, rxQueue: 0, txQueue: 0, uid: 0, inode: 1234, namespaceInode: 4026531840,
  };

  async function startResponder(
    node: string,
    source: DetailSource,
    maxConcurrent?: number,
    rateLimit?: ConstructorParameters<typeof NatsDetailResponder>[0]['rateLimit'],
  ): Promise<NatsDetailResponder> {
    const link = new NatsLink({ servers: server.url });
    const responder = new NatsDetailResponder({ link, cluster: CLUSTER, node, source, maxConcurrent, ...(rateLimit ? { rateLimit } : {}) });
    cleanups.push(() => link.close(1000), () => responder.stop());
    await responder.start();
    await link.connection?.flush(); // the subscription is on the server
    return responder;
  }

  it('answers a request with the source rows, and garbage with an error reply', async () => {
    const asked: GetSocketsRequest[] = [];
    await startResponder('node-d', {
      getSockets: (request) => {
        asked.push(request);
        return Promise.resolve({ node: 'node-d', rows: [row, row], truncated: 3, error: '' });
      },
    });
    const client = new NatsDetailClient({ connection: await collectorConnection(), cluster: CLUSTER });
    const request = GetSocketsRequest.fromPartial({ port: 80, state: TcpState.TCP_STATE_ESTABLISHED, limit: 2 });
    const reply = await client.getSockets('node-d', request, 2000);
    expect(reply).toEqual({ node: 'node-d', rows: [row, row], truncated: 3, error: '' });
    expect(asked).toEqual([{ ...request, node: 'node-d' }]);

    const raw = await collectorConnection();
    const bad = GetSocketsResponse.decode((await raw.request(detailSubject(CLUSTER, 'node-d'), GARBAGE, { timeout: 2000 })).data);
    expect(bad).toMatchObject({ node: 'node-d', rows: [], error: expect.stringMatching(/not a fleetstat.v1.GetSocketsRequest \(4 bytes\)/) });
    expect(asked).toHaveLength(1);
  });

  it('answers a failing source with an error reply, and more than maxConcurrent requests with busy', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    await startResponder('node-e', {
      getSockets: async (request) => {
        if (request.port === 1) throw new Error('worker crashed');
        await gate;
        return { node: 'node-e', rows: [row], truncated: 0, error: '' };
      },
    }, 1);
    const client = new NatsDetailClient({ connection: await collectorConnection(), cluster: CLUSTER });
    expect((await client.getSockets('node-e', GetSocketsRequest.fromPartial({ port: 1 }), 2000)).error).toMatch(/worker crashed/);
    const slow = client.getSockets('node-e', GetSocketsRequest.fromPartial({ port: 80 }), 5000);
    await new Promise((r) => setTimeout(r, 100));
    expect((await client.getSockets('node-e', GetSocketsRequest.fromPartial({ port: 80 }), 2000)).error).toMatch(/^busy/);
    release();
    expect((await slow).rows).toHaveLength(1);
  });

  it('rate-limits a flood from one requester by its inbox, and still answers another', async () => {
    const responder = await startResponder('node-f', {
      getSockets: () => Promise.resolve({ node: 'node-f', rows: [row], truncated: 0, error: '' }),
    }, undefined, { perSecond: 0.01, burst: 3 });
    const flooder = new NatsDetailClient({ connection: await collectorConnection(), cluster: CLUSTER });
    const replies = [];
    for (let i = 0; i < 20; i++) replies.push(await flooder.getSockets('node-f', GetSocketsRequest.fromPartial({ port: 80 }), 2000));
    expect(replies.slice(0, 3).map((r) => r.rows.length)).toEqual([1, 1, 1]);
    for (const r of replies.slice(3)) expect(r).toMatchObject({ rows: [], error: expect.stringMatching(/^rate limited: .* retry in \d+ ms$/) });
    const other = new NatsDetailClient({ connection: await collectorConnection(), cluster: CLUSTER });
    expect((await other.getSockets('node-f', GetSocketsRequest.fromPartial({ port: 80 }), 2000)).rows).toHaveLength(1);
    expect(responder.counters()).toMatchObject({ answered: 21, rateLimited: 17 });
  });

  it('rejects with a clear error when nobody answers, when the answer is late, and when the reply is garbage', async () => {
    const nc = await collectorConnection();
    const client = new NatsDetailClient({ connection: nc, cluster: CLUSTER });
    await expect(client.getSockets('ghost', GetSocketsRequest.fromPartial({}), 1000)).rejects.toThrow(/no agent answers detail requests for node ghost/);

    const fake = await collectorConnection();
    fake.subscribe(detailSubject(CLUSTER, 'liar'), { callback: (_e, m) => void m.respond(GARBAGE) });
    fake.subscribe(detailSubject(CLUSTER, 'texter'), { callback: (_e, m) => void m.respond('hello') });
    fake.subscribe(detailSubject(CLUSTER, 'sleeper'), { callback: () => undefined });
    await fake.flush();
    await expect(client.getSockets('liar', GetSocketsRequest.fromPartial({}), 1000)).rejects.toThrow(/not a GetSocketsResponse \(4 bytes\)/);
    await expect(client.getSockets('texter', GetSocketsRequest.fromPartial({}), 1000)).rejects.toThrow(/not from node texter/);
    await expect(client.getSockets('sleeper', GetSocketsRequest.fromPartial({}), 300)).rejects.toThrow(/did not answer within 300 ms/);
  });
});
