// The agent as it runs in production, here over gRPC: its own /healthz and /metrics, detail
// requests through its DetailService, and a goodbye on SIGTERM that removes the node at once.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GetSummaryResponse, ListNodesResponse } from '../proto/gen/fleetstat/v1/query.js';
import { QueryServiceClient } from '../proto/gen/fleetstat/v1/query.js';
import { freePort } from './support/nats-server.js';
import { FLEETSTAT_BIN, fleetstat } from './support/fleetstat-cli.js';

const start = (args: string[]): ChildProcess =>
  spawn(process.execPath, [FLEETSTAT_BIN, ...args], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, FLEETSTAT_LOG_LEVEL: 'warn' } });

async function poll<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 100; i++) {
    try {
      const value = await read();
      if (done(value)) return value;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('agent process over gRPC', () => {
  let collector: ChildProcess;
  let agent: ChildProcess;
  let api = '';
  let agentUrl = '';
  let grpcTarget = '';
  let server: net.Server;
  let port = 0;
  const held: net.Socket[] = [];

  beforeAll(async () => {
    server = net.createServer((s) => held.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
    for (let i = 0; i < 2; i++) held.push(await new Promise<net.Socket>((resolve) => { const s = net.connect(port, '127.0.0.1', () => resolve(s)); }));
    const [http, grpc, agentHttp, detail] = [await freePort(), await freePort(), await freePort(), await freePort()];
    api = `http://127.0.0.1:${http}`;
    agentUrl = `http://127.0.0.1:${agentHttp}`;
    grpcTarget = `127.0.0.1:${grpc}`;
    collector = start(['collector', '--cluster', 'proc', '--grpc', `127.0.0.1:${grpc}`, '--listen', `127.0.0.1:${http}`]);
    agent = start([
      'agent', '--cluster', 'proc', '--node', 'solo', '--grpc', `127.0.0.1:${grpc}`, '--netns', 'self', '--interval', '500ms',
      '--http-ports', String(port), '--listen', `127.0.0.1:${agentHttp}`, '--detail-listen', `127.0.0.1:${detail}`,
    ]);
    await poll('the node to be live', async () => (await (await fetch(`${api}/api/v1/nodes`)).json()) as { status: string }[], (n) => n[0]?.status === 'live');
  });

  afterAll(async () => {
    for (const proc of [agent, collector]) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    for (const s of held) s.destroy();
    server.close();
  });

  it('serves its own /healthz and /metrics', async () => {
    expect((await fetch(`${agentUrl}/healthz`)).status).toBe(200);
    const metrics = await poll('two snapshots sent', async () => (await fetch(`${agentUrl}/metrics`)).text(), (t) => /fleetstat_agent_snapshots_sent_total [2-9]/.test(t));
    expect(metrics).toMatch(/^fleetstat_agent_publisher_connected 1$/m);
    expect(metrics).toMatch(/^fleetstat_agent_parse_bad_lines 0$/m);
    expect(metrics).toMatch(/^fleetstat_agent_snapshots_failed_total 0$/m);
  });

  it('the collector counts its HTTP connections and reaches it for detail over gRPC', async () => {
    const summary = (await (await fetch(`${api}/api/v1/summary`)).json()) as { httpConnections: number };
    expect(summary.httpConnections).toBe(4);
    const { stdout, code } = await fleetstat(['connections', '--collector', api, '--port', String(port), '-o', 'json']);
    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as { node: string; state: string }[];
    expect(rows.map((r) => r.state).sort()).toEqual(['ESTABLISHED', 'ESTABLISHED', 'ESTABLISHED', 'ESTABLISHED', 'LISTEN']);
  });

  it('the collector answers QueryService over gRPC with the same counts', async () => {
    const client = new QueryServiceClient(grpcTarget, credentials.createInsecure());
    try {
      const summary = await new Promise<GetSummaryResponse>((resolve, reject) =>
        client.getSummary({}, (error, reply) => (error ? reject(error) : resolve(reply))),
      );
      expect(summary).toMatchObject({ liveNodes: 1, staleNodes: 0, httpConnections: 4 });
      expect(summary.counts.map((c) => [c.node, c.port, c.direction, c.state, c.count])).toEqual([
        ['solo', port, 1, 1, 2],
        ['solo', port, 2, 1, 2],
      ]);
      const nodes = await new Promise<ListNodesResponse>((resolve, reject) =>
        client.listNodes({}, (error, reply) => (error ? reject(error) : resolve(reply))),
      );
      expect(nodes.nodes).toMatchObject([{ name: 'solo', stale: false, httpConnections: 4 }]);
    } finally {
      client.close();
    }
  });

  it('on SIGTERM says goodbye: the node leaves the live totals at once and the agent exits 0', async () => {
    agent.kill('SIGTERM');
    const [code] = (await once(agent, 'exit')) as [number];
    expect(code).toBe(0);
    const nodes = (await (await fetch(`${api}/api/v1/nodes`)).json()) as { status: string; staleReason?: string }[];
    expect(nodes).toMatchObject([{ status: 'stale', staleReason: 'goodbye' }]);
    expect(((await (await fetch(`${api}/api/v1/summary`)).json()) as { httpConnections: number }).httpConnections).toBe(0);
  });

  it('the collector exits 0 on SIGTERM', async () => {
    collector.kill('SIGTERM');
    const [code] = (await once(collector, 'exit')) as [number];
    expect(code).toBe(0);
  });
});
