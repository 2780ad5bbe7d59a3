// gRPC with TLS and mutual TLS over real sockets on 127.0.0.1, with certificates made by openssl
// for this run (support/test-pki.ts): publish over TLS and mTLS, DetailService over mTLS,
// refusals (plaintext to TLS, no client certificate, a wrong CA, a stranger's certificate), a
// collector that comes back with another certificate after start-up, certificate files that
// cannot be used, and QueryService's bearer token.

import type { ServiceError } from '@grpc/grpc-js';
import { credentials, Metadata, status as Status } from '@grpc/grpc-js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GrpcDetailServer } from '../agent/detail/grpc-detail-server.js';
import type { GrpcClientTls, GrpcServerTls } from '../agent/grpc/grpc-tls.js';
import { grpcChannelCredentials, grpcChannelOptions, grpcServerCredentials } from '../agent/grpc/grpc-tls.js';
import { probeGrpcTls } from '../agent/grpc/grpc-tls-probe.js';
import { GrpcPublisher } from '../agent/publish/grpc-publisher.js';
import { PublishError } from '../agent/publish/snapshot-publisher.js';
import { TlsFileError } from '../agent/tls/pem-files.js';
import { BearerAuth } from '../collector/api/bearer-auth.js';
import { bearerInterceptor } from '../collector/api/grpc-bearer-auth.js';
import { addQueryService } from '../collector/api/grpc-query.js';
import { Collector } from '../collector/collector.js';
import { DetailRequestError, GrpcDetailClient } from '../collector/detail/grpc-detail-client.js';
import { GrpcIngestServer } from '../collector/ingest/grpc-ingest.js';
import type { IngestOrigin, IngestOutcome, SnapshotIngest } from '../collector/ingest/snapshot-ingest.js';
import type { GetSocketsRequest, GetSocketsResponse } from '../proto/gen/fleetstat/v1/detail.js';
import { QueryServiceClient } from '../proto/gen/fleetstat/v1/query.js';
import type { GetSummaryResponse } from '../proto/gen/fleetstat/v1/query.js';
import { Snapshot } from '../proto/gen/fleetstat/v1/snapshot.js';
import { fleetstat } from './support/fleetstat-cli.js';
import { freePort } from './support/nats-server.js';
import { makeSnapshot } from './support/snapshots.js';
import type { TestPki } from './support/test-pki.js';
import { makeTestPki } from './support/test-pki.js';

const FAST = { initialMs: 50, maxMs: 200, multiplier: 2 };

class CountingIngest implements SnapshotIngest {
  readonly nodes: string[] = [];
  ingest(bytes: Uint8Array, _origin: IngestOrigin): IngestOutcome {
    this.nodes.push(Snapshot.decode(bytes).node);
    return { accepted: true };
  }
}

/** pino into memory: the publisher's log lines, parsed. */
function memoryLogger(): { logger: pino.Logger; lines: { msg: string; reason?: string; failedAttempts?: number }[] } {
  const lines: { msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as { msg: string });
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let pki: TestPki;
const cleanups: (() => Promise<void> | void)[] = [];
beforeAll(async () => {
  pki = await makeTestPki();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(() => pki?.cleanup());

async function ingestServer(tls: GrpcServerTls | undefined, port = 0, ingest = new CountingIngest()) {
  const server = new GrpcIngestServer({ address: `127.0.0.1:${port}`, ingest, credentials: grpcServerCredentials(tls) });
  const bound = await server.start();
  cleanups.push(() => server.shutdown(1000));
  return { server, ingest, port: bound, address: `127.0.0.1:${bound}` };
}

function publisher(address: string, tls: GrpcClientTls | undefined, logger?: pino.Logger): GrpcPublisher {
  const p = new GrpcPublisher({
    address, credentials: grpcChannelCredentials(tls), probeTls: () => probeGrpcTls(address, tls), backoff: FAST, startTimeoutMs: 5000, ...(logger ? { logger } : {}),
  });
  cleanups.push(() => p.shutdown(1000));
  return p;
}

const snap = (node: string, seq: number): Snapshot => makeSnapshot({ node, seq, epoch: 3, agentTimeMs: 1_700_000_000_000 + seq, intervalMs: 1000, http: [] });

describe('IngestService over TLS', () => {
  it('server TLS: a publisher trusting the CA delivers snapshots', async () => {
    const { address, ingest } = await ingestServer({ cert: pki.serverCert, key: pki.serverKey });
    const p = publisher(address, { ca: pki.ca });
    await p.start();
    expect(p.status().connected).toBe(true);
    for (let seq = 1; seq <= 3; seq++) expect(await p.publish(snap('tls-node', seq))).toBe('sent');
    await waitFor('3 snapshots', () => ingest.nodes.length === 3);
  });

  it('mutual TLS: a publisher with a client certificate from the CA delivers', async () => {
    const { address, ingest } = await ingestServer({ cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca });
    const p = publisher(address, { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
    await p.start();
    expect(await p.publish(snap('mtls-node', 1))).toBe('sent');
    await waitFor('a snapshot', () => ingest.nodes.length === 1);
  });

  it('a plaintext publisher to a TLS server: start() rejects saying so (grpc-js says only "failed to connect"; the probe finds why)', async () => {
    const { address, ingest, server } = await ingestServer({ cert: pki.serverCert, key: pki.serverKey });
    const p = publisher(address, undefined);
    const error = await p.start().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as Error).message).toMatch(/TLS handshake with the collector at 127\.0\.0\.1:\d+ failed: it serves TLS and we speak plaintext \(give --grpc-ca/);
    expect(ingest.nodes).toEqual([]);
    expect(server.service.stats().streamsOpened).toBe(0);
  });

  it('mutual TLS without a client certificate: start() rejects saying a client certificate is required', async () => {
    const { address, ingest } = await ingestServer({ cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca });
    const p = publisher(address, { ca: pki.ca });
    const error = await p.start().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as Error).message).toMatch(/TLS handshake with the collector at 127\.0\.0\.1:\d+ failed: .*certificate required.*client certificate \(--grpc-cert\/--grpc-key\)/);
    expect(ingest.nodes).toEqual([]);
  });

  it('mutual TLS with a certificate from another CA: start() rejects saying the certificate was refused', async () => {
    const { address, ingest, server } = await ingestServer({ cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca });
    const p = publisher(address, { ca: pki.ca, cert: pki.strangerCert, key: pki.strangerKey });
    const error = await p.start().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as Error).message).toMatch(/TLS handshake with the collector at 127\.0\.0\.1:\d+ failed: .*(does not accept|refused) our client certificate/);
    expect(ingest.nodes).toEqual([]);
    expect(server.service.stats().streamsOpened).toBe(0);
  });

  it('a CA that did not sign the server: start() rejects naming the CA problem', async () => {
    const { address } = await ingestServer({ cert: pki.serverCert, key: pki.serverKey });
    const p = publisher(address, { ca: pki.otherCa });
    await expect(p.start()).rejects.toThrow(/TLS handshake with the collector .* failed: .*unable to verify the first certificate.*not signed by the CA given \(--grpc-ca\)/);
  });

  it('after start-up, a collector back with a certificate the agent does not trust: retried with backoff and logged (throttled), then delivered once it is right again', async () => {
    const first = await ingestServer({ cert: pki.serverCert, key: pki.serverKey });
    const { logger, lines } = memoryLogger();
    const p = publisher(first.address, { ca: pki.ca }, logger);
    await p.start();
    expect(await p.publish(snap('rotating', 1))).toBe('sent');

    // The collector restarts on the same port with a certificate from another CA.
    await first.server.shutdown(500);
    const strangerServer = await ingestServer({ cert: pki.strangerCert, key: pki.strangerKey }, first.port);
    const tlsRetries = () => lines.filter((l) => l.msg === 'cannot reach the collector; retrying' && /certificate/.test(l.reason ?? ''));
    await waitFor('a logged TLS retry', () => tlsRetries().length > 0);
    // Several attempts, one line for the same reason: the rest wait for the next minute.
    const attempts = tlsRetries()[0]?.failedAttempts ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(p.stats().streamsOpened).toBeGreaterThan(attempts + 2);
    expect(p.status()).toMatchObject({ connected: false, lastError: expect.stringMatching(/unable to verify the first certificate/) });
    expect(tlsRetries()).toHaveLength(1);
    expect(tlsRetries()[0]?.reason).toMatch(/not signed by the CA given/);
    expect(await p.publish(snap('rotating', 2))).toBe('pending');

    // Back with the right certificate: the pending snapshot goes through.
    await strangerServer.server.shutdown(500);
    const fixed = await ingestServer({ cert: pki.serverCert, key: pki.serverKey }, first.port);
    await waitFor('the pending snapshot', () => fixed.ingest.nodes.length === 1);
    expect(p.status().connected).toBe(true);
  });
});

describe('DetailService over mutual TLS', () => {
  const rows: GetSocketsResponse = { node: 'agent-1', rows: [], truncated: 0, error: '' };
  const source = { getSockets: async (_request: GetSocketsRequest) => rows };

  async function detailServer(): Promise<string> {
    // The agent's certificate names "fleetstat-agent", not the IP it is dialled at.
    const server = new GrpcDetailServer({
      address: '127.0.0.1:0',
      source,
      node: 'agent-1',
      credentials: grpcServerCredentials({ cert: pki.clientCert, key: pki.clientKey, clientCa: pki.ca }),
    });
    const port = await server.start();
    cleanups.push(() => server.shutdown(1000));
    return `127.0.0.1:${port}`;
  }

  function client(address: string, tls: GrpcClientTls | undefined): GrpcDetailClient {
    const c = new GrpcDetailClient({ resolveAddress: () => address, credentials: grpcChannelCredentials(tls), channelOptions: grpcChannelOptions(tls) });
    cleanups.push(() => c.close());
    return c;
  }

  const request: GetSocketsRequest = { node: 'agent-1', port: 80, state: 0, namespaceInode: 0, limit: 10 };

  it('the collector, with its certificate and the name agents hold, gets rows', async () => {
    const address = await detailServer();
    const c = client(address, { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey, serverName: 'fleetstat-agent' });
    await expect(c.getSockets('agent-1', request, 5000)).resolves.toMatchObject(rows);
  });

  it('without the server name the certificate does not match the IP: a TLS failure, said so', async () => {
    const address = await detailServer();
    const c = client(address, { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey });
    const error = await c.getSockets('agent-1', request, 5000).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(DetailRequestError);
    expect((error as DetailRequestError).message).toMatch(/TLS handshake failed: .*(Hostname\/IP does not match|altnames)/);
  });

  it('a caller without a client certificate gets nothing', async () => {
    const address = await detailServer();
    const c = client(address, { ca: pki.ca, serverName: 'fleetstat-agent' });
    await expect(c.getSockets('agent-1', request, 5000)).rejects.toThrow(DetailRequestError);
  });
});

describe('certificate files', () => {
  it('unreadable, not PEM, or a key of another certificate: TlsFileError naming the file', () => {
    const notPem = join(pki.dir, 'not-pem.crt');
    writeFileSync(notPem, 'hello\n');
    expect(() => grpcServerCredentials({ cert: join(pki.dir, 'missing.crt'), key: pki.serverKey })).toThrow(/cannot read certificate .*missing\.crt: ENOENT/);
    expect(() => grpcServerCredentials({ cert: notPem, key: pki.serverKey })).toThrow(TlsFileError);
    expect(() => grpcServerCredentials({ cert: notPem, key: pki.serverKey })).toThrow(/not-pem\.crt holds no PEM certificate/);
    expect(() => grpcServerCredentials({ cert: pki.serverCert, key: pki.clientKey })).toThrow(/private key .*client\.key does not belong to certificate .*server\.crt/);
    expect(() => grpcChannelCredentials({ ca: pki.serverKey })).toThrow(/CA .*server\.key holds no PEM certificate/);
    expect(() => grpcServerCredentials({ cert: pki.serverCert, key: pki.ca })).toThrow(/private key .*ca\.crt is not an unencrypted PEM private key/);
  });
});

describe('QueryService bearer token', () => {
  async function queryServer(): Promise<QueryServiceClient> {
    const collector = new Collector({ cluster: 'test', logger: pino({ level: 'silent' }) });
    collector.state.ingest(Snapshot.encode(snap('q-node', 1)).finish(), { transport: 'grpc' });
    const ingest = new CountingIngest();
    const server = new GrpcIngestServer({
      address: '127.0.0.1:0',
      ingest,
      serverOptions: { interceptors: [bearerInterceptor(new BearerAuth('s3cret-token'), '/fleetstat.v1.QueryService/')] },
    });
    addQueryService(server.server, collector);
    const port = await server.start();
    cleanups.push(() => server.shutdown(1000));
    const client = new QueryServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    cleanups.push(() => client.close());
    // IngestService on the same server does not ask for the token.
    const p = publisher(`127.0.0.1:${port}`, undefined);
    await p.start();
    expect(await p.publish(snap('ingest-node', 1))).toBe('sent');
    await waitFor('ingest without a token', () => ingest.nodes.length === 1);
    return client;
  }

  function summary(client: QueryServiceClient, token?: string): Promise<GetSummaryResponse> {
    const metadata = new Metadata();
    if (token !== undefined) metadata.set('authorization', `Bearer ${token}`);
    return new Promise((resolve, reject) => client.getSummary({}, metadata, (error: ServiceError | null, reply?: GetSummaryResponse) => (error ? reject(error) : resolve(reply!))));
  }

  it('without the token or with a wrong one: UNAUTHENTICATED; with it: the summary', async () => {
    const client = await queryServer();
    await expect(summary(client)).rejects.toMatchObject({ code: Status.UNAUTHENTICATED });
    await expect(summary(client, 'wrong')).rejects.toMatchObject({ code: Status.UNAUTHENTICATED });
    await expect(summary(client, 's3cret-token')).resolves.toMatchObject({ liveNodes: 1 });
  });

  it('BearerAuth: only "Bearer <token>" exactly, any case of the scheme', () => {
    const auth = new BearerAuth('abc');
    expect(auth.allows('Bearer abc')).toBe(true);
    expect(auth.allows('bearer abc')).toBe(true);
    for (const bad of [undefined, '', 'abc', 'Bearer', 'Bearer ab', 'Bearer abcd', 'Basic abc', 'Bearer abc def']) expect(auth.allows(bad)).toBe(false);
  });
});

describe('the agent CLI', () => {
  it('a CA that did not sign the collector: the agent exits non-zero at start-up with a clear message', async () => {
    const { port } = await ingestServer({ cert: pki.serverCert, key: pki.serverKey });
    const result = await fleetstat(['agent', '--node', 'cli-node', '--netns', 'self', '--grpc', `127.0.0.1:${port}`, '--grpc-ca', pki.otherCa]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/fleetstat: TLS handshake with the collector at 127\.0\.0\.1:\d+ failed: .*not signed by the CA given \(--grpc-ca\)/);
  });

  it('a certificate file that cannot be used: exit 2 naming it', async () => {
    const port = await freePort();
    const missing = await fleetstat(['agent', '--netns', 'self', '--grpc', `127.0.0.1:${port}`, '--grpc-ca', join(pki.dir, 'nope.crt')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read CA .*nope\.crt: ENOENT/);
    const halfPair = await fleetstat(['agent', '--netns', 'self', '--grpc', `127.0.0.1:${port}`, '--grpc-cert', pki.clientCert]);
    expect(halfPair.code).toBe(2);
    expect(halfPair.stderr).toMatch(/--grpc-cert and --grpc-key go together/);
    const collector = await fleetstat(['collector', '--listen', `127.0.0.1:${await freePort()}`, '--grpc', `127.0.0.1:${port}`, '--grpc-tls-cert', pki.serverCert, '--grpc-tls-key', pki.clientKey]);
    expect(collector.code).toBe(2);
    expect(collector.stderr).toMatch(/private key .*client\.key does not belong to certificate .*server\.crt/);
  });
});
