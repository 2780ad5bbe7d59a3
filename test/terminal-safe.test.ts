// Socket paths (and names) holding terminal escape sequences are printed inert.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { terminalSafe } from '../agent/netstat/terminal-safe.js';
import { fleetstat } from './support/fleetstat-cli.js';

describe('terminal-safe output', () => {
  it('shows control characters as \\xNN and leaves the rest alone', () => {
    expect(terminalSafe('/run/a\u001b[2Jb\u0007\u009b.sock')).toBe('/run/a\\x1b[2Jb\\x07\\x9b.sock');
    expect(terminalSafe('/tmp/plain päth.sock')).toBe('/tmp/plain päth.sock');
  });

  describe('a unix socket whose path clears the screen', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetstat-esc-'));
    const path = join(dir, 'evil\u001b[2J\u001b[H.sock');
    const server = net.createServer();
    beforeAll(async () => {
      await new Promise<void>((resolve) => server.listen(path, resolve));
    });
    afterAll(() => {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('fleetstat netstat -xlW prints it escaped', async () => {
      const { stdout, code } = await fleetstat(['netstat', '-xlW']);
      expect(code).toBe(0);
      expect(stdout).not.toContain('\u001b');
      expect(stdout).toContain(`${dir}/evil\\x1b[2J\\x1b[H.sock`);
    });
  });
});
