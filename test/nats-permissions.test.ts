// The example server configuration (examples/nats/nats-server.conf), used as it is: the
// collector of cluster prod with JetStream and an agent of prod work within their subject
// permissions, detail requests included; an agent with prod's credentials but --cluster
// staging is refused by the server, keeps running, says why in its log (once, not per
// snapshot) and counts the refusals in its /metrics; over core NATS and through JetStream,
// no refused snapshot counts as sent.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CollectorChild, getJson, scrape, valueOf } from './support/collector-child.js';
import type { NatsServer } from './support/nats-server.js';
import { freePort, startNatsServer } from './support/nats-server.js';
import { AgentChild, waitForLiveNode, writeFile } from './support/nats-secured.js';

const EXAMPLE = fileURLToPath(new URL('../examples/nats/nats-server.conf', import.meta.url));

describe('subject permissions of the example nats-server.conf', () => {
  let nats: NatsServer;
  let dir: string;
  let collector: CollectorChild;
  let prodAgent: AgentChild;
  let strayAgent: AgentChild;
  let strayJetStream: AgentChild;
  let strayJetStreamBase = '';
  let strayBase = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleetstat-perm-'));
    // The configuration reads the passwords from the server's environment, which it inherits from us.
    process.env['FLEETSTAT_AGENT_PROD_PASSWORD'] = 'agent-secret';
    process.env['FLEETSTAT_COLLECTOR_PROD_PASSWORD'] = 'collector-secret';
    nats = await startNatsServer({ jetstream: true, args: ['-c', EXAMPLE] });
    const collectorPassword = writeFile(dir, 'collector.pw', 'collector-secret');
    const agentPassword = writeFile(dir, 'agent.pw', 'agent-secret');
    collector = await CollectorChild.start(await freePort(), [
      '--cluster', 'prod', '--nats', nats.url, '--jetstream', '--nats-user', 'fleetstat-collector-prod', '--nats-password-file', collectorPassword,
    ]);
    const agentArgs = ['--nats', nats.url, '--nats-user', 'fleetstat-agent-prod', '--nats-password-file', agentPassword, '--netns', 'self', '--interval', '300ms'];
    prodAgent = new AgentChild([...agentArgs, '--cluster', 'prod', '--node', 'prod-1', '--jetstream']);
    const strayPort = await freePort();
    strayBase = `http://127.0.0.1:${strayPort}`;
    strayAgent = new AgentChild([...agentArgs, '--cluster', 'staging', '--node', 'stray-1', '--listen', `127.0.0.1:${strayPort}`]);
    const jsPort = await freePort();
    strayJetStreamBase = `http://127.0.0.1:${jsPort}`;
    strayJetStream = new AgentChild([...agentArgs, '--cluster', 'staging', '--node', 'stray-js', '--jetstream', '--listen', `127.0.0.1:${jsPort}`]);
  });

  afterAll(async () => {
    await prodAgent?.stop();
    await strayAgent?.stop();
    await strayJetStream?.stop();
    await collector?.stop();
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an agent of prod publishes through JetStream and is counted; the collector asks it for detail', async () => {
    const nodes = await waitForLiveNode(collector.base, 'prod-1');
    expect(nodes.map((n) => n.name)).toEqual(['prod-1']);
    const detail = await getJson<{ nodes: { node: string; error?: string }[] }>(`${collector.base}/api/v1/connections?node=prod-1`);
    expect(detail.nodes).toEqual([expect.objectContaining({ node: 'prod-1' })]);
    expect(detail.nodes[0]?.error).toBeUndefined();
  });

  it('an agent with prod credentials but --cluster staging is refused by the server, stays up, logs why once and counts it', async () => {
    const refused = await strayAgent.waitForLog('a permissions refusal', (l) => /refused to let this user publish to fleetstat\.v1\.staging\.snap\.stray-1/.test(l.msg));
    expect(refused).toMatchObject({ level: 50, operation: 'publish', subject: 'fleetstat.v1.staging.snap.stray-1' });
    await strayAgent.waitForLog('the refused subscription', (l) => /refused to let this user subscribe to fleetstat\.v1\.staging\.detail\.stray-1/.test(l.msg));
    // Several intervals later: still running, the refusals counted, the log line not repeated.
    let permission = 0;
    for (let i = 0; i < 100 && permission < 4; i++) {
      await new Promise((r) => setTimeout(r, 100));
      permission = valueOf(await scrape(strayBase), 'fleetstat_agent_publish_refusals_total', { kind: 'permission' });
    }
    expect(permission).toBeGreaterThanOrEqual(4);
    const metrics = await scrape(strayBase);
    expect(valueOf(metrics, 'fleetstat_agent_snapshots_sent_total')).toBe(0);
    expect(valueOf(metrics, 'fleetstat_agent_snapshots_failed_total')).toBeGreaterThanOrEqual(3);
    expect(strayAgent.running).toBe(true);
    expect(strayAgent.logs.filter((l) => /publish to fleetstat\.v1\.staging/.test(l.msg))).toHaveLength(1);
    // Nothing of it reached the collector.
    const nodes = await getJson<{ name: string }[]>(`${collector.base}/api/v1/nodes`);
    expect(nodes.map((n) => n.name)).toEqual(['prod-1']);
  });

  it('through JetStream the refused publish gets no ack: the agent logs the refusal, counts the failure, and sends nothing', async () => {
    await strayJetStream.waitForLog('a permissions refusal', (l) => /refused to let this user publish to fleetstat\.v1\.staging\.snap\.stray-js/.test(l.msg), 20_000);
    let failed = 0;
    for (let i = 0; i < 150 && failed < 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      failed = valueOf(await scrape(strayJetStreamBase), 'fleetstat_agent_snapshots_failed_total');
    }
    expect(failed).toBeGreaterThanOrEqual(1);
    expect(valueOf(await scrape(strayJetStreamBase), 'fleetstat_agent_snapshots_sent_total')).toBe(0);
    expect(strayJetStream.running).toBe(true);
  }, 30_000);
});
