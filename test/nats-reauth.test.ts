// After start-up a refusal is retried, not fatal: agent and collector connect, then the
// server is restarted with a configuration that refuses their passwords (credentials
// revoked); both stay up, log the server's reason (once per minute at most, not per
// attempt), back off, and recover when the server takes them again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CollectorChild, scrape, valueOf } from './support/collector-child.js';
import type { NatsServer } from './support/nats-server.js';
import { freePort, startNatsServer } from './support/nats-server.js';
import { AgentChild, waitForLiveNode, writeFile } from './support/nats-secured.js';

const users = (agentPassword: string, collectorPassword: string): string =>
  `authorization { users = [ { user: agent, password: "${agentPassword}" }, { user: collector, password: "${collectorPassword}" } ] }\n`;

describe('credentials refused after start-up', () => {
  let dir: string;
  let config: string;
  let nats: NatsServer;
  let collector: CollectorChild;
  let agent: AgentChild;
  let agentBase = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-reauth-'));
    config = writeFile(dir, 'nats.conf', users('agent-pw', 'collector-pw'));
    nats = await startNatsServer({ jetstream: false, args: ['-c', config] });
    collector = await CollectorChild.start(await freePort(), ['--nats', nats.url, '--nats-user', 'collector', '--nats-password-file', writeFile(dir, 'c.pw', 'collector-pw')]);
    const port = await freePort();
    agentBase = `http://127.0.0.1:${port}`;
    agent = new AgentChild([
      '--nats', nats.url, '--nats-user', 'agent', '--nats-password-file', writeFile(dir, 'a.pw', 'agent-pw'),
      '--node', 'revoked', '--netns', 'self', '--interval', '500ms', '--listen', `127.0.0.1:${port}`,
    ]);
  });

  afterAll(async () => {
    await agent?.stop();
    await collector?.stop();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('both stay up through the refusal, say why, and come back when the server accepts them again', async () => {
    expect(await waitForLiveNode(collector.base, 'revoked')).toContainEqual(expect.objectContaining({ name: 'revoked', status: 'live' }));

    writeFile(dir, 'nats.conf', users('changed', 'changed'));
    await nats.restart();
    const refused = (l: { msg: string }) => /refused the credentials: Authorization Violation/i.test(l.msg);
    await agent.waitForLog('the refusal', refused, 20_000);
    await collector.waitForLog('the refusal', refused, 20_000);
    // Let a few attempts go by: still running, the reason logged once, the attempts counted.
    await new Promise((r) => setTimeout(r, 5000));
    expect(agent.running).toBe(true);
    expect(collector.running).toBe(true);
    expect(agent.logs.filter(refused)).toHaveLength(1);
    expect(collector.logs.filter(refused)).toHaveLength(1);
    expect(valueOf(await scrape(agentBase), 'fleetstat_agent_publish_refusals_total', { kind: 'auth' })).toBeGreaterThanOrEqual(2);

    writeFile(dir, 'nats.conf', users('agent-pw', 'collector-pw'));
    await nats.restart();
    // Backoff doubles from 2 s; with jitter the next attempt is within about 20 s.
    const reconnected = (l: { msg: string }) => l.msg === 'NATS reconnected';
    const back = await agent.waitForLog('the reconnect', reconnected, 40_000);
    expect(back['attempts']).toBeGreaterThanOrEqual(2);
    await collector.waitForLog('the reconnect', reconnected, 40_000);
    const nodes = await waitForLiveNode(collector.base, 'revoked');
    expect(nodes).toContainEqual(expect.objectContaining({ name: 'revoked', status: 'live' }));
    // One outage, one line each, although the client reports a disconnect per refused attempt.
    expect(agent.logs.filter(reconnected)).toHaveLength(1);
    expect(collector.logs.filter(reconnected)).toHaveLength(1);
    expect(collector.logsWith('snapshot subscription resumed after reconnect')).toHaveLength(1);
  }, 120_000);
});
