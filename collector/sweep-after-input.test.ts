// A collector busy for a moment (a long query, GC) must take in the snapshots that arrived
// meanwhile before it judges staleness: otherwise its overdue sweep timer, or the next query,
// turns nodes stale whose snapshot is already waiting in a socket. The soak (bench/soak.ts)
// found exactly that: a 1.4 s stall turned 10 of 3,000 live nodes stale at once.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeSnapshot } from '../test/support/snapshots.js';
import { Collector } from './collector.js';
import type { NodeView } from './api/fleet-views.js';

const INTERVAL_MS = 300; // stale after 900 ms of silence
const SWEEP_MS = 600;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Blocks the event loop, as a long synchronous task does. */
function busyUntil(ms: number): void {
  while (Date.now() < ms) {
    // spin
  }
}

describe('staleness is judged after pending input', () => {
  it('neither the overdue sweep timer nor a query turns stale a node whose snapshot waits unread', async () => {
    const collector = new Collector({ cluster: 'test', logger: pino({ level: 'silent' }), sweepMs: SWEEP_MS });
    const address = await collector.start('127.0.0.1', 0);
    // The sweep timer beats about every SWEEP_MS from here; t0 falls 100 ms after the first beat.
    const t0 = Date.now() + SWEEP_MS + 100;
    cleanups.push(() => collector.stop());
    const turned: string[] = [];
    const sweep = collector.state.sweep.bind(collector.state);
    collector.state.sweep = (nowMs?: number) => {
      const records = sweep(nowMs);
      turned.push(...records.map((r) => r.name));
      return records;
    };
    // A snapshot link: whatever arrives on the socket is ingested at once, as the NATS client does.
    const link = createServer((socket) => socket.on('data', (bytes: Buffer) => collector.state.ingest(bytes, { transport: 'grpc' })));
    link.listen(0, '127.0.0.1');
    await once(link, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => link.close(() => resolve())));
    // Something else the collector serves keeps it busy (a long query, say): handled in the
    // poll phase, so once it ends the overdue sweep timer runs before the next poll reads input.
    const blocker = createServer((socket) => socket.on('data', () => busyUntil(t0 + 2 * SWEEP_MS + 100)));
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const busy = connect((blocker.address() as AddressInfo).port, '127.0.0.1');
    await once(busy, 'connect');
    cleanups.push(() => {
      busy.destroy();
    });

    await sleep(t0 - Date.now());
    collector.state.ingest(encodeSnapshot({ node: 'a', seq: 1, intervalMs: INTERVAL_MS }), { transport: 'grpc' });
    // From t0 + 600 ms (100 ms after the second beat) to t0 + 1300 ms the collector is busy: past
    // the node's stale limit (t0 + 900 ms) and the third beat (t0 + 1100 ms), but not for two
    // beats, which would count as a paused process (ReceptionGaps excuses those). Meanwhile
    // another process sends the node's next snapshot and a query.
    const peer = sendLater(t0 + 2 * INTERVAL_MS + 200, [
      [(link.address() as AddressInfo).port, Buffer.from(encodeSnapshot({ node: 'a', seq: 2, intervalMs: INTERVAL_MS }))],
      [address.port, Buffer.from('GET /api/v1/nodes HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n')],
    ]);
    await sleep(t0 + 2 * INTERVAL_MS - Date.now());
    busy.write('x');
    const response = await peer;
    const nodes = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as NodeView[];
    expect(nodes.map((n) => [n.name, n.seq, n.status])).toEqual([['a', 2, 'live']]);
    await sleep(SWEEP_MS);
    expect(turned).toEqual([]);
    expect(collector.state.registry.get('a')?.status).toBe('live');
  });
});

/** A child process that, at atMs, writes each payload to its port and returns what the last one answered. */
async function sendLater(atMs: number, sends: [number, Buffer][]): Promise<string> {
  const script = `
    const net = require('node:net');
    const sends = JSON.parse(process.argv[1]);
    const sockets = sends.map(([port]) => net.connect(port, '127.0.0.1'));
    let answer = '';
    sockets.at(-1).on('data', (b) => (answer += b.toString())).on('end', () => { process.stdout.write(answer); process.exit(0); });
    setTimeout(() => sends.forEach(([, b64], i) => sockets[i].write(Buffer.from(b64, 'base64'))), ${atMs} - Date.now());`;
  const child = spawn(process.execPath, ['-e', script, JSON.stringify(sends.map(([port, bytes]) => [port, bytes.toString('base64')]))], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  await once(child, 'exit');
  return out;
}
