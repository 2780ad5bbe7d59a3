// /metrics: the fleet's connection gauges computed at scrape time from FleetState (O(answer);
// the per-node ones as text, fleet-gauges-text.ts),
// the ingest counters, and the process's own metrics.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FleetState } from '../fleet-state.js';
import type { SurgeDetector } from '../alerts/surge-detector.js';
import { ALERT_KINDS } from '../alerts/alert-types.js';
import { connectionLabels } from './fleet-views.js';
import { fleetGaugesText } from './fleet-gauges-text.js';
import { livePodCounts } from '../attribution/pod-views.js';
import type { HistoryThread } from '../history/history-thread.js';
import { historyMetrics } from './history-metrics.js';

/** prom-client's registry with the per-node gauges appended as text (see fleet-gauges-text.ts). */
class FleetRegistry extends Registry {
  constructor(private readonly state: FleetState) {
    super();
  }

  override async metrics(): Promise<string> {
    return `${await super.metrics()}\n${fleetGaugesText(this.state)}`;
  }
}

export function fleetMetrics(state: FleetState, options: { podSeries?: boolean; alerts?: SurgeDetector; history?: HistoryThread } = {}): Registry {
  const registry = new FleetRegistry(state);
  collectDefaultMetrics({ register: registry, prefix: 'fleetstat_collector_' });

  new Gauge({
    name: 'fleetstat_nodes',
    help: 'Nodes known to the collector, by status (live or stale).',
    labelNames: ['status'],
    registers: [registry],
    collect() {
      const { live, stale } = state.registry.statusCounts();
      this.set({ status: 'live' }, live);
      this.set({ status: 'stale' }, stale);
    },
  });

  if (state.pods.enabled) podGauges(registry, state, options.podSeries === true);
  const alerts = options.alerts;
  if (alerts) {
    new Gauge({
      name: 'fleetstat_alerts_active',
      help: 'Surge alerts now active, by kind (connection_surge, syn_surge, accept_queue).',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        this.reset();
        for (const kind of ALERT_KINDS) this.set({ kind }, 0);
        for (const alert of alerts.active()) this.inc({ kind: alert.kind });
      },
    });
  }
  countersFrom(registry, state);
  if (options.history) historyMetrics(registry, options.history);
  const size = new Histogram({
    name: 'fleetstat_snapshot_size_bytes',
    help: 'Size of accepted snapshots.',
    buckets: [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304],
    registers: [registry],
  });
  state.onAcceptedBytes = (bytes) => size.observe(bytes);
  return registry;
}

/** Counters mirror FleetState's plain counts at scrape time, so ingest stays free of prom-client. */
function countersFrom(registry: Registry, state: FleetState): void {
  new Counter({
    name: 'fleetstat_ingest_snapshots_received_total',
    help: 'Snapshots received, by transport.',
    labelNames: ['transport'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [transport, count] of state.counters.received) this.inc({ transport }, count);
    },
  });
  new Counter({
    name: 'fleetstat_ingest_snapshots_accepted_total',
    help: 'Snapshots accepted (valid and newer than the node\'s last).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(state.counters.accepted);
    },
  });
  new Counter({
    name: 'fleetstat_ingest_snapshots_rejected_total',
    help: 'Snapshots rejected, by reason.',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, count] of state.counters.rejected) this.inc({ reason }, count);
    },
  });
}

/**
 * Per-workload series always (bounded by the number of workloads); per-pod series only when
 * asked for, since pods come and go and each one would leave series behind in Prometheus.
 */
function podGauges(registry: Registry, state: FleetState, podSeries: boolean): void {
  new Gauge({
    name: 'fleetstat_workload_http_connections',
    help: 'HTTP connections on live nodes attributed to a Kubernetes workload, by port, TCP state and direction.',
    labelNames: ['namespace', 'workload_kind', 'workload', 'port', 'state', 'direction'],
    registers: [registry],
    collect() {
      this.reset();
      const sums = new Map<string, { labels: Record<string, string | number>; value: number }>();
      for (const { pod, counts } of livePodCounts(state)) {
        for (const [key, count] of counts) {
          const labels = {
            namespace: pod.namespace,
            workload_kind: pod.workload.kind,
            workload: pod.workload.name,
            ...connectionLabels(key),
          };
          const id = JSON.stringify(labels);
          const entry = sums.get(id);
          if (entry) entry.value += count;
          else sums.set(id, { labels, value: count });
        }
      }
      for (const { labels, value } of sums.values()) this.set(labels, value);
    },
  });
  if (!podSeries) return;
  new Gauge({
    name: 'fleetstat_pod_http_connections',
    help: 'HTTP connections on live nodes attributed to a pod, by port, TCP state and direction (opt-in: --pod-metrics).',
    labelNames: ['namespace', 'pod', 'node', 'port', 'state', 'direction'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { pod, node, counts } of livePodCounts(state)) {
        for (const [key, count] of counts) this.set({ namespace: pod.namespace, pod: pod.name, node, ...connectionLabels(key) }, count);
      }
    },
  });
}
