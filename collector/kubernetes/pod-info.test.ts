import { describe, expect, it } from 'vitest';
import { fixtureJson } from '../../test/support/fake-kube-api.js';
import { httpPortsOf, isHttpPortName, resolveWorkload, toPodInfo } from './pod-info.js';

const list = fixtureJson<{ items: unknown[] }>('pods-list.json');
const byName = new Map(list.items.map((raw) => {
  const pod = toPodInfo(raw);
  if (!pod) throw new Error('fixture pod without uid');
  return [pod.name, pod];
}));

describe('toPodInfo on recorded pods', () => {
  it('resolves each kind of owner to its workload', () => {
    const workloads = Object.fromEntries([...byName].map(([name, pod]) => [name, `${pod.workload.kind}/${pod.workload.name}`]));
    expect(workloads).toEqual({
      'coredns-fb8b8dccf-5cdzc': 'Deployment/coredns',
      'ingress-nginx-controller-5b4f59554f-sc7hq': 'Deployment/ingress-nginx-controller',
      'web-0': 'StatefulSet/web',
      'kube-proxy-dt5lc': 'DaemonSet/kube-proxy',
      'etcd-kind-control-plane': 'StaticPod/etcd',
      'storage-provisioner': 'Pod/storage-provisioner',
      kuard: 'Pod/kuard',
      'kubevuln-scheduler-28677846-pdblz': 'CronJob/kubevuln-scheduler',
    });
  });

  it('keeps only what fleetstat needs', () => {
    expect(byName.get('ingress-nginx-controller-5b4f59554f-sc7hq')).toEqual({
      uid: '0b5c8a57-4a0e-4a53-9c53-2f5b2a1e7c11',
      name: 'ingress-nginx-controller-5b4f59554f-sc7hq',
      namespace: 'ingress-nginx',
      nodeName: 'kind-worker',
      hostNetwork: false,
      podIP: '10.244.1.7',
      workload: { kind: 'Deployment', name: 'ingress-nginx-controller' },
      httpPorts: [80, 443],
      configUid: '',
    });
    expect(byName.get('kube-proxy-dt5lc')).toMatchObject({ hostNetwork: true, podIP: '172.19.0.3', httpPorts: [] });
    expect(byName.get('etcd-kind-control-plane')?.configUid).toBe('18c827a17f0a6b507c2029890cd786ad');
  });

  it('takes ports named http/https, not dns, metrics, web or webhook', () => {
    expect(byName.get('kuard')?.httpPorts).toEqual([8080]);
    expect(byName.get('coredns-fb8b8dccf-5cdzc')?.httpPorts).toEqual([]);
    expect(byName.get('web-0')?.httpPorts).toEqual([]);
  });
});

describe('isHttpPortName', () => {
  it.each([
    ['http', true], ['https', true], ['h2c', true], ['http-metrics', true], ['https-admin', true], ['h2c-api', true], ['HTTP', true],
    ['web', false], ['http2', false], ['grpc', false], ['httpx', false], ['metrics-http', false], ['webhook', false], ['', false],
  ])('%s → %s', (name, expected) => {
    expect(isHttpPortName(name)).toBe(expected);
  });
});

describe('httpPortsOf', () => {
  it('reads sidecars, skips UDP, dedupes and sorts', () => {
    const spec = {
      containers: [
        { name: 'app', ports: [{ name: 'https', containerPort: 8443 }, { name: 'http', containerPort: 8080, protocol: 'TCP' }] },
        { name: 'quic', ports: [{ name: 'http-quic', containerPort: 443, protocol: 'UDP' }] },
      ],
      initContainers: [
        { name: 'proxy', restartPolicy: 'Always', ports: [{ name: 'http-proxy', containerPort: 15001 }, { name: 'http-dup', containerPort: 8080 }] },
        { name: 'migrate', ports: [{ name: 'http', containerPort: 9999 }] },
      ],
    };
    expect(httpPortsOf(spec)).toEqual([8080, 8443, 15001]);
  });

  it('treats malformed ports as absent', () => {
    expect(httpPortsOf({ containers: [{ ports: [{ name: 'http', containerPort: '80' }, { name: 'http-x', containerPort: 70000 }, null] }] })).toEqual([]);
    expect(httpPortsOf({ containers: 'nope' })).toEqual([]);
    expect(httpPortsOf(undefined)).toEqual([]);
  });
});

describe('resolveWorkload', () => {
  const base = { name: 'p', nodeName: 'n1', templateHash: undefined, mirror: false };
  const rs = (name: string) => [{ kind: 'ReplicaSet', name, controller: true }];

  it('strips the pod-template-hash from a ReplicaSet only when the label matches', () => {
    expect(resolveWorkload({ ...base, owners: rs('api-6d4cf56db6'), templateHash: '6d4cf56db6' })).toEqual({ kind: 'Deployment', name: 'api' });
    expect(resolveWorkload({ ...base, owners: rs('api-v2'), templateHash: '6d4cf56db6' })).toEqual({ kind: 'ReplicaSet', name: 'api-v2' });
    expect(resolveWorkload({ ...base, owners: rs('api-6d4cf56db6') })).toEqual({ kind: 'ReplicaSet', name: 'api-6d4cf56db6' });
  });

  it('maps a Job with a scheduled-minute suffix to its CronJob, and nothing else', () => {
    const job = (name: string) => [{ kind: 'Job', name, controller: true }];
    expect(resolveWorkload({ ...base, owners: job('backup-28677846') })).toEqual({ kind: 'CronJob', name: 'backup' });
    expect(resolveWorkload({ ...base, owners: job('migrate-2') })).toEqual({ kind: 'Job', name: 'migrate-2' });
    expect(resolveWorkload({ ...base, owners: job('migrate') })).toEqual({ kind: 'Job', name: 'migrate' });
  });

  it('prefers the controller reference and keeps unknown owners as they are', () => {
    const owners = [{ kind: 'ConfigMap', name: 'x', controller: false }, { kind: 'Rollout', name: 'canary', controller: true }];
    expect(resolveWorkload({ ...base, owners })).toEqual({ kind: 'Rollout', name: 'canary' });
  });

  it('names a static pod without its node suffix, by owner or by mirror annotation', () => {
    expect(resolveWorkload({ ...base, name: 'kube-apiserver-n1', owners: [{ kind: 'Node', name: 'n1', controller: true }] })).toEqual({ kind: 'StaticPod', name: 'kube-apiserver' });
    expect(resolveWorkload({ ...base, name: 'etcd-n1', owners: [], mirror: true })).toEqual({ kind: 'StaticPod', name: 'etcd' });
    expect(resolveWorkload({ ...base, name: 'odd', owners: [], mirror: true })).toEqual({ kind: 'StaticPod', name: 'odd' });
  });
});

describe('toPodInfo on bad input', () => {
  it('returns undefined without uid or name, never throws', () => {
    expect(toPodInfo(null)).toBeUndefined();
    expect(toPodInfo({ metadata: { name: 'x' } })).toBeUndefined();
    expect(toPodInfo({ metadata: { uid: 'u', name: 'x', ownerReferences: 'bad', labels: 7 }, spec: [] })).toEqual({
      uid: 'u', name: 'x', namespace: '', nodeName: '', hostNetwork: false, podIP: '', workload: { kind: 'Pod', name: 'x' }, httpPorts: [], configUid: '',
    });
  });
});
