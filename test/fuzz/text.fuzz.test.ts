// Fuzz: text from other people's processes and from /etc on its way to a terminal or a table:
// terminal-safe output (agent/netstat/terminal-safe.ts, and the netstat unix rows that use it),
// /proc/<pid>/stat start times, and /etc/services, /etc/protocols and /etc/hosts parsing.
import fc from 'fast-check';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { formatUnixRow } from '../../agent/netstat/format-netstat.js';
import { parseNameTables } from '../../agent/netstat/name-tables.js';
import { terminalSafe } from '../../agent/netstat/terminal-safe.js';
import { startTimeOf } from '../../agent/procfs/proc-pid-stat.js';
import { FUZZ_TIMEOUT_MS, fuzz, guarded, printFigures } from './fuzz-run.js';
import { hostileBytes } from './mutate.js';

/** C0, DEL and C1: what a terminal acts on instead of printing. */
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const utf8 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');
const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.uint8Array({ maxLength: 200 }).map(utf8), fc.string({ unit: fc.constantFrom('\u001b', '[', '2', 'J', '\u009b', '\r', '\n', 'a', '\\', 'x'), maxLength: 50 }));

afterAll(printFigures);

describe('terminal-safe output', () => {
  it('never contains a raw control character, and changes nothing else', () => {
    fuzz('terminal safe', [anyText], (text) => {
      const safe = guarded(() => terminalSafe(text));
      expect(RAW_CONTROL.test(safe)).toBe(false);
      if (!RAW_CONTROL.test(text)) expect(safe).toBe(text);
      // Each control character became exactly \xNN, so nothing was lost or merged.
      expect(safe.replace(/\\x[0-9a-f]{2}/g, '').length).toBeLessThanOrEqual(text.length);
    });
  }, FUZZ_TIMEOUT_MS);

  it('a netstat unix row with any socket path prints no raw control character', () => {
    fuzz('netstat unix row', [anyText, fc.boolean()], (path, wide) => {
      const row = { refCount: 2, protocol: 0, flags: 1 << 16, type: 1, state: 1, inode: 42, path };
      const line = guarded(() => formatUnixRow(row, { all: true, listening: false, numericHosts: true, numericPorts: true, wide }));
      expect(RAW_CONTROL.test(line)).toBe(false);
    });
  }, FUZZ_TIMEOUT_MS);
});

describe('/proc/<pid>/stat', () => {
  const stat = new Uint8Array(readFileSync('/proc/self/stat'));
  it('startTimeOf: digits the line holds, or undefined; never a throw', () => {
    fuzz('pid stat', [hostileBytes([stat]).map(utf8)], (text) => {
      const start = guarded(() => startTimeOf(text));
      if (start !== undefined) {
        expect(start).toMatch(/^\d{1,20}$/);
        expect(text).toContain(` ${start}`);
      }
    });
  }, FUZZ_TIMEOUT_MS);
});

describe('/etc name tables', () => {
  // This machine's files; a bare machine without netbase gets a few lines of the same shape.
  const file = (path: string, fallback: string): Uint8Array => new Uint8Array(existsSync(path) ? readFileSync(path) : Buffer.from(fallback));
  const corpus = [
    file('/etc/services', 'http\t\t80/tcp\t\twww\t# WorldWideWeb HTTP\nhttps\t\t443/tcp\nhttps\t\t443/udp\n'),
    file('/etc/protocols', 'ip\t0\tIP\t\t# internet protocol\nicmp\t1\tICMP\ntcp\t6\tTCP\n'),
    file('/etc/hosts', '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'),
  ];
  it('parseNameTables: never throws; every name it gives is a word of its file', () => {
    const table = hostileBytes(corpus).map(utf8);
    fuzz('name tables', [table, table, table, fc.integer({ min: 0, max: 65535 }), fc.constantFrom('tcp', 'udp', 'raw' as const)], (services, protocols, hosts, port, protocol) => {
      const names = guarded(() => parseNameTables(services, protocols, hosts));
      const service = names.service(port, protocol);
      if (service !== undefined) expect(`${services}\n${protocols}`).toContain(service);
      for (const address of ['127.0.0.1', '::1', '10.0.0.1']) {
        const host = names.host(address);
        if (host !== undefined) expect(hosts).toContain(host);
      }
    });
  }, FUZZ_TIMEOUT_MS);
});
