// A collector whose NATS is already gone (helm uninstall stops both) still exits promptly on
// SIGTERM instead of waiting on a drain that can never finish.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { freePort, startNatsServer } from './support/nats-server.js';
import { FLEETSTAT_BIN } from './support/fleetstat-cli.js';

describe('collector shutdown', () => {
  it('exits 0 within a few seconds of SIGTERM after NATS died', async () => {
    const nats = await startNatsServer({ jetstream: false });
    const port = await freePort();
    const collector = spawn(process.execPath, [FLEETSTAT_BIN, 'collector', '--nats', nats.url, '--listen', `127.0.0.1:${port}`], {
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    try {
      for (let i = 0; i < 100; i++) {
        const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
        if (ok) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await nats.kill('SIGKILL');
      const started = Date.now();
      collector.kill('SIGTERM');
      const [code] = (await once(collector, 'exit')) as [number];
      expect(code).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      if (collector.exitCode === null) collector.kill('SIGKILL');
      await nats.stop();
    }
  });
});
