// NATS over TLS with a CA made here by openssl: agent and collector trust it through
// --nats-ca-file or FLEETSTAT_NATS_CA_FILE, present a client certificate to a server that
// verifies clients, and stop at start with the reason when the CA is the wrong one or the
// server wants a certificate they do not have.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CollectorChild } from './support/collector-child.js';
import { FLEETSTAT_BIN } from './support/fleetstat-cli.js';
import type { NatsServer } from './support/nats-server.js';
import { freePort, startNatsServer } from './support/nats-server.js';
import { AgentChild, waitForLiveNode, writeFile } from './support/nats-secured.js';
import type { TestPki } from './support/test-pki.js';
import { makeTestPki } from './support/test-pki.js';

const run = promisify(execFile);

async function exitOf(command: 'agent' | 'collector', args: string[]): Promise<{ code?: number; stderr?: string } | undefined> {
  const extra = command === 'agent' ? ['--netns', 'self'] : ['--listen', '127.0.0.1:0'];
  return run(process.execPath, [FLEETSTAT_BIN, command, ...extra, ...args], { timeout: 20_000 }).then(
    () => undefined,
    (error: { code?: number; stderr?: string }) => error,
  );
}

describe('NATS over TLS', () => {
  let pki: TestPki;
  let dir: string;
  let tlsOnly: NatsServer;
  let verifying: NatsServer;
  const collectors: CollectorChild[] = [];
  const agents: AgentChild[] = [];

  beforeAll(async () => {
    pki = await makeTestPki();
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-nats-tls-'));
    const tls = (verify: boolean) =>
      `tls {\n  cert_file: "${pki.serverCert}"\n  key_file: "${pki.serverKey}"\n  ca_file: "${pki.ca}"\n  verify: ${verify}\n  timeout: 2\n}\n`;
    tlsOnly = await startNatsServer({ jetstream: false, args: ['-c', writeFile(dir, 'tls.conf', tls(false))] });
    verifying = await startNatsServer({ jetstream: false, args: ['-c', writeFile(dir, 'verify.conf', tls(true))] });
  });

  afterAll(async () => {
    for (const a of agents) await a.stop();
    for (const c of collectors) await c.stop();
    await tlsOnly?.stop();
    await verifying?.stop();
    pki?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('server TLS: collector (--nats-ca-file) and agent (FLEETSTAT_NATS_CA_FILE) connect and the node is live', async () => {
    const collector = await CollectorChild.start(await freePort(), ['--nats', tlsOnly.url, '--nats-ca-file', pki.ca]);
    collectors.push(collector);
    agents.push(new AgentChild(['--nats', tlsOnly.url, '--node', 'tls-agent', '--netns', 'self', '--interval', '500ms'], { FLEETSTAT_NATS_CA_FILE: pki.ca }));
    expect(await waitForLiveNode(collector.base, 'tls-agent')).toContainEqual(expect.objectContaining({ name: 'tls-agent', status: 'live' }));
  });

  it('client certificates (verify: true): with --nats-cert-file/--nats-key-file both connect and the node is live', async () => {
    const cert = ['--nats-ca-file', pki.ca, '--nats-cert-file', pki.clientCert, '--nats-key-file', pki.clientKey];
    const collector = await CollectorChild.start(await freePort(), ['--nats', verifying.url, ...cert]);
    collectors.push(collector);
    agents.push(new AgentChild(['--nats', verifying.url, '--node', 'mtls-agent', '--netns', 'self', '--interval', '500ms', ...cert]));
    expect(await waitForLiveNode(collector.base, 'mtls-agent')).toContainEqual(expect.objectContaining({ name: 'mtls-agent', status: 'live' }));
  });

  it('a server certificate from another CA stops agent and collector at start with a TLS reason', async () => {
    for (const command of ['agent', 'collector'] as const) {
      const failure = await exitOf(command, ['--nats', tlsOnly.url, '--nats-ca-file', pki.otherCa]);
      expect(failure?.code, command).toBe(1);
      expect(failure?.stderr, command).toMatch(/TLS with NATS at nats:\/\/127\.0\.0\.1:\d+ failed: .*certificate.*check --nats-ca-file/i);
    }
  });

  it('without a client certificate (agent), or with a stranger\'s (collector), a verifying server stops them at start with the TLS reason', async () => {
    // The client library itself sees only a time-out here (TLS 1.3 sends the refusal after the handshake).
    const none = await exitOf('agent', ['--nats', verifying.url, '--nats-ca-file', pki.ca]);
    expect(none?.code).toBe(1);
    expect(none?.stderr).toMatch(/TLS with NATS at nats:\/\/127\.0\.0\.1:\d+ failed: the server ended the TLS session: .*refused our client certificate/i);
    const stranger = await exitOf('collector', ['--nats', verifying.url, '--nats-ca-file', pki.ca, '--nats-cert-file', pki.strangerCert, '--nats-key-file', pki.strangerKey]);
    expect(stranger?.code).toBe(1);
    expect(stranger?.stderr).toMatch(/TLS with NATS at nats:\/\/127\.0\.0\.1:\d+ failed: the server ended the TLS session: .*refused our client certificate/i);
  });

  it('a missing CA file, a key that is not the certificate\'s, or half a pair are usage errors', async () => {
    const missing = await exitOf('agent', ['--nats', tlsOnly.url, '--nats-ca-file', join(dir, 'absent.crt')]);
    expect(missing?.code).toBe(2);
    expect(missing?.stderr).toMatch(/cannot read NATS CA .*absent\.crt: ENOENT/);
    const mismatched = await exitOf('collector', ['--nats', tlsOnly.url, '--nats-cert-file', pki.clientCert, '--nats-key-file', pki.strangerKey]);
    expect(mismatched?.code).toBe(2);
    expect(mismatched?.stderr).toMatch(/does not belong to certificate/);
    const half = await exitOf('agent', ['--nats', tlsOnly.url, '--nats-cert-file', pki.clientCert]);
    expect(half?.code).toBe(2);
    expect(half?.stderr).toMatch(/--nats-cert-file and --nats-key-file go together/);
  });
});
