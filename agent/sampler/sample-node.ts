// One sample of a node: every network namespace's tables read once and counted.
// Synchronous by design; long-running callers run it on a worker thread (sampler.ts).

import type { NetworkNamespace, ParseStats } from '../../proto/gen/fleetstat/v1/snapshot.js';
import type { NetnsMode } from '../netns/discover-namespaces.js';
import { discoverNamespaces } from '../netns/discover-namespaces.js';
import { containersOf } from '../netns/namespace-containers.js';
import { PodIdentityCache } from '../netns/pod-identity-cache.js';
import { NamespaceTableReader } from '../netns/read-namespace-tables.js';
import { TABLE_NAMES } from '../procfs/net-tables.js';
import { addScanStats, emptyScanStats } from '../procfs/scan-stats.js';
import { countNamespace, parseStatsOf } from '../snapshot/count-namespace.js';

export interface SampleOptions {
  procRoot: string;
  netns: NetnsMode;
  httpPorts: readonly number[];
  topK: number;
  /** Pids listed per namespace in the snapshot (all are counted in pidCount). */
  maxPidsListed: number;
}

/** What the sampling worker is started with: sampling options plus the node's name for replies. */
export interface WorkerOptions extends SampleOptions {
  node: string;
}

export interface NodeSample {
  namespaces: NetworkNamespace[];
  parse: ParseStats;
  /** Processes that exited while the sample was taken. */
  vanishedPids: number;
}

export class NodeSampler {
  private readonly reader: NamespaceTableReader;
  private readonly httpPorts: ReadonlySet<number>;
  private readonly identities: PodIdentityCache;

  constructor(private readonly options: SampleOptions) {
    this.reader = new NamespaceTableReader(options.procRoot);
    this.httpPorts = new Set(options.httpPorts);
    this.identities = new PodIdentityCache(options.procRoot);
  }

  sample(): NodeSample {
    const started = process.hrtime.bigint();
    const discovery = discoverNamespaces(this.options.procRoot, this.options.netns);
    const total = emptyScanStats();
    let files = 0;
    let failedFiles = 0;
    const namespaces: NetworkNamespace[] = [];
    for (const ns of discovery.namespaces) {
      const readStart = process.hrtime.bigint();
      const { tables, missing } = this.reader.read(ns.pids, TABLE_NAMES);
      const counts = countNamespace(tables, { httpPorts: this.httpPorts, topK: this.options.topK });
      const micros = Number((process.hrtime.bigint() - readStart) / 1000n);
      const read = TABLE_NAMES.length - missing.length;
      files += read;
      failedFiles += missing.length;
      addScanStats(total, counts.stats);
      namespaces.push({
        inode: ns.inode,
        host: ns.host,
        pidCount: ns.pids.length,
        pids: ns.pids.slice(0, this.options.maxPidsListed),
        processName: ns.processName,
        cgroup: ns.cgroup,
        ports: counts.ports,
        listeners: counts.listeners,
        topRemotes: counts.topRemotes,
        totals: counts.totals,
        parse: parseStatsOf(counts.stats, micros, read, missing.length),
        containers: containersOf(ns.pids, this.identities),
      });
    }
    this.identities.prune(new Set(discovery.namespaces.flatMap((ns) => ns.pids)));
    const micros = Number((process.hrtime.bigint() - started) / 1000n);
    return {
      namespaces,
      parse: parseStatsOf(total, micros, files, failedFiles),
      vanishedPids: discovery.stats.vanished,
    };
  }
}
