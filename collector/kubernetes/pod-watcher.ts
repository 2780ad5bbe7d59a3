// One list+watch of every pod in the cluster, at the collector: at 5,000 nodes, one watch per
// agent would be 5,000 watches on the API server, and agents would need API credentials. The
// protocol (resourceVersion, bookmarks, 410 relist, backoff) is ListWatch's; this file only
// says which collection and how a pod is kept (PodInfo in a PodIndex).

import type { KubeConfig } from './kube-config.js';
import { uidOf } from './kube-object.js';
import type { ListWatchStats, ListWatchTuning } from './list-watch.js';
import { ListWatch } from './list-watch.js';
import { PodIndex } from './pod-index.js';
import type { PodInfo } from './pod-info.js';
import { toPodInfo } from './pod-info.js';

export const PODS_PATH = '/api/v1/pods';

export interface PodWatcherOptions extends ListWatchTuning {
  config: KubeConfig;
  /** Filled and kept current; a fresh one when absent (see PodWatcher.index). */
  index?: PodIndex;
}

export type PodWatcherStats = Omit<ListWatchStats, 'objects'> & { pods: number };

export class PodWatcher {
  readonly index: PodIndex;
  private readonly core: ListWatch<PodInfo>;

  constructor(options: PodWatcherOptions) {
    const { index, ...rest } = options;
    const pods = index ?? new PodIndex();
    this.index = pods;
    this.core = new ListWatch<PodInfo>({
      ...rest,
      path: PODS_PATH,
      resource: 'pods',
      sink: {
        fromObject: toPodInfo,
        replaceAll: (items) => pods.replaceAll(items),
        upsert: (pod) => pods.upsert(pod),
        removeObject: (raw) => {
          const uid = uidOf(raw);
          if (uid) pods.remove(uid);
          return uid !== undefined;
        },
        size: () => pods.size,
      },
    });
  }

  /**
   * Resolves once the first list is in the index; retries transient failures meanwhile and
   * rejects on 401/403/404 (missing RBAC, wrong server). The same promise on a second call.
   */
  start(): Promise<void> {
    return this.core.start();
  }

  /** True once the first list is in (for /readyz); stays true through later relists. */
  ready(): boolean {
    return this.core.ready();
  }

  stats(): PodWatcherStats {
    const { objects, ...rest } = this.core.stats();
    return { ...rest, pods: objects };
  }

  /** Ends the watch, any backoff wait and every socket; safe to call twice. */
  stop(): Promise<void> {
    return this.core.stop();
  }
}
