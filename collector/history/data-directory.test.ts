import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureDirectory } from './data-directory.js';

describe('ensureDirectory', () => {
  const root = mkdtempSync(join(tmpdir(), 'fleetstat-dir-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('creates missing parents, and accepts an existing directory', () => {
    const deep = join(root, 'a', 'b', 'c');
    ensureDirectory(deep);
    expect(statSync(deep).isDirectory()).toBe(true);
    ensureDirectory(deep);
  });

  it('fails at once where the kernel refuses (recursive mkdirSync hangs on /proc)', () => {
    expect(() => ensureDirectory('/proc/fleetstat-nope/x')).toThrow(/ENOENT/);
  });

  it('refuses a file in the way', () => {
    const file = join(root, 'file');
    writeFileSync(file, '');
    expect(() => ensureDirectory(file)).toThrow(/not a directory/);
    expect(() => ensureDirectory(join(file, 'under'))).toThrow(/ENOTDIR/);
  });
});
