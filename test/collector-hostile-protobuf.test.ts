// Hostile protobuf to the real collector binary over a real nats-server and real gRPC, at the
// default size limit (4 MiB): nesting 10,000 deep, unknown and unterminated groups, truncated
// varints and lengths, lengths claiming gigabytes, a few hundred random messages per transport,
// and valid snapshots just under and over the limit or packed with millions of empty elements.
// Every bad message is counted under a rejection reason, the good nodes keep their counts, the
// collector stays healthy and its resident memory stays bounded.
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrpcPublisher } from '../agent/publish/grpc-publisher.js';
import { NatsPublisher } from '../agent/publish/nats-publisher.js';
import { snapshotSubject } from '../agent/publish/snapshot-publisher.js';
import type { SnapshotPublisher } from '../agent/publish/snapshot-publisher.js';
import { DEFAULT_MAX_SNAPSHOT_BYTES } from '../collector/ingest/decode-snapshot.js';
import { writePublishRequest } from '../collector/ingest/publish-request-bytes.js';
import type { RejectReason } from '../collector/ingest/snapshot-ingest.js';
import { Snapshot, TcpState } from '../proto/gen/fleetstat/v1/snapshot.js';
import type { Counts } from './support/collector-child.js';
import { buildSnapshot, CollectorChild, scrape, sendRawPublish, SimAgent, valueOf } from './support/collector-child.js';
import type { Exposition } from './support/collector-child.js';
import { freePort, startNatsServer } from './support/nats-server.js';
import type { NatsServer } from './support/nats-server.js';
import { waitFor } from './support/recording-ingest.js';

const CLUSTER = 'test';
const MAX = DEFAULT_MAX_SNAPSHOT_BYTES;
const EST = TcpState.TCP_STATE_ESTABLISHED;
const REASONS: RejectReason[] = ['malformed', 'too_large', 'invalid', 'node_mismatch', 'stale_sequence', 'cluster_mismatch'];
const RANDOM_PER_TRANSPORT = 300;
/** Resident memory the collector may gain over the whole run; the unfixed decoder took 700 MB for one message. */
const RSS_GROWTH_LIMIT_MB = 250;

let nats: NatsServer;
let collector: CollectorChild;
let rawNc: NatsConnection;
let grpcAddress = '';
let configDir = '';
const publishers: SnapshotPublisher[] = [];

// --- wire building blocks -------------------------------------------------------------------

const tag = (field: number, wireType: WireType): Uint8Array => new BinaryWriter().tag(field, wireType).finish();
const varint = (n: number): Uint8Array => new BinaryWriter().uint32(n).finish();
const ld = (field: number, body: Uint8Array): Uint8Array => new BinaryWriter().tag(field, WireType.LengthDelimited).bytes(body).finish();
const cat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

/** A valid snapshot header for `node`, so the rejection comes from what follows it. */
const header = (node: string, cluster = CLUSTER): Uint8Array =>
  Snapshot.encode(Snapshot.fromPartial({ cluster, node, epoch: 9, seq: 1, intervalMs: 30_000 })).finish();

/** `field` as a sub-message nested `depth` levels deep: every length first, then the headers outermost first. */
function nestedMessages(field: number, depth: number, innermost: Uint8Array = new Uint8Array(0)): Uint8Array {
  const lengths = [innermost.length];
  for (let i = 1; i < depth; i++) lengths.push(lengths[i - 1]! + tag(field, WireType.LengthDelimited).length + varint(lengths[i - 1]!).length);
  const w = new BinaryWriter();
  for (let i = depth - 1; i >= 0; i--) w.tag(field, WireType.LengthDelimited).uint32(lengths[i]!);
  return w.raw(innermost).finish();
}

function nestedGroups(field: number, depth: number, closed: boolean): Uint8Array {
  const open = tag(field, WireType.StartGroup);
  const close = tag(field, WireType.EndGroup);
  return cat(...Array.from({ length: depth }, () => open), ...(closed ? Array.from({ length: depth }, () => close) : []));
}

/**
 * A valid snapshot within 8 bytes under (or over) `target`: 200,000 port counts, then agentVersion
 * as padding. Not HTTP: as HTTP each would be a /metrics series (a cardinality matter, not a decoding one).
 */
function snapshotNear(node: string, target: number, over: boolean): Uint8Array {
  const counts: Counts = Array.from({ length: Math.floor(target / 20) }, (_, i) => [1 + (i % 65535), 'in', 1 + (i % 11), 1 + i]);
  const s = buildSnapshot(node, { namespaces: [counts], intervalMs: 30_000 }, { epoch: 1, seq: 1, agentTimeMs: Date.now() });
  for (const p of s.namespaces[0]!.ports) p.http = false;
  const wanted = over ? target + 8 : target - 8;
  // agentVersion (field 11) costs a 1-byte tag, a 3-byte length and its text.
  s.agentVersion = 'v'.repeat(wanted - Snapshot.encode(s).finish().length - 4);
  const bytes = Snapshot.encode(s).finish();
  if (Math.abs(bytes.length - wanted) > 8) throw new Error(`${bytes.length} bytes, wanted ${wanted}`);
  return bytes;
}

interface Hostile {
  what: string;
  bytes: Uint8Array;
  /** The reason it must be counted under; undefined: any reason (random bytes). */
  reason?: RejectReason;
}

/** The crafted bad messages: the same for both transports, all from node "mallory". */
function craftedHostile(maxWire: number): Hostile[] {
  const h = header('mallory');
  const list: Hostile[] = [
    // Past the schema's four levels the rest is an unknown field, skipped: read in full, then refused for its cluster.
    { what: 'namespaces field nested 10,000 deep', bytes: cat(header('mallory', 'prod'), nestedMessages(9, 10_000)), reason: 'cluster_mismatch' },
    { what: 'nested 10,000 deep, cut one byte short', bytes: cat(h, nestedMessages(9, 10_000)).subarray(0, -1), reason: 'malformed' },
    { what: 'unknown field nested 10,000 deep after a valid header', bytes: cat(nestedMessages(15, 10_000), h, tag(3, WireType.Varint), varint(0)), reason: 'invalid' },
    { what: '10,000 nested unknown groups', bytes: cat(h, nestedGroups(15, 10_000, true)), reason: 'malformed' },
    { what: 'unknown group never closed', bytes: cat(h, nestedGroups(15, 3, false)), reason: 'malformed' },
    { what: 'group closed by another field', bytes: cat(h, tag(15, WireType.StartGroup), tag(16, WireType.EndGroup)), reason: 'malformed' },
    { what: 'truncated varint value', bytes: cat(h, tag(4, WireType.Varint), Uint8Array.of(0xff, 0xff, 0xff)), reason: 'malformed' },
    { what: 'truncated tag', bytes: cat(h, Uint8Array.of(0x80)), reason: 'malformed' },
    { what: 'varint of 11 bytes', bytes: cat(h, tag(4, WireType.Varint), new Uint8Array(10).fill(0xff), Uint8Array.of(0x01)), reason: 'malformed' },
    { what: 'truncated length', bytes: cat(h, tag(9, WireType.LengthDelimited), Uint8Array.of(0x80, 0x80)), reason: 'malformed' },
    { what: 'namespaces claiming 4 GB', bytes: cat(h, tag(9, WireType.LengthDelimited), varint(0xffff_fff0), Uint8Array.of(1, 2, 3)), reason: 'malformed' },
    { what: 'unknown field claiming 2 GB', bytes: cat(h, tag(15, WireType.LengthDelimited), varint(0x7fff_ffff)), reason: 'malformed' },
    { what: 'port count inside a namespace claiming 1 GB', bytes: cat(h, ld(9, cat(tag(7, WireType.LengthDelimited), varint(1 << 30)))), reason: 'malformed' },
    { what: 'string claiming more than remains', bytes: cat(tag(2, WireType.LengthDelimited), varint(1000), Buffer.from('mallory')), reason: 'malformed' },
  ];
  // Within the transport's bytes: millions of elements that would decode to hundreds of MB.
  const emptyNamespaces = Math.floor((maxWire - h.length) / 2) - 8;
  const empties = new Uint8Array(2 * emptyNamespaces);
  for (let i = 0; i < empties.length; i += 2) empties[i] = tag(9, WireType.LengthDelimited)[0]!;
  list.push({ what: `${emptyNamespaces} empty namespaces`, bytes: cat(h, empties), reason: 'invalid' });
  const packed = Math.min(maxWire, MAX) - h.length - 16;
  list.push({ what: `${packed} packed HTTP ports of one byte each`, bytes: cat(h, ld(8, new Uint8Array(packed).fill(80))), reason: 'too_large' });
  return list;
}

function randomHostile(seed: number): Hostile[] {
  const arbitrary = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 512 }),
    // A well-formed header keeps the random tail from failing at the first byte; another
    // cluster's, so that a tail that happens to be well-formed is refused too.
    fc.uint8Array({ minLength: 1, maxLength: 256 }).map((tail) => cat(header('mallory', 'prod'), tail)),
  );
  return fc.sample(arbitrary, { numRuns: RANDOM_PER_TRANSPORT, seed }).map((bytes, i) => ({ what: `random #${i}`, bytes }));
}

// --- collector state -----------------------------------------------------------------------

function rssMB(): number {
  const status = readFileSync(`/proc/${collector.pid}/status`, 'utf8');
  const kB = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kB === undefined) throw new Error(`no VmRSS in /proc/${collector.pid}/status: ${status.slice(0, 400)}`);
  return Number(kB) / 1024;
}

const counter = (m: Exposition, name: string, labels: Record<string, string> = {}): number => valueOf(m, `fleetstat_ingest_snapshots_${name}_total`, labels);

function connectionsOf(m: Exposition, node: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of m.samples.filter((x) => x.name === 'fleetstat_http_connections' && x.labels['node'] === node)) {
    out[`${s.labels['port']} ${s.labels['state']} ${s.labels['direction']}`] = s.value;
  }
  return out;
}

beforeAll(async () => {
  // The transports must carry a message over the collector's 4 MiB limit to the collector.
  configDir = mkdtempSync(join(tmpdir(), 'fleetstat-hostile-'));
  writeFileSync(join(configDir, 'nats.conf'), `max_payload: ${2 * MAX}\n`);
  nats = await startNatsServer({ jetstream: false, args: ['-c', join(configDir, 'nats.conf')] });
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  grpcAddress = `127.0.0.1:${grpcPort}`;
  collector = await CollectorChild.start(httpPort, ['--cluster', CLUSTER, '--nats', nats.url, '--grpc', grpcAddress]);
  rawNc = await connect({ servers: nats.url });
});

afterAll(async () => {
  await Promise.all(publishers.map((p) => p.shutdown(1000)));
  await rawNc?.close();
  await collector?.stop();
  await nats?.stop();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

describe('collector binary: hostile protobuf on NATS and gRPC', () => {
  it('counts every hostile message under a reason, keeps the good nodes, stays healthy and bounded in memory', { timeout: 240_000 }, async () => {
    const natsPublisher = new NatsPublisher({ servers: nats.url, cluster: CLUSTER, node: 'good-nats', publishTimeoutMs: 2000 });
    const grpcPublisher = new GrpcPublisher({ address: grpcAddress, backoff: { initialMs: 50, maxMs: 200 }, startTimeoutMs: 3000, publishTimeoutMs: 2000 });
    publishers.push(natsPublisher, grpcPublisher);
    await Promise.all([natsPublisher.start(), grpcPublisher.start()]);
    const goodNats = new SimAgent('good-nats', natsPublisher, { namespaces: [[[80, 'in', EST, 5]]], intervalMs: 30_000 });
    const goodGrpc = new SimAgent('good-grpc', grpcPublisher, { namespaces: [[[443, 'in', EST, 6]], [[80, 'out', EST, 1]]], intervalMs: 30_000 });
    await Promise.all([goodNats.publish(), goodGrpc.publish()]);
    await waitFor('both good nodes', async () => counter(await scrape(collector.base), 'accepted') === 2);
    const before = await scrape(collector.base);
    const rssBefore = rssMB();
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssMB())), 25);

    try {
      // NATS: the payload is the snapshot. Each transport gets the crafted set and its own random set.
      const natsBad = [...craftedHostile(MAX), ...randomHostile(1)];
      natsBad.push({ what: 'valid, just over the limit', bytes: snapshotNear('mallory', MAX, true), reason: 'too_large' });
      const natsUnder = snapshotNear('big-nats', MAX, false);
      for (const { bytes } of natsBad) rawNc.publish(snapshotSubject(CLUSTER, 'mallory'), bytes);
      rawNc.publish(snapshotSubject(CLUSTER, 'big-nats'), natsUnder);
      await rawNc.flush();

      // gRPC: each snapshot in a PublishRequest, plus envelopes that are themselves broken.
      const grpcBad = [...craftedHostile(MAX), ...randomHostile(2)];
      grpcBad.push({ what: 'valid, just over the limit', bytes: snapshotNear('mallory', MAX, true), reason: 'too_large' });
      const envelopes = grpcBad.map((h) => writePublishRequest(h.bytes));
      const brokenEnvelopes = [
        cat(tag(1, WireType.LengthDelimited), varint(0xffff_fff0)),
        cat(tag(1, WireType.Varint), varint(5)),
        nestedGroups(3, 10_000, true),
        cat(tag(1, WireType.LengthDelimited), Uint8Array.of(0xff, 0xff)),
      ];
      expect(await sendRawPublish(grpcAddress, [...envelopes, ...brokenEnvelopes])).toEqual({ accepted: 0, rejected: envelopes.length + brokenEnvelopes.length });
      expect(await sendRawPublish(grpcAddress, [writePublishRequest(snapshotNear('big-grpc', MAX, false))])).toEqual({ accepted: 1, rejected: 0 });

      const bad = { nats: natsBad.length, grpc: grpcBad.length + brokenEnvelopes.length };
      const after = await waitFor('every message counted', async () => {
        const m = await scrape(collector.base);
        const done = (['nats', 'grpc'] as const).every((t) => counter(m, 'received', { transport: t }) - counter(before, 'received', { transport: t }) === bad[t] + 1);
        return done ? m : undefined;
      });
      const delta = (reason: RejectReason): number => counter(after, 'rejected', { reason }) - counter(before, 'rejected', { reason });
      expect(REASONS.reduce((sum, r) => sum + delta(r), 0)).toBe(bad.nats + bad.grpc);
      expect(counter(after, 'accepted') - counter(before, 'accepted')).toBe(2);
      // The crafted ones under the reason each was made for (random ones may add to any).
      const crafted = [...natsBad, ...grpcBad].filter((h) => h.reason !== undefined);
      for (const reason of REASONS) expect(delta(reason), reason).toBeGreaterThanOrEqual(crafted.filter((h) => h.reason === reason).length);
      expect(delta('malformed')).toBeGreaterThanOrEqual(crafted.filter((h) => h.reason === 'malformed').length + brokenEnvelopes.length);

      // Nothing already accepted was lost; the big valid ones arrived whole.
      for (const agent of [goodNats, goodGrpc]) expect(connectionsOf(after, agent.node)).toEqual(connectionsOf(before, agent.node));
      expect(Object.keys(connectionsOf(after, 'good-nats'))).toEqual(['80 ESTABLISHED inbound']);
      expect(Object.keys(connectionsOf(after, 'mallory'))).toEqual([]);
      const big = await (await fetch(`${collector.base}/api/v1/nodes`)).json() as { name: string; status: string }[];
      expect(big.map((n) => `${n.name} ${n.status}`).sort()).toEqual(['big-grpc live', 'big-nats live', 'good-grpc live', 'good-nats live']);
    } finally {
      clearInterval(sampler);
    }

    expect(collector.running).toBe(true);
    expect((await fetch(`${collector.base}/healthz`)).status).toBe(200);
    expect(collector.logs.filter((l) => l.level >= 50)).toEqual([]);
    expect(collector.otherStderr).toEqual([]);
    console.log(`collector VmRSS: ${rssBefore.toFixed(0)} MB before, peak ${rssPeak.toFixed(0)} MB`);
    expect(rssPeak - rssBefore).toBeLessThan(RSS_GROWTH_LIMIT_MB);

    // Still serving valid snapshots on both transports afterwards.
    goodNats.shape.namespaces = [[[80, 'in', EST, 8]]];
    await Promise.all([goodNats.publish(), goodGrpc.publish()]);
    await waitFor('the next valid snapshots', async () => connectionsOf(await scrape(collector.base), 'good-nats')['80 ESTABLISHED inbound'] === 8);
  });
});
