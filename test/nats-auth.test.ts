// NATS with a user and password: agent and collector read the secret from a file or the
// environment (never a flag value), and a wrong one stops them at start with the reason.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsServer } from './support/nats-server.js';
import { freePort, startNatsServer } from './support/nats-server.js';
import { FLEETSTAT_BIN } from './support/fleetstat-cli.js';

const run = promisify(execFile);

describe('NATS credentials', () => {
  let nats: NatsServer;
  let dir: string;
  let collector: ChildProcess;
  let agent: ChildProcess;
  let api = '';

  beforeAll(async () => {
    nats = await startNatsServer({ jetstream: false, args: ['--user', 'fleet', '--pass', 's3cret'] });
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-auth-'));
    writeFileSync(join(dir, 'password'), 's3cret\n');
    writeFileSync(join(dir, 'wrong'), 'nope\n');
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    collector = spawn(process.execPath, [FLEETSTAT_BIN, 'collector', '--nats', nats.url, '--listen', `127.0.0.1:${port}`], {
      stdio: 'ignore',
      env: { ...process.env, FLEETSTAT_NATS_USER: 'fleet', FLEETSTAT_NATS_PASSWORD: 's3cret' },
    });
    agent = spawn(
      process.execPath,
      [FLEETSTAT_BIN, 'agent', '--nats', nats.url, '--nats-user', 'fleet', '--nats-password-file', join(dir, 'password'), '--netns', 'self', '--node', 'authed', '--interval', '500ms'],
      { stdio: 'ignore' },
    );
  });

  afterAll(async () => {
    for (const child of [agent, collector]) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('agent (password file) and collector (environment) connect and the node is live', async () => {
    let nodes: { name: string; status: string }[] = [];
    for (let i = 0; i < 100 && nodes.length === 0; i++) {
      nodes = await fetch(`${api}/api/v1/nodes`).then((r) => r.json() as Promise<typeof nodes>, () => []);
      if (nodes.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(nodes).toMatchObject([{ name: 'authed', status: 'live' }]);
  });

  it('a wrong password stops the agent at start with the reason', async () => {
    const failure = await run(process.execPath, [FLEETSTAT_BIN, 'agent', '--nats', nats.url, '--nats-user', 'fleet', '--nats-password-file', join(dir, 'wrong'), '--netns', 'self'], {
      timeout: 20_000,
    }).then(() => undefined, (error: { code?: number; stderr?: string }) => error);
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/Authorization Violation/i);
  });

  it('a collector without credentials stops at start with the reason', async () => {
    const failure = await run(process.execPath, [FLEETSTAT_BIN, 'collector', '--nats', nats.url, '--listen', '127.0.0.1:0'], {
      timeout: 20_000,
    }).then(() => undefined, (error: { code?: number; stderr?: string }) => error);
    expect(failure?.code).not.toBe(0);
    expect(failure?.stderr).toMatch(/Authorization Violation|authorization/i);
  });

  it('half a user/password pair and an unreadable file are usage errors', async () => {
    const half = await run(process.execPath, [FLEETSTAT_BIN, 'agent', '--nats', nats.url, '--nats-user', 'fleet', '--netns', 'self']).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(half?.code).toBe(2);
    expect(half?.stderr).toMatch(/needs a password/);
    const missing = await run(process.execPath, [FLEETSTAT_BIN, 'agent', '--nats', nats.url, '--nats-token-file', join(dir, 'absent'), '--netns', 'self']).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(missing?.code).toBe(2);
    expect(missing?.stderr).toMatch(/cannot read .*absent: ENOENT/);
  });
});
