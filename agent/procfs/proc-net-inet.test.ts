import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInetTable, scanInetTable } from './proc-net-inet.js';

const HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const LISTEN =
  '   0: 0100007F:1F90 00000000:0000 0A 00000080:00000003 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0\n';
const ESTABLISHED =
  '   1: 0100007F:1F90 0100007F:D2F0 01 00000000:00000010 00:00000000 00000000  1000        0 4243 1 0000000000000000 20 4 30 10 -1\n';
const TIME_WAIT = '   2: 0100007F:D2EE 0100007F:1F90 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000\n';
const V6_MAPPED =
  '   0: 0000000000000000FFFF00000100007F:0050 0000000000000000FFFF00000100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 20 4 0 10 -1\n';

const buf = (text: string): Buffer => Buffer.from(text);

describe('parseInetTable', () => {
  it('reads every field of IPv4 lines and skips the header', () => {
    const { rows, stats } = parseInetTable(buf(HEADER + LISTEN + ESTABLISHED + TIME_WAIT), 4);
    expect(stats).toEqual({ lines: 3, badLines: 0, bytes: (HEADER + LISTEN + ESTABLISHED + TIME_WAIT).length });
    expect(rows[0]).toEqual({
      family: 4,
      localAddress: '127.0.0.1',
      localPort: 8080,
      remoteAddress: '0.0.0.0',
      remotePort: 0,
      state: 10,
      txQueue: 128,
      rxQueue: 3,
      uid: 1000,
      inode: 4242,
    });
    expect(rows[1]).toMatchObject({ remotePort: 0xd2f0, state: 1, rxQueue: 16, inode: 4243 });
    expect(rows[2]).toMatchObject({ localPort: 0xd2ee, remotePort: 8080, state: 6, inode: 0 });
  });

  it('decodes IPv4-mapped addresses in tcp6', () => {
    const { rows } = parseInetTable(buf(HEADER + V6_MAPPED), 6);
    expect(rows[0]).toMatchObject({ localAddress: '::ffff:127.0.0.1', localPort: 80, remotePort: 40000 });
  });

  it('counts a line of the wrong family as bad', () => {
    expect(parseInetTable(buf(HEADER + V6_MAPPED), 4).stats.badLines).toBe(1);
    expect(parseInetTable(buf(HEADER + LISTEN), 6).stats.badLines).toBe(1);
  });

  it('counts and skips truncated and malformed lines without throwing', () => {
    const cut = LISTEN.slice(0, 40);
    const text = HEADER + ESTABLISHED + 'garbage line\n' + LISTEN.replace('0A', 'ZZ') + LISTEN.replace(' 4242 ', ' 42x2 ') + cut;
    const { rows, stats } = parseInetTable(buf(text), 4);
    expect(rows.map((r) => r.inode)).toEqual([4243]);
    expect(stats).toMatchObject({ lines: 5, badLines: 4 });
  });

  it('treats a last line without newline as truncated', () => {
    const { rows, stats } = parseInetTable(buf(HEADER + ESTABLISHED + TIME_WAIT.trimEnd()), 4);
    expect(rows).toHaveLength(1);
    expect(stats.badLines).toBe(1);
  });

  it('handles header-only and empty files', () => {
    expect(parseInetTable(buf(HEADER), 4)).toEqual({ rows: [], stats: { lines: 0, badLines: 0, bytes: HEADER.length } });
    expect(parseInetTable(buf(''), 4).rows).toEqual([]);
  });

  it('counting mode visits a reused cursor', () => {
    const seen = new Set<object>();
    let ports = 0;
    scanInetTable(buf(HEADER + LISTEN + ESTABLISHED), 4, (line) => {
      seen.add(line);
      ports += line.localPort;
    });
    expect(seen.size).toBe(1);
    expect(ports).toBe(2 * 8080);
  });
});

describe('parsers never throw (property)', () => {
  const realLines = [LISTEN, ESTABLISHED, TIME_WAIT, V6_MAPPED];
  const mutated = fc
    .tuple(fc.constantFrom(...realLines), fc.nat(), fc.uint8Array({ minLength: 0, maxLength: 8 }), fc.nat({ max: 20 }))
    .map(([line, at, insert, drop]) => {
      const bytes = Buffer.from(line);
      const pos = at % bytes.length;
      return Buffer.concat([bytes.subarray(0, pos), Buffer.from(insert), bytes.subarray(Math.min(bytes.length, pos + drop))]);
    });

  it('random bytes and mutated real lines are counted, never thrown', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 300 }), mutated), { maxLength: 20 }), fc.constantFrom<4 | 6>(4, 6), (chunks, family) => {
        const input = Buffer.concat([Buffer.from(HEADER), ...chunks]);
        const { rows, stats } = parseInetTable(input, family);
        expect(stats.badLines).toBeLessThanOrEqual(stats.lines);
        expect(rows.length).toBe(stats.lines - stats.badLines);
        for (const row of rows) {
          expect(row.localPort).toBeLessThan(65536);
          expect(row.state).toBeLessThan(256);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
