// The optional second watch: EndpointSlices, for Service ports with an HTTP appProtocol. The
// API server already streams every slice change to kube-proxy on every node, so one more
// watcher at the collector costs it little; it needs list/watch on
// discovery.k8s.io/endpointslices in the collector's ClusterRole.

import { AppProtocolIndex } from './app-protocol-index.js';
import type { SlicePorts } from './endpoint-slice-ports.js';
import { toSlicePorts } from './endpoint-slice-ports.js';
import type { KubeConfig } from './kube-config.js';
import { uidOf } from './kube-object.js';
import type { ListWatchStats, ListWatchTuning } from './list-watch.js';
import { ListWatch } from './list-watch.js';

export const ENDPOINT_SLICES_PATH = '/apis/discovery.k8s.io/v1/endpointslices';

export interface EndpointSliceWatcherOptions extends ListWatchTuning {
  config: KubeConfig;
  index?: AppProtocolIndex;
}

export class EndpointSliceWatcher {
  readonly index: AppProtocolIndex;
  private readonly core: ListWatch<SlicePorts>;

  constructor(options: EndpointSliceWatcherOptions) {
    const { index, ...rest } = options;
    const slices = index ?? new AppProtocolIndex();
    this.index = slices;
    this.core = new ListWatch<SlicePorts>({
      ...rest,
      path: ENDPOINT_SLICES_PATH,
      resource: 'endpointslices',
      sink: {
        fromObject: toSlicePorts,
        replaceAll: (items) => slices.replaceAll(items),
        upsert: (slice) => slices.upsert(slice),
        removeObject: (raw) => {
          const uid = uidOf(raw);
          if (uid) slices.remove(uid);
          return uid !== undefined;
        },
        size: () => slices.size,
      },
    });
  }

  /** As PodWatcher.start(): resolves once the first list is in; 401/403/404 reject. */
  start(): Promise<void> {
    return this.core.start();
  }

  ready(): boolean {
    return this.core.ready();
  }

  /** `objects` counts slices that declare an HTTP port. */
  stats(): ListWatchStats {
    return this.core.stats();
  }

  stop(): Promise<void> {
    return this.core.stop();
  }
}
