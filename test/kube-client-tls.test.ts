// The in-cluster path is HTTPS with the service-account CA and a bearer token: PodWatcher
// against the fake API server over TLS, with a certificate made for 127.0.0.1 by openssl.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { explicitConfig, inClusterConfig } from '../collector/kubernetes/kube-config.js';
import { PodWatcher } from '../collector/kubernetes/pod-watcher.js';
import { FakeKubeApi, fixtureJson, json } from './support/fake-kube-api.js';

let dir = '';
let tls: { key: string; cert: string };
const running: { api?: FakeKubeApi; watcher?: PodWatcher }[] = [];

function selfSigned(name: string): { key: string; cert: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', '/CN=kube-apiserver', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetstat-kube-tls-'));
  tls = selfSigned('server');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.watcher?.stop();
    await r.api?.close();
  }
});

async function tlsApi(): Promise<FakeKubeApi> {
  const api = new FakeKubeApi('/api/v1/pods', tls);
  await api.start();
  api.listDefault = json(200, fixtureJson('pods-list.json'));
  return api;
}

describe('PodWatcher over HTTPS', () => {
  it('trusts the service-account CA and sends the token, as in a pod', async () => {
    const api = await tlsApi();
    const sa = join(dir, 'sa');
    mkdirSync(sa, { recursive: true });
    writeFileSync(join(sa, 'ca.crt'), tls.cert);
    writeFileSync(join(sa, 'token'), 'sa-token\n');
    writeFileSync(join(sa, 'namespace'), 'fleetstat');
    const config = inClusterConfig({ env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(api.port) }, serviceAccountDir: sa });
    const watcher = new PodWatcher({ config });
    running.push({ api, watcher });
    await watcher.start();
    expect(watcher.stats().pods).toBe(8);
    expect(api.listRequests()[0]?.authorization).toBe('Bearer sa-token');
    await api.waitForRequests((r) => r.watch);
  });

  it('refuses a server its CA did not sign, and retries rather than giving up', async () => {
    const api = await tlsApi();
    const other = selfSigned('other');
    const watcher = new PodWatcher({ config: explicitConfig({ server: api.url, ca: other.cert }), backoff: { initialMs: 20, maxMs: 50, multiplier: 2 } });
    running.push({ api, watcher });
    void watcher.start().catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(watcher.ready()).toBe(false);
    expect(watcher.stats().errors).toBeGreaterThanOrEqual(2);
    expect(api.requests).toHaveLength(0);
  });

  it('connects without verification when told to skip it', async () => {
    const api = await tlsApi();
    const watcher = new PodWatcher({ config: explicitConfig({ server: api.url, insecureSkipTlsVerify: true }) });
    running.push({ api, watcher });
    await watcher.start();
    expect(watcher.ready()).toBe(true);
  });
});
