// The rendered chart, run on this machine: the containers' exact commands, arguments and env
// from `helm template` (Service names pointed at loopback, the hostPath /proc mount emulated
// by --proc /proc, downward-API values filled in) for the NATS default and the gRPC case.
// Then the kubelet's probes answer, the collector's wait-for-NATS init container passes, and
// the `helm test` pod's script succeeds against it, i.e. the install would work as rendered.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { findNatsServerOnPath, freePort } from '../support/nats-server.js';
import { makeTestPki } from '../support/test-pki.js';
import { CHART, NAMESPACE, ROOT, container, expandVars, one, podSpec, render } from './render-chart.js';
import type { Container, K8sObject } from './render-chart.js';

const DOWNWARD_API: Record<string, string> = { 'spec.nodeName': 'kind-worker', 'status.podIP': '127.0.0.1', 'metadata.name': 'fs-fleetstat-nats-0' };
const running = new Set<ChildProcess>();
const dirs: string[] = [];
/** Secret mount paths and the local directories standing in for them (the kubelet's Secret volumes). */
const mountedSecrets: [string, string][] = [];

// Last started, first stopped: the collector drains its NATS connection before NATS goes away.
afterEach(async () => {
  for (const child of [...running].reverse()) await stop(child);
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The container's env as the kubelet would set it (values and downward API fields). */
function envOf(c: Container, overrides: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    const field = (e.valueFrom as { fieldRef?: { fieldPath: string } } | undefined)?.fieldRef?.fieldPath;
    env[e.name] = localize(e.value ?? DOWNWARD_API[field ?? ''] ?? '');
  }
  return { ...env, ...overrides };
}

/** In-cluster names to loopback, and the agent's host /proc mount to this machine's /proc. */
function localize(text: string): string {
  let local = text.replace(new RegExp(`fs-fleetstat-(collector|nats)\\.${NAMESPACE}\\.svc`, 'g'), '127.0.0.1').replace('=/host/proc', '=/proc');
  for (const [mountPath, dir] of mountedSecrets) local = local.replaceAll(mountPath, dir);
  return local;
}

/** GET over http or https; like the kubelet, https here does not check the certificate (the test pod does). */
function getLocal(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const onResponse = (res: IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    };
    const options = { headers, rejectUnauthorized: false, signal: AbortSignal.timeout(5000) };
    const req = url.startsWith('https:') ? httpsRequest(url, options, onResponse) : httpRequest(url, options, onResponse);
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

/** Runs a container as its image would: ENTRYPOINT node /app/bin/fleetstat.js unless it sets command. */
function start(c: Container, env: Record<string, string> = envOf(c)): ChildProcess {
  const argv = [...(c.command ?? ['node', join(ROOT, 'bin/fleetstat.js')]), ...(c.args ?? [])].map((a) => expandVars(localize(a), env));
  const child = spawn(argv[0] === 'node' ? process.execPath : (argv[0] as string), argv.slice(1), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (b: Buffer) => (output = (output + b.toString()).slice(-8000)));
  child.stderr?.on('data', (b: Buffer) => (output = (output + b.toString()).slice(-8000)));
  Object.defineProperty(child, 'output', { get: () => output });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

function outputOf(child: ChildProcess): string {
  return (child as ChildProcess & { output: string }).output;
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = exitOf(child);
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** GET a probe's path on the container's named port until it answers 200. */
async function probeAnswers(c: Container, probe: 'livenessProbe' | 'readinessProbe', timeoutMs = 20_000): Promise<void> {
  const get = c[probe]?.httpGet;
  const port = c.ports?.find((p) => p.name === get?.port)?.containerPort;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status } = await getLocal(`${get?.scheme === 'HTTPS' ? 'https' : 'http'}://127.0.0.1:${port}${get?.path}`);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${c.name} ${probe} ${get?.path} on ${port}: ${status}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Every port the chart binds, on free loopback ports, and a 1 s interval for a quick first report.
 * No API server runs here, so pod attribution (the collector's Kubernetes watch) is off; it is
 * tested against recorded API responses in test/pod-attribution.test.ts.
 */
async function renderLocal(valuesFile?: string, extra: string[] = []): Promise<K8sObject[]> {
  const set = ['listenHost=127.0.0.1', 'agent.interval=1s', 'tests.waitSeconds=30', 'podAttribution.enabled=false', ...extra];
  for (const key of ['collector.httpPort', 'collector.grpcPort', 'agent.metricsPort', 'agent.detailPort', 'nats.embedded.port', 'nats.embedded.monitorPort']) {
    set.push(`${key}=${await freePort()}`);
  }
  return render({ valuesFile, set });
}

async function startNats(objects: K8sObject[]): Promise<void> {
  const nats = container(one(objects, 'StatefulSet', 'nats'), 'nats');
  const dir = mkdtempSync(join(tmpdir(), 'fleetstat-rendered-nats-'));
  dirs.push(dir);
  const conf = one(objects, 'ConfigMap', 'nats').data?.['nats.conf'] ?? '';
  writeFileSync(join(dir, 'nats.conf'), conf.replace('store_dir: /data', `store_dir: ${dir}`));
  const args = (nats.args ?? []).map((a) => a.replace('/etc/nats-config', dir));
  start({ ...nats, command: [findNatsServerOnPath() as string], args }, envOf(nats));
  await probeAnswers(nats, 'readinessProbe');
}

/** The rest of an install: collector (after its init containers), agent, probes, then `helm test`. */
async function runInstall(objects: K8sObject[]): Promise<void> {
  const deployment = one(objects, 'Deployment', 'collector');
  for (const init of podSpec(deployment).initContainers ?? []) {
    const child = start(init);
    expect(await exitOf(child), outputOf(child)).toBe(0);
  }
  const collectorContainer = container(deployment, 'collector');
  const collector = start(collectorContainer);
  const agentContainer = container(one(objects, 'DaemonSet', 'agent'), 'agent');
  const agent = start(agentContainer);
  try {
    await probeAnswers(collectorContainer, 'livenessProbe');
    await probeAnswers(collectorContainer, 'readinessProbe');
    await probeAnswers(agentContainer, 'readinessProbe');
    await probeAnswers(agentContainer, 'livenessProbe');

    const testContainer = container(one(objects, 'Pod', 'test'), 'query-api');
    const test = start(testContainer);
    expect(await exitOf(test), outputOf(test)).toBe(0);
    expect(outputOf(test)).toMatch(/^ok: cluster default, nodes \{"live":1,"stale":0\}/);

    // Socket rows travel back over the transport (NATS, or gRPC to the rendered --detail-address).
    const httpPort = collectorContainer.ports?.find((p) => p.name === 'http')?.containerPort;
    const scheme = collectorContainer.livenessProbe?.httpGet?.scheme === 'HTTPS' ? 'https' : 'http';
    const tokenFile = collectorContainer.args?.find((a) => a.startsWith('--api-token-file='))?.split('=')[1];
    const headers: Record<string, string> = tokenFile ? { authorization: `Bearer ${readFileSync(localize(tokenFile), 'utf8').trim()}` } : {};
    const answer = await getLocal(`${scheme}://127.0.0.1:${httpPort}/api/v1/connections?limit=5`, headers);
    expect(answer.status, answer.body).toBe(200);
    const rows = JSON.parse(answer.body) as { nodes: { node: string; error?: string }[] };
    expect(rows.nodes).toEqual([expect.objectContaining({ node: 'kind-worker' })]);
    expect(rows.nodes[0]?.error).toBeUndefined();
  } catch (err) {
    throw new Error(`${(err as Error).message}\n--- collector:\n${outputOf(collector)}\n--- agent:\n${outputOf(agent)}`, { cause: err });
  }
  // The agent's goodbye on SIGTERM: it exits cleanly.
  const agentExit = exitOf(agent);
  await stop(agent);
  expect(await agentExit).toBe(0);
}

describe('the rendered chart, run here', () => {
  it('gRPC only (ci/grpc-values.yaml): agent streams to the collector and serves detail at its pod address', async () => {
    await runInstall(await renderLocal(join(CHART, 'ci/grpc-values.yaml')));
  });

  it('TLS and a token (ci/security-values.yaml): mutual TLS both ways, HTTPS probes, helm test with the CA and the token', async () => {
    // One certificate (127.0.0.1, localhost) for collector and agents: the Secrets' files as the kubelet would mount them.
    const pki = await makeTestPki();
    const tls = join(pki.dir, 'mounted-tls');
    const token = join(pki.dir, 'mounted-token');
    mkdirSync(tls);
    mkdirSync(token);
    copyFileSync(pki.serverCert, join(tls, 'tls.crt'));
    copyFileSync(pki.serverKey, join(tls, 'tls.key'));
    copyFileSync(pki.ca, join(tls, 'ca.crt'));
    writeFileSync(join(token, 'token'), 'rendered-run-token\n');
    mountedSecrets.push(['/etc/fleetstat/tls', tls], ['/etc/fleetstat/api-token', token]);
    try {
      const objects = await renderLocal(join(CHART, 'ci/security-values.yaml'), ['tls.agentServerName=localhost']);
      const collectorContainer = container(one(objects, 'Deployment', 'collector'), 'collector');
      expect(collectorContainer.args).toContain('--grpc-client-ca=/etc/fleetstat/tls/ca.crt');
      await runInstall(objects);
    } finally {
      mountedSecrets.length = 0;
      pki.cleanup();
    }
  });

  it.skipIf(!findNatsServerOnPath())('defaults: the embedded NATS with JetStream, its configuration run by nats-server', async () => {
    const objects = await renderLocal();
    await startNats(objects);
    await runInstall(objects);
  });

  it('the helm test pod fails, naming why, when the collector answers for another cluster', async () => {
    const objects = await renderLocal(join(CHART, 'ci/grpc-values.yaml'));
    const collectorContainer = container(one(objects, 'Deployment', 'collector'), 'collector');
    start(collectorContainer);
    await probeAnswers(collectorContainer, 'readinessProbe');
    const testContainer = container(one(objects, 'Pod', 'test'), 'query-api');
    const test = start(testContainer, envOf(testContainer, { CLUSTER: 'elsewhere', WAIT_SECONDS: '1' }));
    expect(await exitOf(test)).toBe(1);
    expect(outputOf(test)).toContain('cluster is "default", expected "elsewhere"');
  });

  it('the wait-for-NATS init container gives up after WAIT_SECONDS when nothing answers', async () => {
    const objects = await renderLocal();
    const init = podSpec(one(objects, 'Deployment', 'collector')).initContainers?.[0] as Container;
    const child = start(init, envOf(init, { NATS_PORT: String(await freePort()), WAIT_SECONDS: '1' }));
    expect(await exitOf(child)).toBe(1);
    expect(outputOf(child)).toContain('did not answer within 1 s');
  });
});
