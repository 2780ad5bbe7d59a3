// The parsers on real kernel captures (test/fixtures/proc-net, made by capture-proc.sh),
// checked against `ss` output taken at the same moment, and on broken copies of them.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INET_TABLES } from './net-tables.js';
import type { InetSocketRow } from './proc-net-inet.js';
import { parseInetTable } from './proc-net-inet.js';
import { parseUnixTable } from './proc-net-unix.js';
import { tcpStateName } from './tcp-states.js';
import { SS_STATE } from '../../test/support/ss.js';

const ROOT = new URL('../../test/fixtures/proc-net/', import.meta.url).pathname;
const file = (...parts: string[]): Buffer => readFileSync(join(ROOT, ...parts));
const text = (...parts: string[]): string => file(...parts).toString('utf8');

/** ss writes IPv6 in brackets, port 0 as *, and a dual-stack wildcard as *. */
function ssEndpoint(address: string, port: number, family: 4 | 6): string {
  return `${family === 6 ? `[${address}]` : address}:${port === 0 ? '*' : port}`;
}
function normaliseSs(endpoint: string): string {
  return endpoint.startsWith('*:') ? `[::]${endpoint.slice(1)}` : endpoint;
}
function key(row: InetSocketRow, protocol: string): string {
  const state = protocol === 'udp' ? (row.state === 1 ? 'ESTABLISHED' : 'CLOSE') : tcpStateName(row.state);
  const sendQ = state === 'LISTEN' ? '-' : row.txQueue;
  return `${protocol} ${state} ${row.rxQueue} ${sendQ} ${ssEndpoint(row.localAddress, row.localPort, row.family)} ${ssEndpoint(row.remoteAddress, row.remotePort, row.family)}`;
}

describe.each(['zoo', 'peer'])('real capture %s', (capture) => {
  it('TCP and UDP rows equal ss -Hatnu, field for field', () => {
    const ours: string[] = [];
    for (const table of INET_TABLES.filter((t) => t.protocol !== 'raw')) {
      const { rows, stats } = parseInetTable(file(capture, table.name), table.family);
      expect(stats.badLines).toBe(0);
      ours.push(...rows.map((r) => key(r, table.protocol)));
    }
    const theirs = text(capture, 'tcp-udp.ss.txt')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [netid = '', st = '', recvQ, sendQ, local = '', peer = ''] = line.trim().split(/\s+/);
        const state = SS_STATE[st] ?? st;
        return `${netid} ${state} ${recvQ} ${state === 'LISTEN' ? '-' : sendQ} ${normaliseSs(local)} ${normaliseSs(peer)}`;
      });
    expect(ours.sort()).toEqual(theirs.sort());
  });

  it('state counts match the capture script\'s STATES.txt', () => {
    for (const line of text(capture, 'STATES.txt').split('\n')) {
      const match = /^(tcp6?): (\d+) rows; (.*)$/.exec(line);
      if (!match) continue;
      const family = match[1] === 'tcp6' ? 6 : 4;
      const { rows } = parseInetTable(file(capture, match[1] ?? ''), family);
      expect(rows).toHaveLength(Number(match[2]));
      const counts: Record<string, number> = {};
      for (const r of rows) counts[tcpStateName(r.state)] = (counts[tcpStateName(r.state)] ?? 0) + 1;
      const expected = Object.fromEntries(
        (match[3] ?? '').split(', ').map((pair) => [pair.split(' ')[0], Number(pair.split(' ')[1])]),
      );
      expect(counts).toEqual(expected);
    }
  });
});

describe('real capture details', () => {
  it('decodes v4-mapped clients of the dual-stack listener and the LISTEN accept queue', () => {
    const tcp6 = parseInetTable(file('zoo', 'tcp6'), 6).rows;
    expect(tcp6.some((r) => r.localAddress === '::ffff:127.0.0.1' && r.localPort === 443)).toBe(true);
    expect(tcp6.some((r) => r.localAddress === 'fd00:f1ee::1' && r.remoteAddress === 'fd00:f1ee::2')).toBe(true);
    const tcp = parseInetTable(file('zoo', 'tcp'), 4).rows;
    expect(tcp.filter((r) => r.state === 10 && r.localPort === 8080).map((r) => r.rxQueue)).toEqual([2]);
    // Request and TIME_WAIT sockets have no inode.
    expect(tcp.filter((r) => r.state === 3 || r.state === 6).every((r) => r.inode === 0)).toBe(true);
  });

  it('raw rows carry the protocol as port and the receive queue', () => {
    const raw = parseInetTable(file('zoo', 'raw'), 4).rows;
    const raw6 = parseInetTable(file('zoo', 'raw6'), 6).rows;
    const ss = text('zoo', 'raw.ss.txt').split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/));
    expect([...raw, ...raw6].map((r) => `${r.rxQueue} ${r.localPort}`).sort()).toEqual(
      ss.map(([, recvQ, , local = '']) => `${recvQ} ${local.slice(local.lastIndexOf(':') + 1)}`).sort(),
    );
  });

  it('unix rows equal ss -Hax: types, inodes and whole paths with spaces and abstract names', () => {
    const { rows, stats } = parseUnixTable(file('zoo', 'unix'));
    expect(stats.badLines).toBe(0);
    const TYPE: Record<number, string> = { 1: 'u_str', 2: 'u_dgr', 5: 'u_seq' };
    const ours = rows.map((r) => `${TYPE[r.type]} ${r.path === '' ? '*' : r.path} ${r.inode}`);
    const theirs = text('zoo', 'unix.ss.txt')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const t = l.trim().split(/\s+/);
        return `${t[0]} ${t.slice(4, -3).join(' ')} ${t.at(-3)}`;
      });
    expect(ours.sort()).toEqual(theirs.sort());
    expect(rows.some((r) => r.path.includes(' ') && (r.flags & 0x10000) !== 0)).toBe(true);
    expect(rows.some((r) => r.path.startsWith('@fleetstat-zoo-'))).toBe(true);
  });
});

describe('broken files: counted, never thrown, nothing invented', () => {
  const cases = ['empty', 'header-only', 'truncated/mid-line', 'truncated/mid-field', ...readdirSync(join(ROOT, 'garbage')).map((c) => `garbage/${c}`)];
  const realInet = new Map(INET_TABLES.map((t) => [t.name, new Set(parseInetTable(file('zoo', t.name), t.family).rows.map((r) => JSON.stringify(r)))]));
  const realUnix = new Set(parseUnixTable(file('zoo', 'unix')).rows.map((r) => JSON.stringify(r)));

  it.each(cases)('%s', (name) => {
    let bad = 0;
    for (const table of INET_TABLES) {
      const { rows, stats } = parseInetTable(file(name, table.name), table.family);
      expect(rows.length).toBe(stats.lines - stats.badLines);
      for (const row of rows) expect(realInet.get(table.name)?.has(JSON.stringify(row)), JSON.stringify(row)).toBe(true);
      bad += stats.badLines;
    }
    const unix = parseUnixTable(file(name, 'unix'));
    for (const row of unix.rows) {
      // CRLF files keep a trailing \r in the path; everything else must be a real row.
      expect(realUnix.has(JSON.stringify({ ...row, path: row.path.replace(/\r$/, '') }))).toBe(true);
    }
    bad += unix.stats.badLines;
    if (name === 'empty' || name === 'header-only') expect(bad).toBe(0);
    else if (name !== 'garbage/crlf') expect(bad).toBeGreaterThan(0);
  });

  it('keeps the whole rows before a truncation', () => {
    const { rows, stats } = parseInetTable(file('truncated/mid-line', 'tcp'), 4);
    expect(rows).toHaveLength(2);
    expect(stats.badLines).toBe(1);
  });
});
