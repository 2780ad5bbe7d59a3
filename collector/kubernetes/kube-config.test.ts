import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { explicitConfig, inClusterConfig, KubeConfigError } from './kube-config.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function serviceAccount(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleetstat-sa-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };

describe('inClusterConfig', () => {
  it('reads the service address, CA, namespace and token', () => {
    const dir = serviceAccount({ token: 'tok-1\n', 'ca.crt': 'PEM', namespace: 'fleetstat' });
    const config = inClusterConfig({ env, serviceAccountDir: dir });
    expect(config.server.href).toBe('https://10.96.0.1/');
    expect(config.server.port).toBe('');
    expect(config.ca?.toString()).toBe('PEM');
    expect(config.namespace).toBe('fleetstat');
    expect(config.insecureSkipTlsVerify).toBe(false);
    expect(config.bearerToken()).toBe('tok-1');
  });

  it('brackets an IPv6 service address and keeps a non-default port', () => {
    const dir = serviceAccount({ token: 't', 'ca.crt': 'PEM' });
    const config = inClusterConfig({ env: { KUBERNETES_SERVICE_HOST: 'fd00:10:96::1', KUBERNETES_SERVICE_PORT: '6443' }, serviceAccountDir: dir });
    expect(config.server.host).toBe('[fd00:10:96::1]:6443');
    expect(config.namespace).toBeUndefined();
  });

  it('re-reads the rotated token once the refresh period has passed, and keeps the old one if the file is gone', () => {
    const dir = serviceAccount({ token: 'old', 'ca.crt': 'PEM' });
    let now = 1_000;
    const config = inClusterConfig({ env, serviceAccountDir: dir, tokenRefreshMs: 60_000, nowMs: () => now });
    writeFileSync(join(dir, 'token'), 'new');
    now += 59_999;
    expect(config.bearerToken()).toBe('old');
    now += 1;
    expect(config.bearerToken()).toBe('new');
    rmSync(join(dir, 'token'));
    now += 60_000;
    expect(config.bearerToken()).toBe('new');
  });

  it('fails fast outside a pod or without the service account files', () => {
    expect(() => inClusterConfig({ env: {} })).toThrow(KubeConfigError);
    expect(() => inClusterConfig({ env, serviceAccountDir: serviceAccount({ 'ca.crt': 'PEM' }) })).toThrow(/token/);
    expect(() => inClusterConfig({ env, serviceAccountDir: serviceAccount({ token: 't' }) })).toThrow(/CA/);
    expect(() => inClusterConfig({ env, serviceAccountDir: serviceAccount({ token: '  \n', 'ca.crt': 'PEM' }) })).toThrow(/empty/);
  });
});

describe('explicitConfig', () => {
  it('takes a server, token, CA and the skip-verify switch', () => {
    const config = explicitConfig({ server: 'https://127.0.0.1:6443', token: 'abc', ca: 'PEM', insecureSkipTlsVerify: true });
    expect(config.server.port).toBe('6443');
    expect(config.bearerToken()).toBe('abc');
    expect(config.ca?.toString()).toBe('PEM');
    expect(config.insecureSkipTlsVerify).toBe(true);
    expect(explicitConfig({ server: 'http://127.0.0.1:1' }).bearerToken()).toBeUndefined();
  });

  it('refuses what is not an http(s) URL', () => {
    expect(() => explicitConfig({ server: 'localhost:6443' })).toThrow(KubeConfigError);
    expect(() => explicitConfig({ server: 'not a url' })).toThrow(KubeConfigError);
  });
});
