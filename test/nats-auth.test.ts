// NATS credentials: user and password, nkey seed, and a creds file (operator mode, user JWT).
// Agent and collector read secrets from files or the environment (never a flag value), and a
// wrong one stops them at start with the reason.
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
import { CollectorChild } from './support/collector-child.js';
import { AgentChild, makeNkeyUser, makeOperatorSetup, waitForLiveNode, writeFile } from './support/nats-secured.js';

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

/** `fleetstat agent` once to its end: a refusal at start must end it with a code and a reason. */
async function agentFailure(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code?: number; stderr?: string } | undefined> {
  return run(process.execPath, [FLEETSTAT_BIN, 'agent', '--netns', 'self', ...args], { timeout: 20_000, env: { ...process.env, ...env } }).then(
    () => undefined,
    (error: { code?: number; stderr?: string }) => error,
  );
}

describe('NATS nkey and creds (JWT) credentials', () => {
  const servers: NatsServer[] = [];
  const collectors: CollectorChild[] = [];
  const agents: AgentChild[] = [];
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-nkey-'));
  });

  afterAll(async () => {
    for (const a of agents) await a.stop();
    for (const c of collectors) await c.stop();
    for (const s of servers) await s.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function server(name: string, config: string): Promise<NatsServer> {
    const s = await startNatsServer({ jetstream: false, args: ['-c', writeFile(dir, `${name}.conf`, config)] });
    servers.push(s);
    return s;
  }

  async function collector(args: string[]): Promise<CollectorChild> {
    const c = await CollectorChild.start(await freePort(), args);
    collectors.push(c);
    return c;
  }

  it('nkey: collector (--nats-nkey-file) and agent (FLEETSTAT_NATS_NKEY_FILE) connect and the node is live; a wrong seed stops the agent at start', async () => {
    const collectorKey = makeNkeyUser();
    const agentKey = makeNkeyUser();
    const nats = await server('nkey', `authorization { users: [ { nkey: ${collectorKey.publicKey} }, { nkey: ${agentKey.publicKey} } ] }\n`);
    const c = await collector(['--nats', nats.url, '--nats-nkey-file', writeFile(dir, 'collector.nk', `${collectorKey.seed}\n`)]);
    agents.push(new AgentChild(['--nats', nats.url, '--node', 'nkeyed', '--netns', 'self', '--interval', '500ms'], {
      FLEETSTAT_NATS_NKEY_FILE: writeFile(dir, 'agent.nk', agentKey.seed),
    }));
    expect(await waitForLiveNode(c.base, 'nkeyed')).toContainEqual(expect.objectContaining({ name: 'nkeyed', status: 'live' }));

    const stranger = await agentFailure(['--nats', nats.url, '--nats-nkey-file', writeFile(dir, 'stranger.nk', makeNkeyUser().seed)]);
    expect(stranger?.code).toBe(1);
    expect(stranger?.stderr).toMatch(/refused the connection: Authorization Violation \(check the NATS credentials\)/i);
    const garbage = await agentFailure(['--nats', nats.url, '--nats-nkey-file', writeFile(dir, 'garbage.nk', 'SUNOTASEED')]);
    expect(garbage?.code).toBe(2);
    expect(garbage?.stderr).toMatch(/does not hold an nkey user seed/);
  });

  it('creds (operator mode, user JWT + seed): collector (--nats-creds-file) and agent (FLEETSTAT_NATS_CREDS_FILE) connect; creds from another operator stop the agent at start', async () => {
    const setup = await makeOperatorSetup();
    const nats = await server('operator', setup.serverConfig);
    const c = await collector(['--nats', nats.url, '--nats-creds-file', writeFile(dir, 'collector.creds', await setup.creds('collector'))]);
    agents.push(new AgentChild(['--nats', nats.url, '--node', 'jwt-agent', '--netns', 'self', '--interval', '500ms'], {
      FLEETSTAT_NATS_CREDS_FILE: writeFile(dir, 'agent.creds', await setup.creds('agent')),
    }));
    expect(await waitForLiveNode(c.base, 'jwt-agent')).toContainEqual(expect.objectContaining({ name: 'jwt-agent', status: 'live' }));

    const foreign = await agentFailure(['--nats', nats.url, '--nats-creds-file', writeFile(dir, 'foreign.creds', await (await makeOperatorSetup()).creds('x'))]);
    expect(foreign?.code).toBe(1);
    expect(foreign?.stderr).toMatch(/refused the connection: Authorization Violation \(check the NATS credentials\)/i);
    const notCreds = await agentFailure(['--nats', nats.url, '--nats-creds-file', writeFile(dir, 'not.creds', 'hello\n')]);
    expect(notCreds?.code).toBe(2);
    expect(notCreds?.stderr).toMatch(/is not a NATS \.creds file/);
  });

  it('two kinds of credentials, and NATS flags without --nats, are usage errors', async () => {
    const token = writeFile(dir, 'token', 't0ken');
    const both = await agentFailure(['--nats', 'nats://127.0.0.1:1', '--nats-token-file', token, '--nats-nkey-file', writeFile(dir, 'k.nk', makeNkeyUser().seed)]);
    expect(both?.code).toBe(2);
    expect(both?.stderr).toMatch(/one kind of NATS credentials, not token and nkey/);
    const viaEnv = await agentFailure(['--nats', 'nats://127.0.0.1:1', '--nats-token-file', token], { FLEETSTAT_NATS_CREDS_FILE: join(dir, 'agent.creds') });
    expect(viaEnv?.code).toBe(2);
    expect(viaEnv?.stderr).toMatch(/not token and creds/);
    const grpc = await agentFailure(['--grpc', '127.0.0.1:1', '--nats-token-file', token]);
    expect(grpc?.code).toBe(2);
    expect(grpc?.stderr).toMatch(/--nats-token-file need --nats/);
  });
});
