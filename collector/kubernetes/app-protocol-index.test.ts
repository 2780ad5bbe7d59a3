import { describe, expect, it } from 'vitest';
import { fixtureJson } from '../../test/support/fake-kube-api.js';
import { AppProtocolIndex, podHttpPorts } from './app-protocol-index.js';
import { isHttpAppProtocol, toSlicePorts } from './endpoint-slice-ports.js';
import type { SlicePorts } from './endpoint-slice-ports.js';
import { toPodInfo } from './pod-info.js';

const slices = fixtureJson<{ items: unknown[] }>('endpointslices-list.json').items.map((raw) => toSlicePorts(raw)!);
const pods = fixtureJson<{ items: unknown[] }>('pods-list.json').items.map((raw) => toPodInfo(raw)!);
const INGRESS = '0b5c8a57-4a0e-4a53-9c53-2f5b2a1e7c11';
const WEB_0 = '58fd3633-e33d-4067-89aa-1ba99aa6e856';
const COREDNS = '481bd73f-54af-11e9-bf69-08002717ab34';

describe('toSlicePorts on recorded EndpointSlices', () => {
  it('keeps appProtocol HTTP ports and the pods behind them', () => {
    expect(slices.map((s) => [s.uid.slice(0, 8), s.ports, s.podUids.length])).toEqual([
      ['a60d9173', [], 0], // kubernetes: port named https, but no appProtocol, and no pod
      ['7c95c854', [], 0], // kube-dns: dns and metrics
      ['3f0c5e7a', [80, 443], 1],
      ['b1e2d3c4', [80], 1], // the StatefulSet's port is named "web", but declared appProtocol http
    ]);
  });

  it('knows which appProtocol values are HTTP', () => {
    for (const yes of ['http', 'https', 'h2c', 'HTTPS', 'kubernetes.io/h2c', 'kubernetes.io/ws', 'kubernetes.io/wss']) expect(isHttpAppProtocol(yes)).toBe(true);
    for (const no of ['', 'grpc', 'tcp', 'kubernetes.io/tcp', 'mysql']) expect(isHttpAppProtocol(no)).toBe(false);
  });

  it('skips UDP ports, targets that are not pods, and objects without a uid', () => {
    const slice = toSlicePorts({
      metadata: { uid: 's' },
      ports: [{ port: 80, appProtocol: 'http', protocol: 'UDP' }, { port: 8080, appProtocol: 'http' }, { port: 'x', appProtocol: 'http' }],
      endpoints: [{ targetRef: { kind: 'Node', uid: 'n' } }, { targetRef: { kind: 'Pod', uid: 'p' } }, {}],
    });
    expect(slice).toEqual({ uid: 's', podUids: ['p'], ports: [8080] });
    expect(toSlicePorts({ metadata: {} })).toBeUndefined();
  });
});

describe('AppProtocolIndex', () => {
  it('adds Service-declared ports to a pod named ports', () => {
    const index = new AppProtocolIndex();
    index.replaceAll(slices);
    expect(index.size).toBe(2);
    const byUid = new Map(pods.map((p) => [p.uid, p]));
    expect(podHttpPorts(byUid.get(WEB_0)!, index)).toEqual([80]);
    expect(podHttpPorts(byUid.get(INGRESS)!, index)).toEqual([80, 443]);
    expect(podHttpPorts(byUid.get(COREDNS)!, index)).toEqual([]);
    expect(podHttpPorts(byUid.get(WEB_0)!, undefined)).toEqual([]);
  });

  it('unions slices, and forgets a slice that loses its HTTP ports or is removed', () => {
    const index = new AppProtocolIndex();
    const slice = (uid: string, ports: number[], podUids: string[]): SlicePorts => ({ uid, ports, podUids });
    index.upsert(slice('a', [80], ['p1', 'p2']));
    index.upsert(slice('b', [8443, 80], ['p1']));
    expect(index.portsForPod('p1')).toEqual([80, 8443]);
    index.upsert(slice('b', [], ['p1']));
    expect(index.portsForPod('p1')).toEqual([80]);
    expect(index.size).toBe(1);
    index.remove('a');
    expect(index.portsForPod('p2')).toEqual([]);
    expect(index.replaceAll([slice('c', [81], ['p3'])])).toEqual({ removed: 0, added: 1 });
  });
});
