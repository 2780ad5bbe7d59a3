// The agent's own /metrics and /healthz: snapshots sent and failed, parse statistics, read time.

import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { HttpError } from './http/route-server.js';
import type { RouteHandler } from './http/route-server.js';
import type { AgentRunner } from './agent-runner.js';
import type { SnapshotPublisher } from './publish/snapshot-publisher.js';

export function agentMetrics(runner: AgentRunner, publisher: SnapshotPublisher): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'fleetstat_agent_' });
  const c = runner.counters;
  const counter = (name: string, help: string, value: () => number): void => {
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(value());
      },
    });
  };
  const gauge = (name: string, help: string, value: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value());
      },
    });
  };
  counter('fleetstat_agent_samples_total', 'Samples of the socket tables taken.', () => c.samples);
  counter('fleetstat_agent_sample_errors_total', 'Samples that failed.', () => c.sampleErrors);
  counter('fleetstat_agent_skipped_ticks_total', 'Ticks skipped because the previous sample was still running.', () => c.skippedTicks);
  counter('fleetstat_agent_snapshots_sent_total', 'Snapshots handed to a connected transport.', () => c.sent);
  counter('fleetstat_agent_snapshots_pending_total', 'Snapshots kept while disconnected (only the newest is sent).', () => c.pending);
  counter('fleetstat_agent_snapshots_failed_total', 'Snapshots whose publish failed or timed out.', () => c.publishErrors);
  new Counter({
    name: 'fleetstat_agent_publish_refusals_total',
    help: 'What the server refused: kind="auth" credentials while reconnecting, kind="permission" a subject this user may not use.',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset();
      const r = publisher.refusals?.() ?? { auth: 0, permission: 0 };
      this.inc({ kind: 'auth' }, r.auth);
      this.inc({ kind: 'permission' }, r.permission);
    },
  });
  gauge('fleetstat_agent_publisher_connected', '1 when the transport is connected.', () => (publisher.status().connected ? 1 : 0));
  gauge('fleetstat_agent_parse_lines', 'Socket table lines in the last sample.', () => c.lastParse?.lines ?? 0);
  gauge('fleetstat_agent_parse_bad_lines', 'Malformed or truncated lines in the last sample.', () => c.lastParse?.badLines ?? 0);
  gauge('fleetstat_agent_read_seconds', 'Time to read and count every namespace in the last sample.', () => (c.lastParse?.readMicros ?? 0) / 1e6);
  return registry;
}

/** Routes of the agent's --listen endpoint. Healthy while samples keep coming. */
export function agentRoutes(runner: AgentRunner, registry: Registry, startedMs: number, now: () => number = Date.now): RouteHandler {
  return async (url) => {
    if (url.pathname === '/metrics') return registry.metrics();
    if (url.pathname === '/healthz') {
      const last = runner.counters.lastSampleMs ?? startedMs;
      if (now() - last > 3 * runner.identity.intervalMs) throw new HttpError(503, 'no sample in 3 intervals');
      return 'ok\n';
    }
    throw new HttpError(404, `no route ${url.pathname}`);
  };
}
