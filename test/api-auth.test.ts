// The collector's HTTP API with a bearer token and HTTPS: a real collector on 127.0.0.1 with a
// certificate made by openssl for this run. Without the token or with a wrong one: 401 with
// WWW-Authenticate; with it: 200. Probes and the dashboard's files stay open; /metrics does not.
// And the CLI (the built `fleetstat`) reads the API over HTTPS with --ca and --api-token-file.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readKeyPair } from '../agent/tls/pem-files.js';
import { BearerAuth } from '../collector/api/bearer-auth.js';
import { Collector } from '../collector/collector.js';
import { Snapshot, TcpState } from '../proto/gen/fleetstat/v1/snapshot.js';
import { FLEETSTAT_BIN, fleetstat } from './support/fleetstat-cli.js';
import { makeSnapshot } from './support/snapshots.js';
import type { TestPki } from './support/test-pki.js';
import { makeTestPki } from './support/test-pki.js';

const TOKEN = 'tok-7f3a9c1e5b';

let pki: TestPki;
let collector: Collector;
let base = '';
let tokenFile = '';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(path: string, authorization?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { ca: readFileSync(pki.ca), headers: authorization ? { authorization } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  pki = await makeTestPki();
  tokenFile = join(pki.dir, 'api-token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  collector = new Collector({
    cluster: 'test',
    logger: pino({ level: 'silent' }),
    auth: new BearerAuth(TOKEN),
    tls: readKeyPair(pki.serverCert, pki.serverKey),
  });
  const address = await collector.start('127.0.0.1', 0);
  base = `https://127.0.0.1:${address.port}`;
  // A long interval: the node stays live however long the tests take.
  const snapshot = makeSnapshot({ node: 'web-1', seq: 1, intervalMs: 600_000, http: [[80, 'in', TcpState.TCP_STATE_ESTABLISHED, 12]] });
  expect(collector.state.ingest(Snapshot.encode(snapshot).finish(), { transport: 'grpc' }).accepted).toBe(true);
});

afterAll(async () => {
  await collector?.stop();
  pki?.cleanup();
});

describe('bearer token on the HTTP API', () => {
  it('no token: 401 with WWW-Authenticate: Bearer, on the API and on /metrics', async () => {
    for (const path of ['/api/v1/summary', '/api/v1/nodes', '/api/v1/nodes/web-1', '/metrics', '/api/v1/nope']) {
      const answer = await get(path);
      expect(answer.status, path).toBe(401);
      expect(answer.headers['www-authenticate'], path).toMatch(/^Bearer /);
      expect(JSON.parse(answer.body)).toEqual({ error: expect.stringMatching(/bearer token/) });
      expect(answer.body).not.toContain('web-1');
    }
  });

  it('a wrong token, a token with extra characters, or another scheme: 401', async () => {
    for (const authorization of ['Bearer wrong', `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, TOKEN]) {
      expect((await get('/api/v1/summary', authorization)).status, authorization).toBe(401);
    }
  });

  it('the right token: 200 with the data', async () => {
    const summary = await get('/api/v1/summary', `Bearer ${TOKEN}`);
    expect(summary.status).toBe(200);
    expect(JSON.parse(summary.body)).toMatchObject({ cluster: 'test', httpConnections: 12 });
    const metrics = await get('/metrics', `Bearer ${TOKEN}`);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/fleetstat_http_connections\{[^}]*node="web-1"[^}]*\} 12/);
  });

  it('probes and the dashboard page stay open (a kubelet and a browser send no token)', async () => {
    expect(await get('/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    expect((await get('/readyz')).status).toBe(200);
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('id="token-form"');
    expect((await get('/dashboard/dashboard.js')).status).toBe(200);
  });
});

describe('the CLI over HTTPS', () => {
  it('fleetstat top --collector https://... --ca --api-token-file prints the node', async () => {
    const result = await fleetstat(['top', '--collector', base, '--ca', pki.ca, '--api-token-file', tokenFile]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^web-1\s+live\s+12\s/m);
    expect(result.stdout).toContain('cluster test: 12 HTTP connections on 1 live nodes');
  });

  it('the token from FLEETSTAT_API_TOKEN works the same; report and connections take the same flags', async () => {
    const env = { FLEETSTAT_API_TOKEN: TOKEN };
    const top = await fleetstat(['top', '--collector', base, '--ca', pki.ca, '-o', 'json'], { env });
    expect(top.code).toBe(0);
    expect(JSON.parse(top.stdout)).toEqual([expect.objectContaining({ name: 'web-1', httpConnections: 12 })]);
    // This collector has no history and no detail transport: the API's own 501s prove the request got through.
    const report = await fleetstat(['report', '--collector', base, '--ca', pki.ca], { env });
    expect(report.stderr).toMatch(/collector answered 501 for \/api\/v1\/report: this collector keeps no history/);
    const connections = await fleetstat(['connections', '--collector', base, '--ca', pki.ca, '--port', '80'], { env });
    expect(connections.stderr).toMatch(/collector answered 501 for \/api\/v1\/connections/);
  });

  it('without the token, with a wrong one, or without the CA: a clear error, exit 1', async () => {
    const noToken = await fleetstat(['top', '--collector', base, '--ca', pki.ca]);
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/collector answered 401 for \/api\/v1\/summary: give --api-token-file/);
    const wrong = await fleetstat(['top', '--collector', base, '--ca', pki.ca], { env: { FLEETSTAT_API_TOKEN: 'nope' } });
    expect(wrong.stderr).toMatch(/401 .*the token was refused/);
    const noCa = await fleetstat(['top', '--collector', base, '--api-token-file', tokenFile]);
    expect(noCa.code).toBe(1);
    expect(noCa.stderr).toMatch(/cannot reach the collector at https:\/\/127\.0\.0\.1:\d+: .*(self-signed certificate in certificate chain|unable to verify)/);
    const missingCa = await fleetstat(['top', '--collector', base, '--ca', join(pki.dir, 'missing.crt')]);
    expect(missingCa.code).toBe(2);
    expect(missingCa.stderr).toMatch(/cannot read CA .*missing\.crt: ENOENT/);
  });
});

describe('fleetstat up with HTTPS and a token', () => {
  it('serves its API over HTTPS asking for the token, and prints how the CLI gets in', async () => {
    const up = spawn(process.execPath, [FLEETSTAT_BIN, 'up', '--netns', 'self', '--node', 'up-tls', '--interval', '500ms', '--listen', '127.0.0.1:0',
      '--tls-cert', pki.serverCert, '--tls-key', pki.serverKey, '--api-token-file', tokenFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let upBase = '';
      let cliLine = '';
      for await (const line of createInterface({ input: up.stdout })) {
        upBase ||= /API\s+(https:\/\/[\d.:]+)\//.exec(line)?.[1] ?? '';
        if (line.includes('CLI')) {
          cliLine = line;
          break;
        }
      }
      expect(upBase).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(cliLine).toContain(`--api-token-file ${tokenFile}`);
      expect(cliLine).not.toContain(TOKEN);
      base = upBase;
      expect((await get('/api/v1/nodes')).status).toBe(401);
      let top = await fleetstat(['top', '--collector', upBase, '--ca', pki.ca, '--api-token-file', tokenFile]);
      for (let i = 0; i < 50 && !/^up-tls\s+live/m.test(top.stdout); i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        top = await fleetstat(['top', '--collector', upBase, '--ca', pki.ca, '--api-token-file', tokenFile]);
      }
      expect(top.stdout).toMatch(/^up-tls\s+live\s/m);
    } finally {
      up.kill('SIGTERM');
      await once(up, 'exit');
    }
  });
});
