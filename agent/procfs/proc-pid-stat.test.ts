// startTimeOf on a real stat line, on names that defeat splitting by spaces, and on broken text.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startTimeOf } from './proc-pid-stat.js';

// A real line (sustainable-computing-io/kepler internal/resource/testdata/procfs/43251/stat).
const QEMU =
  '43251 (qemu-system-x86) S 1 43250 43250 0 -1 138412160 160621 0 0 0 143592 25589 0 0 20 0 8 0 281058 ' +
  '4057628672 150185 18446744073709551615 94350560555008 94350566824461 140735530794464 0 0 0 268444224 4096 ' +
  '16963 0 0 0 17 11 0 0 0 22826 0 94350570812112 94350584201826 94351300059136 140735530796079 ' +
  '140735530798348 140735530798348 140735530799068 0\n';

describe('startTimeOf', () => {
  it('reads field 22 of a real line', () => {
    expect(startTimeOf(QEMU)).toBe('281058');
  });

  it('counts from the last ")" whatever the process called itself', () => {
    for (const comm of ['tmux: server', 'a) (b', ') 1 2 3 (', 'x)', '(sd-pam)']) {
      expect(startTimeOf(QEMU.replace('qemu-system-x86', comm))).toBe('281058');
    }
  });

  it('reads this process', () => {
    expect(startTimeOf(readFileSync('/proc/self/stat', 'utf8'))).toMatch(/^\d+$/);
  });

  it('gives undefined for text that is not a stat line', () => {
    for (const text of ['', 'garbage', QEMU.slice(0, 60), QEMU.replace('281058', '28x058'), '1 (a) S 1 2']) {
      expect(startTimeOf(text)).toBeUndefined();
    }
  });
});
