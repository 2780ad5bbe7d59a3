import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseUnixTable } from './proc-net-unix.js';

const HEADER = 'Num       RefCount Protocol Flags    Type St Inode Path\n';
const LISTENER = '0000000000000000: 00000002 00000000 00010000 0001 01 31337 /tmp/dir with spaces/api.sock\n';
const ABSTRACT = '0000000000000000: 00000002 00000000 00000000 0002 01 31338 @fleetstat@test\n';
const UNBOUND = '0000000000000000: 00000003 00000000 00000000 0001 03 31339\n';
const SEQPACKET = '0000000000000000: 00000002 00000000 00010000 0005 01 31340 /run/seq\n';

describe('parseUnixTable', () => {
  it('reads flags, type, state, inode and whole paths with spaces', () => {
    const { rows, stats } = parseUnixTable(Buffer.from(HEADER + LISTENER + ABSTRACT + UNBOUND + SEQPACKET));
    expect(stats).toMatchObject({ lines: 4, badLines: 0 });
    expect(rows[0]).toEqual({
      refCount: 2,
      protocol: 0,
      flags: 0x10000,
      type: 1,
      state: 1,
      inode: 31337,
      path: '/tmp/dir with spaces/api.sock',
    });
    expect(rows[1]).toMatchObject({ type: 2, path: '@fleetstat@test' });
    expect(rows[2]).toMatchObject({ refCount: 3, state: 3, path: '' });
    expect(rows[3]).toMatchObject({ type: 5, path: '/run/seq' });
  });

  it('counts malformed and truncated lines', () => {
    const text = HEADER + UNBOUND + LISTENER.replace('0001 01', '01 01') + 'xyz\n' + LISTENER.slice(0, 30);
    const { rows, stats } = parseUnixTable(Buffer.from(text));
    expect(rows).toHaveLength(1);
    expect(stats).toMatchObject({ lines: 4, badLines: 3 });
  });

  it('never throws on random or mutated input (property)', () => {
    const line = fc.constantFrom(LISTENER, ABSTRACT, UNBOUND, SEQPACKET);
    const mutated = fc.tuple(line, fc.nat(), fc.uint8Array({ maxLength: 6 })).map(([text, at, bytes]) => {
      const b = Buffer.from(text);
      const pos = at % b.length;
      return Buffer.concat([b.subarray(0, pos), Buffer.from(bytes), b.subarray(pos + 1)]);
    });
    fc.assert(
      fc.property(fc.array(fc.oneof(mutated, fc.uint8Array({ maxLength: 200 })), { maxLength: 20 }), (chunks) => {
        const { rows, stats } = parseUnixTable(Buffer.concat([Buffer.from(HEADER), ...chunks]));
        expect(rows.length).toBe(stats.lines - stats.badLines);
      }),
      { numRuns: 3000 },
    );
  });
});
