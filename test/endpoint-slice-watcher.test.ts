// EndpointSliceWatcher against the local fake API server: Service appProtocol ports reach the
// pods behind them, a slice's watch events update them, and a deleted slice takes them away.

import { afterEach, describe, expect, it } from 'vitest';
import { podHttpPorts } from '../collector/kubernetes/app-protocol-index.js';
import { ENDPOINT_SLICES_PATH, EndpointSliceWatcher } from '../collector/kubernetes/endpoint-slice-watcher.js';
import { explicitConfig } from '../collector/kubernetes/kube-config.js';
import { PodIndex } from '../collector/kubernetes/pod-index.js';
import { toPodInfo } from '../collector/kubernetes/pod-info.js';
import { FakeKubeApi, fixtureJson, fixtureText, json, stream } from './support/fake-kube-api.js';

const WEB_0 = '58fd3633-e33d-4067-89aa-1ba99aa6e856';
const WEB_1 = '7a1c2e54-3b9d-4f61-8e0a-5d2c9b7f4e13';
const INGRESS = '0b5c8a57-4a0e-4a53-9c53-2f5b2a1e7c11';

let api: FakeKubeApi | undefined;
let watcher: EndpointSliceWatcher | undefined;
afterEach(async () => {
  await watcher?.stop();
  await api?.close();
});

describe('EndpointSliceWatcher', () => {
  it('lists and watches slices, and their appProtocol ports follow', async () => {
    api = new FakeKubeApi(ENDPOINT_SLICES_PATH);
    await api.start();
    api.enqueueList(json(200, fixtureJson('endpointslices-list.json')));
    api.enqueueWatch(stream(fixtureText('endpointslices-watch.ndjson')));
    watcher = new EndpointSliceWatcher({ config: explicitConfig({ server: api.url }), backoff: { initialMs: 20, maxMs: 200, multiplier: 2 } });
    await watcher.start();
    const pods = new PodIndex();
    pods.replaceAll(fixtureJson<{ items: unknown[] }>('pods-list.json').items.map((raw) => toPodInfo(raw)!));
    const watches = await api.waitForRequests((r) => r.watch, 2);
    expect(watches.map((r) => [r.path, r.query.get('resourceVersion')])).toEqual([
      [ENDPOINT_SLICES_PATH, '861600'],
      [ENDPOINT_SLICES_PATH, '861700'],
    ]);
    expect(podHttpPorts(pods.get(WEB_0)!, watcher.index)).toEqual([80]);
    // web-1 joined the Service's slice (not ready yet, but listening soon); ingress-nginx's Service was deleted.
    expect(watcher.index.portsForPod(WEB_1)).toEqual([80]);
    expect(podHttpPorts(pods.get(INGRESS)!, watcher.index)).toEqual([80, 443]); // still its named container ports
    expect(watcher.index.portsForPod(INGRESS)).toEqual([]);
    expect(watcher.stats()).toMatchObject({ objects: 1, lists: 1, errors: 0, events: { MODIFIED: 1, DELETED: 1, BOOKMARK: 1 } });
  });
});
