// PodWatcher against a local server playing the API server with recorded responses
// (test/fixtures/kubernetes/README.md): list, watch, bookmarks, 410 Gone both ways, split and
// garbage lines, an API server that goes away and comes back, and a clean stop.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { explicitConfig } from '../collector/kubernetes/kube-config.js';
import { KubeApiError } from '../collector/kubernetes/kube-client.js';
import { PodWatcher } from '../collector/kubernetes/pod-watcher.js';
import type { PodWatcherOptions } from '../collector/kubernetes/pod-watcher.js';
import { FakeKubeApi, fixtureJson, fixtureText, json, pagedList, stream } from './support/fake-kube-api.js';

interface PodListFixture {
  metadata: { resourceVersion: string };
  items: unknown[];
}

const LIST = fixtureJson<PodListFixture>('pods-list.json');
const RELIST = fixtureJson<PodListFixture>('pods-relist.json');
const EVENTS = fixtureText('watch-events.ndjson');
const EXPIRED_EVENT = fixtureText('watch-expired.ndjson');
const EXPIRED_STATUS = fixtureJson('status-410-expired.json');

const servers: FakeKubeApi[] = [];
const watchers: PodWatcher[] = [];

afterEach(async () => {
  await Promise.all(watchers.splice(0).map((w) => w.stop()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function fakeApi(): Promise<FakeKubeApi> {
  const api = new FakeKubeApi();
  servers.push(api);
  await api.start();
  return api;
}

function watcher(api: FakeKubeApi, options: Partial<PodWatcherOptions> = {}): PodWatcher {
  const w = new PodWatcher({
    config: explicitConfig({ server: api.url, token: 'test-token' }),
    backoff: { initialMs: 20, maxMs: 200, multiplier: 2 },
    ...options,
  });
  watchers.push(w);
  return w;
}

async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const names = (w: PodWatcher): string[] => [...w.index.all()].map((p) => p.name).sort();

describe('PodWatcher', () => {
  it('fills the index from the first list, then watches from its resourceVersion', async () => {
    const api = await fakeApi();
    api.enqueueList(json(200, LIST));
    const w = watcher(api);
    expect(w.ready()).toBe(false);
    await w.start();
    expect(w.ready()).toBe(true);
    expect(names(w)).toEqual([
      'coredns-fb8b8dccf-5cdzc', 'etcd-kind-control-plane', 'ingress-nginx-controller-5b4f59554f-sc7hq', 'kuard',
      'kube-proxy-dt5lc', 'kubevuln-scheduler-28677846-pdblz', 'storage-provisioner', 'web-0',
    ]);
    const workload = (uid: string): string => {
      const p = w.index.get(uid);
      return `${p?.workload.kind}/${p?.workload.name} ${JSON.stringify(p?.httpPorts)}`;
    };
    expect(workload('481bd73f-54af-11e9-bf69-08002717ab34')).toBe('Deployment/coredns []');
    expect(workload('0b5c8a57-4a0e-4a53-9c53-2f5b2a1e7c11')).toBe('Deployment/ingress-nginx-controller [80,443]');
    expect(workload('58fd3633-e33d-4067-89aa-1ba99aa6e856')).toBe('StatefulSet/web []');
    expect(workload('efbb0387-54e4-11e9-a9b8-08002717ab34')).toBe('DaemonSet/kube-proxy []');
    expect(workload('d8aa9a47-ad0f-4bbe-bc12-ab31605d3211')).toBe('Pod/kuard [8080]');
    expect(w.index.hostNetworkPods('kind-control-plane').map((p) => p.name).sort()).toEqual(['etcd-kind-control-plane', 'storage-provisioner']);
    expect(w.index.hostNetworkPods('kind-worker').map((p) => p.name)).toEqual(['kube-proxy-dt5lc']);

    const [list] = api.listRequests();
    expect(list?.query.get('limit')).toBe('500');
    expect(list?.authorization).toBe('Bearer test-token');
    const [watch] = await api.waitForRequests((r) => r.watch);
    expect(Object.fromEntries(watch!.query)).toMatchObject({
      watch: 'true', resourceVersion: '861600', allowWatchBookmarks: 'true',
    });
    const timeout = Number(watch!.query.get('timeoutSeconds'));
    expect(timeout).toBeGreaterThanOrEqual(300);
    expect(timeout).toBeLessThanOrEqual(600);
    expect(w.stats()).toMatchObject({ lists: 1, relists: 0, watches: 1, errors: 0, pods: 8, resourceVersion: '861600' });
  });

  it('applies ADDED/MODIFIED/DELETED, follows a bookmark, and rewatches from it when the server ends the watch', async () => {
    const api = await fakeApi();
    api.enqueueList(json(200, LIST));
    api.enqueueWatch(stream(EVENTS));
    const w = watcher(api);
    await w.start();
    const watches = await api.waitForRequests((r) => r.watch, 2);
    expect(watches.map((r) => r.query.get('resourceVersion'))).toEqual(['861600', '861700']);

    const web1 = w.index.get('7a1c2e54-3b9d-4f61-8e0a-5d2c9b7f4e13');
    expect(web1).toMatchObject({ name: 'web-1', podIP: '10.244.1.14', nodeName: 'kind-worker', workload: { kind: 'StatefulSet', name: 'web' } });
    // The CronJob's finished pod was deleted mid-watch: it leaves the index, by uid and by node.
    expect(w.index.get('45f7b146-be87-4439-94ff-451b06111933')).toBeUndefined();
    expect(w.index.onNode('kind-worker').map((p) => p.name)).not.toContain('kubevuln-scheduler-28677846-pdblz');
    expect(w.index.size).toBe(8);
    expect(w.stats()).toMatchObject({
      events: { ADDED: 1, MODIFIED: 2, DELETED: 1, BOOKMARK: 1, ERROR: 0 },
      resourceVersion: '861700', lists: 1, watches: 2, errors: 0, badLines: 0,
    });
  });

  it('relists on an ERROR event with code 410 and drops the pods that vanished', async () => {
    const api = await fakeApi();
    api.enqueueList(json(200, LIST), json(200, RELIST));
    api.enqueueWatch(stream(EVENTS), stream(EXPIRED_EVENT));
    const w = watcher(api);
    await w.start();
    const watches = await api.waitForRequests((r) => r.watch, 3);
    expect(watches.map((r) => r.query.get('resourceVersion'))).toEqual(['861600', '861700', '862000']);
    expect(api.listRequests()).toHaveLength(2);
    // kuard was deleted while the watch could not say so; web-2 appeared.
    expect(w.index.get('d8aa9a47-ad0f-4bbe-bc12-ab31605d3211')).toBeUndefined();
    expect(w.index.get('c93e1d07-58a2-4b6e-a4f1-0e7d3c2b9a88')?.name).toBe('web-2');
    expect(names(w)).toEqual([
      'coredns-fb8b8dccf-5cdzc', 'etcd-kind-control-plane', 'ingress-nginx-controller-5b4f59554f-sc7hq', 'kube-proxy-dt5lc',
      'storage-provisioner', 'web-0', 'web-1', 'web-2',
    ]);
    expect(w.stats()).toMatchObject({ lists: 2, relists: 1, errors: 0, resourceVersion: '862000', events: { ERROR: 1 } });
    expect(w.ready()).toBe(true);
  });

  it('relists on an HTTP 410 answer to the watch request', async () => {
    const api = await fakeApi();
    api.enqueueList(json(200, LIST), json(200, RELIST));
    api.enqueueWatch(json(410, EXPIRED_STATUS));
    const w = watcher(api);
    await w.start();
    const watches = await api.waitForRequests((r) => r.watch, 2);
    expect(watches.map((r) => r.query.get('resourceVersion'))).toEqual(['861600', '862000']);
    expect(w.index.get('d8aa9a47-ad0f-4bbe-bc12-ab31605d3211')).toBeUndefined();
    expect(w.index.size).toBe(RELIST.items.length);
    expect(w.stats()).toMatchObject({ lists: 2, relists: 1, errors: 0 });
  });

  it('rewatches from the same resourceVersion after an ERROR event that is not 410, without relisting', async () => {
    const api = await fakeApi();
    api.enqueueList(json(200, LIST));
    const lines = EVENTS.trimEnd().split('\n');
    const internal = '{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"etcdserver: request timed out","reason":"InternalError","code":500}}';
    api.enqueueWatch(stream(`${lines[0]}\n${lines[1]}\n${internal}\n${lines.slice(2).join('\n')}\n`));
    const w = watcher(api);
    await w.start();
    const watches = await api.waitForRequests((r) => r.watch, 2);
    expect(watches.map((r) => r.query.get('resourceVersion'))).toEqual(['861600', '861615']);
    expect(w.stats()).toMatchObject({ lists: 1, relists: 0, errors: 1, events: { ADDED: 1, MODIFIED: 1, ERROR: 1, DELETED: 0 } });
  });

  it('reads lines split anywhere across chunks, large lines included', async () => {
    const api = await fakeApi();
    api.enqueueList(json(200, LIST));
    // A pod carrying a 1 MB annotation, as a last-applied-configuration can be.
    const big = JSON.parse(EVENTS.split('\n')[1]!) as { object: { metadata: { annotations?: Record<string, string> } } };
    big.object.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(1_000_000) };
    const body = `${EVENTS.split('\n')[0]}\n${JSON.stringify(big)}\n${EVENTS.split('\n').slice(2).join('\n')}`;
    api.enqueueWatch(stream(body, { chunkSizes: [1, 7, 100, 3, 65_536, 2, 4_096], gapMs: 0 }));
    const w = watcher(api);
    await w.start();
    await api.waitForRequests((r) => r.watch, 2);
    expect(w.stats()).toMatchObject({ events: { ADDED: 1, MODIFIED: 2, DELETED: 1, BOOKMARK: 1 }, badLines: 0, resourceVersion: '861700' });
    expect(w.index.get('7a1c2e54-3b9d-4f61-8e0a-5d2c9b7f4e13')?.podIP).toBe('10.244.1.14');
  });

  it('counts and skips a garbage line without losing the watch', async () => {
    const api = await fakeApi();
    api.enqueueList(json(200, LIST));
    const lines = EVENTS.trimEnd().split('\n');
    const body = [lines[0], '<html>502 Bad Gateway</html>', '{"type":"ADDED","object":{"kind":"Pod"}}', '{"type":"ADDED","obj', ...lines.slice(1)].join('\n') + '\n';
    api.enqueueWatch(stream(body, { end: false }));
    const w = watcher(api);
    await w.start();
    await until(() => w.stats().events.BOOKMARK === 1, 'the bookmark after the garbage');
    expect(w.stats()).toMatchObject({ badLines: 3, watches: 1, errors: 0, resourceVersion: '861700' });
    expect(w.index.get('45f7b146-be87-4439-94ff-451b06111933')).toBeUndefined();
    expect(api.watchRequests()).toHaveLength(1);
  });

  it('follows continue tokens through a paginated list', async () => {
    const api = await fakeApi();
    api.listDefault = pagedList(LIST, 3);
    const w = watcher(api, { listPageSize: 3 });
    await w.start();
    expect(api.listRequests().map((r) => r.query.get('continue'))).toEqual([null, '3', '6']);
    expect(w.index.size).toBe(LIST.items.length);
    expect(w.stats().lists).toBe(1);
  });

  it('retries the first list with backoff, and start() resolves once one succeeds', async () => {
    const api = await fakeApi();
    api.enqueueList(json(500, { kind: 'Status', code: 500 }), json(429, { kind: 'Status', code: 429 }), json(200, LIST));
    const w = watcher(api);
    await w.start();
    expect(w.stats()).toMatchObject({ lists: 3, errors: 2, pods: 8 });
  });

  it('start() rejects when the first list is forbidden (missing RBAC fails fast)', async () => {
    const api = await fakeApi();
    api.enqueueList(json(403, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'pods is forbidden: User "system:serviceaccount:fleetstat:collector" cannot list resource "pods"', reason: 'Forbidden', code: 403 }));
    const w = watcher(api);
    const error = await w.start().then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(KubeApiError);
    expect(error).toMatchObject({ status: 403, reason: 'Forbidden' });
    expect((error as Error).message).toMatch(/cannot list resource "pods"/);
    expect(api.listRequests()).toHaveLength(1);
  });

  it('survives the API server going away and coming back, with backoff, resuming from its resourceVersion', async () => {
    const api = await fakeApi();
    api.enqueueList(json(200, LIST));
    api.enqueueWatch(stream(EVENTS, { end: false }));
    const w = watcher(api, { backoff: { initialMs: 50, maxMs: 400, multiplier: 2 } });
    await w.start();
    await until(() => w.stats().events.BOOKMARK === 1, 'the first watch to deliver');
    const port = api.port;
    await api.close();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const down = w.stats();
    // With 50 → 400 ms backoff, 1.5 s of refused connections is a handful of attempts, not thousands.
    expect(down.errors).toBeGreaterThanOrEqual(3);
    expect(down.errors).toBeLessThanOrEqual(12);
    expect(down.ready).toBe(true);
    expect(down.pods).toBe(8);

    const back = new FakeKubeApi();
    servers.push(back);
    await back.start(port);
    const [watch] = await back.waitForRequests((r) => r.watch, 1, 3_000);
    expect(watch?.query.get('resourceVersion')).toBe('861700');
    expect(back.listRequests()).toHaveLength(0);
  });

  it('stop() ends a held-open watch, is safe twice, and start() afterwards rejects', async () => {
    const api = await fakeApi();
    api.enqueueList(json(200, LIST));
    const w = watcher(api);
    await w.start();
    await api.waitForRequests((r) => r.watch);
    await Promise.all([w.stop(), w.stop()]);
    await w.stop();
    await expect(w.start()).rejects.toThrow(/stopped/);
  });

  it('stop() before the first list rejects start() and ends the backoff wait', async () => {
    const api = await fakeApi();
    const w = watcher(api, { backoff: { initialMs: 60_000, maxMs: 60_000, multiplier: 1 } });
    const started = w.start();
    await api.waitForRequests((r) => !r.watch);
    const t0 = Date.now();
    await w.stop();
    expect(Date.now() - t0).toBeLessThan(1_000);
    await expect(started).rejects.toThrow(/stopped before the first list/);
  });

  it('leaves nothing behind: a process that starts and stops a watcher exits by itself', async () => {
    const api = await fakeApi();
    api.enqueueList(json(200, LIST));
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./support/pod-watcher-child.ts', import.meta.url)), api.url], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let printedAt = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      printedAt = Date.now();
    });
    const exited = once(child, 'exit');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const [code, signal] = (await exited) as [number | null, string | null];
    clearTimeout(timer);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    // The child prints after stop() and returns: its event loop drained on its own, promptly.
    expect(Date.now() - printedAt).toBeLessThan(1_000);
    const report = JSON.parse(out) as { stats: { ready: boolean; watches: number } };
    expect(report.stats).toMatchObject({ ready: true, watches: 1 });
    expect(api.watchRequests()).toHaveLength(1);
  });
});
