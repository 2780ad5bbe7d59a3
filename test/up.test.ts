// `fleetstat up`, the embedded default behind `npm start`: the whole pipeline in one process,
// checked against sockets this test holds open.
import { once } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEETSTAT_BIN, fleetstat } from './support/fleetstat-cli.js';

describe('fleetstat up', () => {
  let up: ChildProcess;
  let base = '';
  let port = 0;
  const sockets: net.Socket[] = [];
  let server: net.Server;

  beforeAll(async () => {
    server = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
    for (let i = 0; i < 3; i++) {
      const client = net.connect(port, '127.0.0.1');
      await once(client, 'connect');
      sockets.push(client);
    }
    up = spawn(process.execPath, [FLEETSTAT_BIN, 'up', '--netns', 'self', '--node', 'uptest', '--interval', '500ms', '--http-ports', String(port), '--listen', '127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    for await (const line of createInterface({ input: up.stdout! })) {
      const match = /API\s+(http:\/\/[\d.:]+)\//.exec(line);
      if (match?.[1]) {
        base = match[1];
        break;
      }
    }
    // The first sample is taken at once; wait until the collector has it.
    for (let i = 0; i < 100; i++) {
      const nodes = (await (await fetch(`${base}/api/v1/nodes`)).json()) as unknown[];
      if (nodes.length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterAll(async () => {
    if (up.exitCode === null) {
      up.kill('SIGTERM');
      await once(up, 'exit');
    }
    for (const s of sockets) s.destroy();
    server.close();
  });

  it('serves this machine as one live node, with the HTTP connections of the test', async () => {
    const summary = (await (await fetch(`${base}/api/v1/summary`)).json()) as {
      nodes: { live: number };
      connections: { port: number; direction: string; state: string; count: number }[];
    };
    expect(summary.nodes.live).toBe(1);
    expect(summary.connections).toEqual([
      { port, direction: 'inbound', state: 'ESTABLISHED', count: 3 },
      { port, direction: 'outbound', state: 'ESTABLISHED', count: 3 },
    ]);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain(`fleetstat_http_connections{node="uptest",port="${port}",state="ESTABLISHED",direction="inbound"} 3`);
    expect(metrics).toContain('fleetstat_nodes{status="live"} 1');
    expect(metrics).toMatch(/fleetstat_ingest_snapshots_received_total\{transport="memory"\} \d+/);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('answers the CLI: top and connections', async () => {
    const top = await fleetstat(['top', '--collector', base]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^uptest\s+live\s+6\s+1\s/m);
    const rows = await fleetstat(['connections', '--collector', base, '--port', String(port), '-o', 'json']);
    const parsed = JSON.parse(rows.stdout) as { node: string; state: string }[];
    expect(parsed.filter((r) => r.state === 'ESTABLISHED')).toHaveLength(6);
    expect(parsed.filter((r) => r.state === 'LISTEN')).toHaveLength(1);
    expect(parsed.every((r) => r.node === 'uptest')).toBe(true);
    const listening = await fleetstat(['connections', '--collector', base, '--port', String(port), '--state', 'LISTEN']);
    expect(listening.stdout.split('\n')[1]).toMatch(new RegExp(`^uptest\\s+tcp\\s+0\\s+0\\s+127\\.0\\.0\\.1:${port}\\s+0\\.0\\.0\\.0:\\*\\s+LISTEN$`));
  });

  it('answers unknown routes and bad queries with JSON errors, and keeps serving', async () => {
    expect((await fetch(`${base}/api/v1/nope`)).status).toBe(404);
    expect((await fetch(`${base}/api/v1/nodes/nobody`)).status).toBe(404);
    const bad = await fetch(`${base}/api/v1/connections?port=99999`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'port must be a whole number from 0 to 65535' });
    expect((await fetch(`${base}/api/v1/summary`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('says goodbye and exits 0 on SIGTERM', async () => {
    up.kill('SIGTERM');
    const [code] = (await once(up, 'exit')) as [number];
    expect(code).toBe(0);
  });
});
