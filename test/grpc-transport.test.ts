// The gRPC transport over real sockets on 127.0.0.1: publisher to ingest server (bytes, order,
// node binding, reconnect with only the newest kept, size limit, garbage), and detail requests.

import type { ServiceError } from '@grpc/grpc-js';
import { Client, credentials, Metadata, Server, ServerCredentials, status as Status } from '@grpc/grpc-js';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GrpcDetailServer } from '../agent/detail/grpc-detail-server.js';
import { GrpcServerError } from '../agent/grpc/grpc-server-lifecycle.js';
import { GrpcPublisher, PublishTimeoutError } from '../agent/publish/grpc-publisher.js';
import { PublishError } from '../agent/publish/snapshot-publisher.js';
import { DetailRequestError, GrpcDetailClient } from '../collector/detail/grpc-detail-client.js';
import { GrpcIngestServer, RAW_INGEST_SERVICE } from '../collector/ingest/grpc-ingest.js';
import type { PublishCall } from '../collector/ingest/grpc-ingest.js';
import type { IngestOrigin, IngestOutcome, SnapshotIngest } from '../collector/ingest/snapshot-ingest.js';
import type { GetSocketsRequest, GetSocketsResponse } from '../proto/gen/fleetstat/v1/detail.js';
import { IngestServiceClient, IngestServiceService, PublishRequest } from '../proto/gen/fleetstat/v1/ingest.js';
import type { PublishResponse } from '../proto/gen/fleetstat/v1/ingest.js';
import { Snapshot, Table, TcpState } from '../proto/gen/fleetstat/v1/snapshot.js';

const FAST = { initialMs: 50, maxMs: 200, multiplier: 2 };

/** Accepts a snapshot unless it does not decode or names a node other than the claimed one. */
class RecordingIngest implements SnapshotIngest {
  readonly received: { bytes: Uint8Array; origin: IngestOrigin; outcome: IngestOutcome }[] = [];

  ingest(bytes: Uint8Array, origin: IngestOrigin): IngestOutcome {
    let outcome: IngestOutcome;
    try {
      const snapshot = Snapshot.decode(bytes);
      outcome =
        origin.claimedNode !== undefined && origin.claimedNode !== snapshot.node
          ? { accepted: false, reason: 'node_mismatch', detail: snapshot.node }
          : snapshot.node === ''
            ? { accepted: false, reason: 'invalid', detail: 'no node' }
            : { accepted: true };
    } catch (error) {
      outcome = { accepted: false, reason: 'malformed', detail: String(error) };
    }
    // Copied: the test must see what arrived, whatever grpc-js does with its buffers later.
    this.received.push({ bytes: Uint8Array.from(bytes), origin, outcome });
    return outcome;
  }

  seqs(): number[] {
    return this.received.map((r) => Snapshot.decode(r.bytes).seq);
  }
}

function snapshot(node: string, seq: number, processName = 'nginx'): Snapshot {
  return Snapshot.fromPartial({
    cluster: 'test',
    node,
    epoch: 7,
    seq,
    agentTimeMs: 1_700_000_000_000 + seq,
    intervalMs: 1000,
    httpPorts: [80, 443],
    namespaces: [{ inode: 4026531840, host: true, processName, ports: [{ port: 80, direction: 1, state: 1, count: seq, http: true }] }],
  });
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Everything a test starts, stopped after it whatever happened. */
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function ingestServer(ingest: SnapshotIngest, address = '127.0.0.1:0', maxMessageBytes?: number) {
  const server = new GrpcIngestServer({ address, ingest, ...(maxMessageBytes !== undefined && { maxMessageBytes }) });
  const port = await server.start();
  cleanups.push(() => server.shutdown(1000));
  return { server, port, address: `127.0.0.1:${port}` };
}

function publisher(address: string, extra: Partial<ConstructorParameters<typeof GrpcPublisher>[0]> = {}): GrpcPublisher {
  const p = new GrpcPublisher({ address, backoff: FAST, startTimeoutMs: 3000, ...extra });
  cleanups.push(() => p.shutdown(1000));
  return p;
}

/** Client-streams the given messages as they are (identity serializer) and returns the reply. */
function sendRaw(address: string, messages: Uint8Array[]): Promise<PublishResponse> {
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

function encodeRequest(s: Snapshot): Uint8Array {
  return PublishRequest.encode({ snapshot: s }).finish();
}

describe('GrpcPublisher → GrpcIngestServer', () => {
  it('hands ingest each snapshot byte for byte, in order, bound to the first node', async () => {
    const ingest = new RecordingIngest();
    const { address } = await ingestServer(ingest);
    const p = publisher(address);
    await p.start();
    expect(p.status()).toEqual({ connected: true });
    const sent = Array.from({ length: 20 }, (_, i) => snapshot('node-a', i + 1));
    for (const s of sent) expect(await p.publish(s)).toBe('sent');
    await waitFor('20 snapshots', () => ingest.received.length === 20);
    expect(ingest.received.map((r) => Buffer.from(r.bytes))).toEqual(sent.map((s) => Buffer.from(Snapshot.encode(s).finish())));
    expect(ingest.received[0]?.origin).toEqual({ transport: 'grpc' });
    for (const r of ingest.received.slice(1)) expect(r.origin).toEqual({ transport: 'grpc', claimedNode: 'node-a' });
    expect(p.stats()).toMatchObject({ written: 20, timedOut: 0, dropped: 0, streamsOpened: 1 });
  });

  it('replies accepted/rejected counts at half-close; another node on a bound stream is claimed as the bound one', async () => {
    const ingest = new RecordingIngest();
    const { address, server } = await ingestServer(ingest);
    const client = new IngestServiceClient(address, credentials.createInsecure());
    cleanups.push(() => client.close());
    const response = await new Promise<PublishResponse>((resolve, reject) => {
      const call = client.publish((error, reply) => (error ? reject(error) : resolve(reply)));
      call.write({ snapshot: snapshot('node-a', 1) });
      call.write({ snapshot: snapshot('node-b', 2) });
      call.write({ snapshot: snapshot('node-a', 3) });
      call.end();
    });
    expect(response).toEqual({ accepted: 2, rejected: 1 });
    expect(ingest.received.map((r) => r.origin.claimedNode)).toEqual([undefined, 'node-a', 'node-a']);
    expect(ingest.received[1]?.outcome).toMatchObject({ accepted: false, reason: 'node_mismatch' });
    expect(server.service.stats()).toEqual({ openStreams: 0, streamsOpened: 1, accepted: 2, rejected: 1 });
  });

  it('while the collector is down: pending, only the newest kept, sent on reconnect to the same port', async () => {
    const first = new RecordingIngest();
    const { server, port, address } = await ingestServer(first);
    const p = publisher(address);
    await p.start();
    expect(await p.publish(snapshot('node-a', 1))).toBe('sent');
    await waitFor('first snapshot', () => first.received.length === 1);

    await server.shutdown(1000);
    await waitFor('disconnect', () => !p.status().connected);
    expect(await p.publish(snapshot('node-a', 2))).toBe('pending');
    expect(await p.publish(snapshot('node-a', 3))).toBe('pending');
    expect(await p.publish(snapshot('node-a', 4))).toBe('pending');
    expect(p.status().lastError).toBeTruthy();

    const second = new RecordingIngest();
    await ingestServer(second, `127.0.0.1:${port}`);
    await waitFor('reconnect and flush', () => second.received.length === 1);
    expect(p.status()).toEqual({ connected: true });
    expect(second.seqs()).toEqual([4]);
    expect(await p.publish(snapshot('node-a', 5))).toBe('sent');
    await waitFor('next snapshot', () => second.received.length === 2);
    expect(second.seqs()).toEqual([4, 5]);
    expect(first.seqs()).toEqual([1]);
    expect(p.stats().dropped).toBe(2);
  });

  it('start() with the collector down resolves, keeps trying, and connects once it is up', async () => {
    const { server, port } = await ingestServer(new RecordingIngest());
    await server.shutdown(1000);
    const p = publisher(`127.0.0.1:${port}`);
    await p.start();
    expect(p.status().connected).toBe(false);
    expect(p.status().lastError).toMatch(/UNAVAILABLE/);
    expect(await p.publish(snapshot('node-a', 1))).toBe('pending');
    const ingest = new RecordingIngest();
    await ingestServer(ingest, `127.0.0.1:${port}`);
    await waitFor('pending snapshot', () => ingest.received.length === 1);
    expect(p.status()).toEqual({ connected: true });
  });

  it('start() rejects with PublishError for a bad address and for a server that is not a collector', async () => {
    for (const address of ['collector', '::1:7070', '[::1:7070', 'collector:0', 'collector:70000', 'bad host:80']) {
      await expect(publisher(address).start()).rejects.toBeInstanceOf(PublishError);
    }
    const detail = new GrpcDetailServer({ address: '127.0.0.1:0', source: { getSockets: () => Promise.reject(new Error('unused')) } });
    const port = await detail.start();
    cleanups.push(() => detail.shutdown(1000));
    const p = publisher(`127.0.0.1:${port}`);
    await expect(p.start()).rejects.toThrow(/UNIMPLEMENTED/);
    await expect(p.publish(snapshot('node-a', 1))).rejects.toBeInstanceOf(PublishError);
  });

  it('refuses an oversized message with RESOURCE_EXHAUSTED and keeps serving other streams', async () => {
    const ingest = new RecordingIngest();
    const { address, server } = await ingestServer(ingest, '127.0.0.1:0', 4096);
    const p = publisher(address);
    await p.start();
    expect(await p.publish(snapshot('node-a', 1))).toBe('sent');

    const huge = encodeRequest(snapshot('node-b', 1, 'x'.repeat(10_000)));
    const error = await sendRaw(address, [huge]).then(
      () => undefined,
      (e: ServiceError) => e,
    );
    expect(error?.code).toBe(Status.RESOURCE_EXHAUSTED);

    expect(await p.publish(snapshot('node-a', 2))).toBe('sent');
    expect(await sendRaw(address, [encodeRequest(snapshot('node-c', 1))])).toEqual({ accepted: 1, rejected: 0 });
    await waitFor('both snapshots of node-a', () => ingest.received.filter((r) => r.origin.claimedNode === 'node-a').length === 1);
    expect(ingest.received.map((r) => Snapshot.decode(r.bytes).node).sort()).toEqual(['node-a', 'node-a', 'node-c']);
    expect(p.status().connected).toBe(true);
    // The refused stream is forgotten: only the publisher's stays open.
    await waitFor('refused stream forgotten', () => server.service.stats().openStreams === 1);

    // A publisher whose own limit is higher: the collector ends its stream, it reconnects and carries on.
    const oversized = await p.publish(snapshot('node-a', 3, 'x'.repeat(10_000))).catch((e: unknown) => e);
    expect(oversized === 'sent' || oversized instanceof PublishError).toBe(true);
    await waitFor('stream cut', () => p.stats().streamsOpened === 2 && p.status().connected);
    expect(await p.publish(snapshot('node-a', 4))).toBe('sent');
    await waitFor('snapshot after reconnect', () => ingest.seqs().includes(4));
    expect(ingest.seqs()).not.toContain(3);
  });

  it('refuses locally a snapshot over its own limit without dropping the stream', async () => {
    const ingest = new RecordingIngest();
    const { address } = await ingestServer(ingest);
    const p = publisher(address, { maxMessageBytes: 4096 });
    await p.start();
    await expect(p.publish(snapshot('node-a', 1, 'x'.repeat(10_000)))).rejects.toThrow(/limit is 4096/);
    expect(await p.publish(snapshot('node-a', 2))).toBe('sent');
    await waitFor('small snapshot', () => ingest.received.length === 1);
    expect(p.stats().streamsOpened).toBe(1);
  });

  it('survives garbage: each bad message is rejected by ingest (counted) and the server keeps serving', async () => {
    const ingest = new RecordingIngest();
    const { address } = await ingestServer(ingest);
    const garbage = [
      Buffer.from('GET / HTTP/1.1\r\n\r\n'),
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      Buffer.from([0x0a, 0x7f, 0x01]), // snapshot field claims 127 bytes, has 1
      Buffer.from([0x08, 0x01]), // snapshot field as a varint: decodes as a default (invalid) Snapshot
      encodeRequest(snapshot('', 1)).subarray(0, 0), // empty PublishRequest: no snapshot
      Buffer.from([0x0a, 0x03, 0xff, 0xff, 0xff]), // snapshot bytes that are not a Snapshot
    ];
    const response = await sendRaw(address, [...garbage, encodeRequest(snapshot('node-a', 1))]);
    expect(response).toEqual({ accepted: 1, rejected: garbage.length });
    expect(ingest.received.map((r) => (r.outcome.accepted ? 'ok' : r.outcome.reason))).toEqual([
      'malformed',
      'malformed',
      'malformed',
      'invalid',
      'invalid',
      'malformed',
      'ok',
    ]);
    expect(await sendRaw(address, [encodeRequest(snapshot('node-b', 1))])).toEqual({ accepted: 1, rejected: 0 });
  });

  it('a publish whose write does not complete in time rejects with PublishTimeoutError, and the publisher reconnects', async () => {
    // A "collector" that accepts the stream and then never reads: HTTP/2 flow control stalls the writes.
    const server = new Server();
    const stalled: PublishCall[] = [];
    server.addService(RAW_INGEST_SERVICE, {
      publish: (call: PublishCall) => {
        call.sendMetadata(new Metadata());
        call.pause();
        stalled.push(call);
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    cleanups.push(() => server.forceShutdown());
    const p = publisher(`127.0.0.1:${port}`, { publishTimeoutMs: 300 });
    await p.start();
    const big = (seq: number) => snapshot('node-a', seq, 'x'.repeat(256 * 1024));
    let error: unknown;
    for (let seq = 1; seq <= 200 && error === undefined; seq++) {
      await p.publish(big(seq)).catch((e: unknown) => (error = e));
    }
    expect(error).toBeInstanceOf(PublishTimeoutError);
    expect(p.stats().timedOut).toBe(1);
    await waitFor('a second stream', () => stalled.length === 2);
  });

  it('shutdown half-closes (the collector answers), is safe twice, and later publishes reject', async () => {
    const ingest = new RecordingIngest();
    const { server, address } = await ingestServer(ingest);
    const p = publisher(address);
    await p.start();
    expect(await p.publish(snapshot('node-a', 1))).toBe('sent');
    await Promise.all([p.shutdown(1000), p.shutdown(1000)]);
    await p.shutdown(1000);
    expect(ingest.received).toHaveLength(1);
    expect(server.service.stats()).toMatchObject({ openStreams: 0, accepted: 1 });
    expect(p.status().connected).toBe(false);
    await expect(p.publish(snapshot('node-a', 2))).rejects.toBeInstanceOf(PublishError);
    await Promise.all([server.shutdown(1000), server.shutdown(1000)]);
    await new GrpcPublisher({ address }).shutdown(100); // never started
  });

  it('shutdown while disconnected still delivers the pending goodbye if the collector answers in time', async () => {
    const { server, port } = await ingestServer(new RecordingIngest());
    await server.shutdown(1000);
    // shutdown() comes well before the first retry (≥ 500 ms) and cancels it: only its
    // last-chance stream, waiting for the channel's 1 s reconnect, can deliver the goodbye.
    const p = publisher(`127.0.0.1:${port}`, { backoff: { initialMs: 1000, maxMs: 1000 } });
    await p.start();
    const goodbye = { ...snapshot('node-a', 9), goodbye: true };
    expect(await p.publish(goodbye)).toBe('pending');
    const ingest = new RecordingIngest();
    await ingestServer(ingest, `127.0.0.1:${port}`);
    await p.shutdown(3000);
    expect(ingest.received.map((r) => Snapshot.decode(r.bytes).goodbye)).toEqual([true]);
    expect(p.stats()).toMatchObject({ streamsOpened: 2, dropped: 0 });
  });

  it('a port that accepts TCP but never answers: start() resolves after startTimeoutMs, shutdown does not wait', async () => {
    const silent = createServer(() => undefined);
    const port = await new Promise<number>((resolve) => silent.listen(0, '127.0.0.1', () => resolve((silent.address() as AddressInfo).port)));
    cleanups.push(() => {
      silent.close();
      silent.unref();
    });
    const p = publisher(`127.0.0.1:${port}`, { startTimeoutMs: 200 });
    await p.start();
    expect(p.status().connected).toBe(false);
    expect(await p.publish(snapshot('node-a', 1))).toBe('pending');
    // The pending snapshot is written to the connecting stream: shutdown waits its full limit for it.
    const started = Date.now();
    await p.shutdown(300);
    expect(Date.now() - started).toBeLessThan(1000);
    const idle = publisher(`127.0.0.1:${port}`, { startTimeoutMs: 200 });
    await idle.start();
    const idleStarted = Date.now();
    await idle.shutdown(5000);
    expect(Date.now() - idleStarted).toBeLessThan(1000);
  });

  it('a second server on a port in use fails start() with GrpcServerError', async () => {
    const { port } = await ingestServer(new RecordingIngest());
    const clash = new GrpcIngestServer({ address: `127.0.0.1:${port}`, ingest: new RecordingIngest() });
    await expect(clash.start()).rejects.toBeInstanceOf(GrpcServerError);
    await clash.shutdown(100);
  });
});

describe('GrpcDetailServer ↔ GrpcDetailClient', () => {
  const row = {
    table: Table.TABLE_TCP,
    localAddress: '10.0.0.5',
    localPort: 80,
    remoteAddress: '10.0.0.9',
    remotePort: 51234,
    state: TcpState.TCP_STATE_ESTABLISHED,
    rxQueue: 0,
    txQueue: 0,
    uid: 0,
    inode: 123456,
    namespaceInode: 4026531840,
  };

  async function detailPair(getSockets: (request: GetSocketsRequest) => Promise<GetSocketsResponse>) {
    const server = new GrpcDetailServer({ address: '127.0.0.1:0', node: 'node-a', source: { getSockets } });
    const port = await server.start();
    cleanups.push(() => server.shutdown(1000));
    const addresses = new Map([
      ['node-a', `127.0.0.1:${port}`],
      ['node-b', `127.0.0.1:${port}`], // a stale address now served by node-a
    ]);
    const client = new GrpcDetailClient({ resolveAddress: (node) => addresses.get(node) });
    cleanups.push(() => client.close());
    return { server, client, addresses };
  }

  it('round trip: the request reaches the source and its rows come back', async () => {
    const requests: GetSocketsRequest[] = [];
    const { client } = await detailPair((request) => {
      requests.push(request);
      return Promise.resolve({ node: 'node-a', rows: [row], truncated: 3, error: '' });
    });
    const request = { node: 'node-a', port: 80, state: TcpState.TCP_STATE_ESTABLISHED, namespaceInode: 0, limit: 100 };
    expect(await client.getSockets('node-a', request, 2000)).toEqual({ node: 'node-a', rows: [row], truncated: 3, error: '' });
    expect(await client.getSockets('node-a', request, 2000)).toMatchObject({ truncated: 3 });
    expect(requests).toEqual([request, request]);
  });

  it('failures reject with DetailRequestError naming why', async () => {
    let mode: 'throw' | 'hang' = 'throw';
    const { client, addresses } = await detailPair(() =>
      mode === 'throw' ? Promise.reject(new Error('worker busy')) : new Promise<GetSocketsResponse>(() => undefined),
    );
    const ask = (node: string, timeoutMs = 2000) =>
      client.getSockets(node, { node, port: 80, state: 0, namespaceInode: 0, limit: 10 }, timeoutMs).then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(await ask('node-z')).toMatchObject({ name: 'DetailRequestError', failure: 'no_address' });
    expect(await ask('node-b')).toMatchObject({ failure: 'wrong_node' });
    expect(await ask('node-a')).toMatchObject({ failure: 'refused', message: expect.stringMatching(/INTERNAL.*worker busy/) as unknown });
    mode = 'hang';
    const started = Date.now();
    expect(await ask('node-a', 200)).toMatchObject({ failure: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2000);

    const { server, port } = await ingestServer(new RecordingIngest());
    await server.shutdown(1000);
    addresses.set('node-gone', `127.0.0.1:${port}`);
    expect(await ask('node-gone')).toBeInstanceOf(DetailRequestError);
    expect(await ask('node-gone')).toMatchObject({ failure: 'unavailable' });
    addresses.set('node-typo', 'agent:99999');
    expect(await ask('node-typo')).toMatchObject({ failure: 'bad_address' });
  });

  it('closes idle channels and keeps at most maxChannels', async () => {
    const servers = await Promise.all(
      [1, 2, 3].map(async () => {
        const server = new GrpcDetailServer({
          address: '127.0.0.1:0',
          source: { getSockets: (r) => Promise.resolve({ node: r.node, rows: [], truncated: 0, error: '' }) },
        });
        cleanups.push(() => server.shutdown(1000));
        return server.start();
      }),
    );
    const client = new GrpcDetailClient({ resolveAddress: (node) => `127.0.0.1:${servers[Number(node)]}`, maxChannels: 2, idleMs: 300 });
    cleanups.push(() => client.close());
    const channels = () => (client as unknown as { channels: Map<string, unknown> }).channels;
    for (const node of ['0', '1', '2', '0']) await client.getSockets(node, { node, port: 0, state: 0, namespaceInode: 0, limit: 1 }, 2000);
    expect([...channels().keys()]).toEqual([`127.0.0.1:${servers[2]}`, `127.0.0.1:${servers[0]}`]);
    await waitFor('idle channels closed', () => channels().size === 0, 5000);
    client.close();
    client.close();
    await expect(client.getSockets('0', { node: '0', port: 0, state: 0, namespaceInode: 0, limit: 1 }, 100)).rejects.toMatchObject({
      failure: 'closed',
    });
  });

  it('rate-limits a flood from one peer with RESOURCE_EXHAUSTED naming when to retry', async () => {
    const server = new GrpcDetailServer({
      address: '127.0.0.1:0',
      rateLimit: { perSecond: 0.01, burst: 3 },
      source: { getSockets: (r) => Promise.resolve({ node: r.node, rows: [], truncated: 0, error: '' }) },
    });
    const port = await server.start();
    cleanups.push(() => server.shutdown(1000));
    const client = new GrpcDetailClient({ resolveAddress: () => `127.0.0.1:${port}` });
    cleanups.push(() => client.close());
    const request = { node: 'n', port: 0, state: 0, namespaceInode: 0, limit: 1 };
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++) {
      outcomes.push(await client.getSockets('n', request, 2000).then(() => 'ok', (e: Error) => e.message));
    }
    expect(outcomes.slice(0, 3)).toEqual(['ok', 'ok', 'ok']);
    for (const o of outcomes.slice(3)) expect(o).toMatch(/RESOURCE_EXHAUSTED.*rate limited: .* retry in \d+ ms/);
  });

  it('refuses requests beyond maxConcurrent with RESOURCE_EXHAUSTED; shutdown is safe twice', async () => {
    const release: (() => void)[] = [];
    const server = new GrpcDetailServer({
      address: '127.0.0.1:0',
      maxConcurrent: 1,
      source: {
        getSockets: (r) =>
          new Promise((resolve) => release.push(() => resolve({ node: r.node, rows: [], truncated: 0, error: '' }))),
      },
    });
    const port = await server.start();
    const client = new GrpcDetailClient({ resolveAddress: () => `127.0.0.1:${port}` });
    cleanups.push(() => client.close());
    const request = { node: 'n', port: 0, state: 0, namespaceInode: 0, limit: 1 };
    const first = client.getSockets('n', request, 5000);
    await waitFor('first request running', () => release.length === 1);
    await expect(client.getSockets('n', request, 5000)).rejects.toThrow(/RESOURCE_EXHAUSTED/);
    release[0]?.();
    expect(await first).toMatchObject({ node: 'n' });
    await Promise.all([server.shutdown(1000), server.shutdown(1000)]);
    await server.shutdown(1000);
  });
});
