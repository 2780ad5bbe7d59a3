// Pod attribution end to end in the collector: a local server plays the Kubernetes API with
// recorded responses (test/fixtures/kubernetes), the real PodWatcher feeds the collector, and
// snapshots whose namespaces name pods by cgroup get their counts put on the right pods and
// workloads. A pod deleted mid-watch leaves the per-pod and per-workload views.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkNamespace, Snapshot } from '../proto/gen/fleetstat/v1/snapshot.js';
import { Direction, Snapshot as SnapshotCodec } from '../proto/gen/fleetstat/v1/snapshot.js';
import { kubernetesDirectory } from '../collector/attribution/pod-directory.js';
import { Collector } from '../collector/collector.js';
import { explicitConfig } from '../collector/kubernetes/kube-config.js';
import { PodWatcher } from '../collector/kubernetes/pod-watcher.js';
import { FakeKubeApi, fixtureJson, fixtureText, json, stream } from './support/fake-kube-api.js';
import { fleetstat } from './support/fleetstat-cli.js';

const INGRESS = '0b5c8a57-4a0e-4a53-9c53-2f5b2a1e7c11';
const KUARD = 'd8aa9a47-ad0f-4bbe-bc12-ab31605d3211';
const CRONJOB_POD = '45f7b146-be87-4439-94ff-451b06111933';
const KUBE_PROXY = 'efbb0387-54e4-11e9-a9b8-08002717ab34';
const ESTABLISHED = 1;

function namespace(inode: number, podUid: string, host: boolean, ports: [number, 'in' | 'out', number, boolean][]): NetworkNamespace {
  return {
    inode,
    host,
    pidCount: 2,
    pids: [inode % 1000, (inode % 1000) + 1],
    processName: 'x',
    cgroup: '/',
    ports: ports.map(([port, dir, count, http]) => ({
      port,
      direction: dir === 'in' ? Direction.DIRECTION_INBOUND : Direction.DIRECTION_OUTBOUND,
      state: ESTABLISHED,
      count,
      http,
    })),
    listeners: [],
    topRemotes: [],
    totals: [],
    parse: undefined,
    containers: [{ podUid, containerId: 'c'.repeat(64), runtime: 'containerd', pidCount: 2 }],
  };
}

// kind-worker as its agent sees it, with --http-ports 80,443 (so 8080 is not HTTP to the agent).
function workerSnapshot(seq: number): Uint8Array {
  const snapshot: Snapshot = {
    cluster: 'kind',
    node: 'kind-worker',
    epoch: 7,
    seq,
    agentTimeMs: 1000 + seq,
    intervalMs: 60_000,
    goodbye: false,
    httpPorts: [80, 443],
    namespaces: [
      namespace(4026531001, KUBE_PROXY, true, [[10256, 'in', 3, false]]),
      namespace(4026532002, INGRESS, false, [[80, 'in', 5, true], [443, 'in', 3, true], [80, 'out', 4, true]]),
      // kuard names 8080 "http": HTTP by the pod's word, though not by --http-ports.
      namespace(4026532003, KUARD, false, [[8080, 'in', 2, false], [9999, 'in', 6, false]]),
      namespace(4026532004, CRONJOB_POD, false, [[443, 'out', 1, true]]),
    ],
    parse: undefined,
    agentVersion: 'test',
    detailAddress: '',
  };
  return SnapshotCodec.encode(snapshot).finish();
}

describe('pod attribution from the Kubernetes watch', () => {
  const api = new FakeKubeApi();
  let watcher: PodWatcher;
  let collector: Collector;
  let base = '';
  const get = async <T>(path: string): Promise<T> => (await (await fetch(`${base}${path}`)).json()) as T;

  beforeAll(async () => {
    const server = await api.start();
    api.enqueueList(json(200, fixtureJson('pods-list.json')));
    // Nothing queued: the first watch stays open and quiet until the test sends the recorded events.
    watcher = new PodWatcher({ config: explicitConfig({ server, token: 'test' }) });
    await watcher.start();
    collector = new Collector({
      cluster: 'kind',
      logger: pino({ level: 'silent' }),
      pods: kubernetesDirectory(watcher.index),
      podSeries: true,
    });
    const address = await collector.start('127.0.0.1', 0);
    base = `http://127.0.0.1:${address.port}`;
    expect(collector.state.ingest(workerSnapshot(1), { transport: 'grpc', claimedNode: 'kind-worker' })).toEqual({ accepted: true });
  });

  afterAll(async () => {
    await watcher.stop();
    await collector.stop();
    await api.close();
  });

  it('puts each namespace\'s counts on its pod, with names and workloads from the watch', async () => {
    const pods = await get<{ namespace: string; pod: string; workloadKind: string; workload: string; httpConnections: number }[]>('/api/v1/pods');
    expect(pods.map((p) => [p.namespace, p.pod, `${p.workloadKind}/${p.workload}`, p.httpConnections])).toEqual([
      ['ingress-nginx', 'ingress-nginx-controller-5b4f59554f-sc7hq', 'Deployment/ingress-nginx-controller', 12],
      ['default', 'kuard', 'Pod/kuard', 2],
      ['kubescape', 'kubevuln-scheduler-28677846-pdblz', 'CronJob/kubevuln-scheduler', 1],
    ]);
    const workloads = await get<{ namespace: string; kind: string; name: string; pods: number; httpConnections: number }[]>('/api/v1/workloads');
    expect(workloads.map((w) => `${w.namespace}/${w.kind}/${w.name}=${w.httpConnections}`)).toEqual([
      'ingress-nginx/Deployment/ingress-nginx-controller=12',
      'default/Pod/kuard=2',
      'kubescape/CronJob/kubevuln-scheduler=1',
    ]);
  });

  it('counts a port the pod names http as HTTP on the node too, and nothing else', async () => {
    const summary = await get<{ httpConnections: number; connections: { port: number; direction: string; count: number }[] }>('/api/v1/summary');
    expect(summary.httpConnections).toBe(5 + 3 + 4 + 2 + 1);
    expect(summary.connections.find((c) => c.port === 8080)).toMatchObject({ direction: 'inbound', count: 2 });
    expect(summary.connections.some((c) => c.port === 9999 || c.port === 10256)).toBe(false);

    // The node's per-namespace detail judges HTTP the same way as the totals.
    const node = await get<{ namespacesDetail: { inode: number; connections: { port: number; direction: string; count: number }[] }[] }>('/api/v1/nodes/kind-worker');
    const byInode = new Map(node.namespacesDetail.map((ns) => [ns.inode, ns.connections.map((c) => `${c.port}/${c.direction}=${c.count}`)]));
    expect(byInode.get(4026532003)).toEqual(['8080/inbound=2']);
    expect(byInode.get(4026531001)).toEqual([]);
    expect(byInode.get(4026532002)).toEqual(['80/inbound=5', '80/outbound=4', '443/inbound=3']);
  });

  it('exports workload series, and pod series when asked', async () => {
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain(
      'fleetstat_workload_http_connections{namespace="default",workload_kind="Pod",workload="kuard",port="8080",state="ESTABLISHED",direction="inbound"} 2',
    );
    expect(metrics).toContain(
      'fleetstat_pod_http_connections{namespace="ingress-nginx",pod="ingress-nginx-controller-5b4f59554f-sc7hq",node="kind-worker",port="80",state="ESTABLISHED",direction="outbound"} 4',
    );
  });

  it('fleetstat top ranks pods and workloads', async () => {
    const pods = await fleetstat(['top', '--collector', base, '--by', 'pod']);
    expect(pods.code).toBe(0);
    expect(pods.stdout.split('\n')[1]).toMatch(/^ingress-nginx\s+ingress-nginx-controller-5b4f59554f-sc7hq\s+kind-worker\s+Deployment\/ingress-nginx-controller\s+12$/);
    const workloads = await fleetstat(['top', '--collector', base, '--by', 'workload', '-o', 'json']);
    expect((JSON.parse(workloads.stdout) as { name: string }[]).map((w) => w.name)).toEqual(['ingress-nginx-controller', 'kuard', 'kubevuln-scheduler']);
    const namespaces = await fleetstat(['top', '--collector', base, '--by', 'namespace']);
    expect(namespaces.stdout.split('\n').slice(1, 4).map((l) => l.split(/\s+/).join(' '))).toEqual([
      'ingress-nginx 1 12',
      'default 1 2',
      'kubescape 1 1',
    ]);
  });

  it('a pod deleted mid-watch leaves the pod and workload views', async () => {
    // The quiet watch ends; the next one carries the recorded events, the CronJob pod's DELETED among them.
    api.enqueueWatch(stream(fixtureText('watch-events.ndjson'), { end: false }));
    api.endOpenWatches();
    for (let i = 0; i < 100 && watcher.index.get(CRONJOB_POD); i++) await new Promise((r) => setTimeout(r, 20));
    expect(watcher.index.get(CRONJOB_POD)).toBeUndefined();
    const pods = await get<{ pod: string }[]>('/api/v1/pods');
    expect(pods.map((p) => p.pod)).not.toContain('kubevuln-scheduler-28677846-pdblz');
    const workloads = await get<{ name: string }[]>('/api/v1/workloads');
    expect(workloads.map((w) => w.name)).not.toContain('kubevuln-scheduler');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).not.toContain('kubevuln');
  });
});
