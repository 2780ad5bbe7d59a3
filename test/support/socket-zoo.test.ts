// Proves the socket zoo: every state it claims is checked with ss, an independent reader.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, deleteAll, linkNamespaces, netnsSupportProblem } from './netns.js';
import type { Namespace } from './netns.js';
import { startZoo } from './zoo.js';
import type { InetRow, RunningZoo, ZooReport } from './zoo.js';

const SS_STATE: Record<string, string> = {
  ESTAB: 'ESTABLISHED', 'SYN-SENT': 'SYN_SENT', 'SYN-RECV': 'SYN_RECV', 'FIN-WAIT-1': 'FIN_WAIT1',
  'FIN-WAIT-2': 'FIN_WAIT2', 'TIME-WAIT': 'TIME_WAIT', 'CLOSE-WAIT': 'CLOSE_WAIT', 'LAST-ACK': 'LAST_ACK',
  LISTEN: 'LISTEN', CLOSING: 'CLOSING', UNCONN: 'CLOSE',
};

interface SsRow { file: string; state: string; recvQ: number; local: string; peer: string; localPort: number; remotePort: number }

const port = (addr: string): number => Number(addr.slice(addr.lastIndexOf(':') + 1));

// ss -4 lists what /proc/net/<proto> holds, ss -6 what <proto>6 holds (v4-mapped included).
async function ss(ns: Namespace, proto: 't' | 'u'): Promise<SsRow[]> {
  const rows: SsRow[] = [];
  for (const fam of ['4', '6'] as const) {
    const { stdout } = await ns.exec('ss', [`-Ha${proto}n`, `-${fam}`]);
    for (const line of stdout.split('\n').filter(Boolean)) {
      const [st = '', recvQ = '', , local = '', peer = ''] = line.trim().split(/\s+/);
      const file = (proto === 't' ? 'tcp' : 'udp') + (fam === '6' ? '6' : '');
      rows.push({ file, state: SS_STATE[st] ?? st, recvQ: Number(recvQ), local, peer, localPort: port(local), remotePort: port(peer) });
    }
  }
  return rows;
}

function matching(rows: SsRow[], e: InetRow): SsRow[] {
  return rows.filter((r) => r.file === e.file && r.state === e.state &&
    (e.localPort !== undefined ? r.localPort === e.localPort : r.remotePort === e.remotePort));
}

// Rows with the same key from several sources (own zoo + a peer's remoteTcp) add up.
function combine(...lists: InetRow[][]): InetRow[] {
  const out = new Map<string, InetRow>();
  for (const r of lists.flat()) {
    const key = `${r.file}|${r.state}|${String(r.localPort)}|${String(r.remotePort)}`;
    const prev = out.get(key);
    if (prev) prev.count += r.count;
    else out.set(key, { ...r });
  }
  return [...out.values()];
}

/** Every claimed row matches ss exactly, and ss shows nothing unclaimed. */
function expectExact(rows: SsRow[], claims: InetRow[]): void {
  const got = claims.map((e) => ({ ...e, got: matching(rows, e).length }));
  expect(got.filter((g) => g.got !== g.count)).toEqual([]);
  expect(rows.length).toBe(claims.reduce((n, e) => n + e.count, 0));
}

function assertTimeWaitFresh(r: ZooReport): void {
  if (r.timeWaitUntil !== null && Date.now() >= r.timeWaitUntil) throw new Error('TIME_WAIT sockets expired before the check ran');
}

describe('socket zoo', () => {
  const problem = netnsSupportProblem();
  const namespaces: Namespace[] = [];
  const zoos: RunningZoo[] = [];

  beforeAll(async () => {
    // Fail, not skip: these tests are the proof that the fixtures are real.
    if (problem) throw new Error(`socket zoo tests need network namespaces: ${problem}`);
    await deleteAll(); // stale namespaces from crashed runs
  });

  afterAll(async () => {
    for (const z of zoos) await z.stop();
    for (const ns of namespaces) await ns.delete();
  });

  it('makes every TCP state it claims, with exact counts', async () => {
    const ns = await createNamespace('zoo');
    namespaces.push(ns);
    const zoo = await startZoo(ns, ['--count', '3']);
    zoos.push(zoo);
    const { report } = zoo;
    const rows = await ss(ns, 't');
    assertTimeWaitFresh(report);

    expectExact(rows, report.tcp);
    const states = new Set(rows.map((r) => r.state));
    for (const s of ['LISTEN', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT',
      'CLOSE_WAIT', 'LAST_ACK', 'CLOSING']) expect(states, s).toContain(s);

    // Details a parser must get right: the accept queue length and v4-mapped addresses.
    const stuck = rows.filter((r) => r.state === 'LISTEN' && r.localPort === 8080);
    expect(stuck.map((r) => r.recvQ)).toEqual([2, 2]);
    expect(rows.some((r) => r.file === 'tcp6' && r.local === '[::ffff:127.0.0.1]:443')).toBe(true);
    for (const p of [80, 443, 8080, 8443]) expect(rows.some((r) => r.state === 'LISTEN' && r.localPort === p)).toBe(true);
    expect(rows.filter((r) => r.state === 'ESTABLISHED' && [80, 8080].includes(r.remotePort)).length).toBeGreaterThan(0);
  });

  it('makes the UDP, raw and unix sockets it claims', async () => {
    const [ns] = namespaces;
    const report = zoos[0]?.report;
    if (!ns || !report) throw new Error('needs the first test');
    expectExact(await ss(ns, 'u'), report.udp);

    const raw = (await ns.exec('ss', ['-Hawn'])).stdout.split('\n').filter(Boolean);
    expect(raw.length).toBe(report.raw.reduce((n, r) => n + r.count, 0));

    // ss -x: netid state recv-q send-q <path, may hold spaces> inode peer peer-inode
    const SS_UNIX: Record<string, string> = { LISTEN: 'LISTEN', ESTAB: 'CONNECTED', UNCONN: 'UNCONNECTED' };
    const TYPE: Record<string, string> = { u_str: 'stream', u_dgr: 'dgram', u_seq: 'seqpacket' };
    const unix = (await ns.exec('ss', ['-Hxa'])).stdout.split('\n').filter(Boolean).map((l) => {
      const t = l.trim().split(/\s+/);
      const p = t.slice(4, -3).join(' ');
      return { type: TYPE[t[0] ?? ''], state: SS_UNIX[t[1] ?? ''], path: p === '*' ? null : p };
    });
    for (const u of report.unix) {
      const n = unix.filter((x) => x.type === u.type && x.state === u.state && x.path === u.path).length;
      if (u.exact) expect(n, JSON.stringify(u)).toBe(u.count);
      else expect(n, JSON.stringify(u)).toBeGreaterThanOrEqual(u.count);
    }
    expect(report.unix.some((u) => u.path?.includes(' '))).toBe(true);
    expect(report.unix.some((u) => u.path?.startsWith('@'))).toBe(true);
  });

  it('makes SYN_SENT and SYN_RECV across a veth pair between two namespaces', async () => {
    const server = await createNamespace('zoo-srv');
    const client = await createNamespace('zoo-cli');
    namespaces.push(server, client);
    const link = await linkNamespaces(server, client, {
      v4: ['198.18.7.1/24', '198.18.7.2/24'], v6: ['fd00:f1ee:7::1/64', 'fd00:f1ee:7::2/64'] });
    const a = await startZoo(server, ['--count', '2']);
    zoos.push(a);
    const b = await startZoo(client, ['--no-local', '--count', '2',
      '--remote4', link.a.v4 ?? '', '--remote6', link.a.v6 ?? '']);
    zoos.push(b);

    const clientRows = await ss(client, 't');
    expectExact(clientRows, b.report.tcp);
    expect(clientRows.filter((r) => r.state === 'SYN_SENT').map((r) => r.peer).sort())
      .toEqual(['198.18.7.1:8080', '[fd00:f1ee:7::1]:8080']);

    const serverRows = await ss(server, 't');
    assertTimeWaitFresh(a.report);
    expectExact(serverRows, combine(a.report.tcp, b.report.remoteTcp));
    expect(serverRows.filter((r) => r.state === 'SYN_RECV' && !r.peer.includes('127.0.0.1') && !r.peer.includes('[::1]'))
      .map((r) => r.peer.replace(/:\d+$/, '')).sort()).toEqual(['198.18.7.2', '[fd00:f1ee:7::2]']);
  });
});
