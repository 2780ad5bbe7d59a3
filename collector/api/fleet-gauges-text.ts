// The per-node gauges of /metrics (connections, listeners, accept queues, snapshot age) written
// as Prometheus text straight from FleetState. They have one series per node and key, 100,000
// and more at 10,000 nodes, and prom-client's per-series set() and formatting took about 3 s
// for that (measured by the soak, bench/soak.ts), blocking ingest all along; writing the lines
// directly takes a small fraction of it. Same names, labels, label order and values as before.

import type { FleetState } from '../fleet-state.js';
import { connectionLabels } from './fleet-views.js';

/** Prometheus label value escaping: backslash, double quote, newline. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

const HELP = {
  connections: 'HTTP connections (not listeners) on live nodes, by node, port, TCP state and direction.',
  listeners: 'Listening TCP sockets on live nodes, by node and port.',
  queues: 'Connections completed but not yet accepted, summed over the listening sockets of a port on live nodes.',
  ages: 'Seconds since the last accepted snapshot of each node.',
};

export function fleetGaugesText(state: FleetState): string {
  // Appending to strings (V8 ropes, flattened once) measured faster than joining an array of lines.
  let connections = header('fleetstat_http_connections', HELP.connections);
  let listeners = header('fleetstat_listeners', HELP.listeners);
  let queues = header('fleetstat_listen_accept_queue', HELP.queues);
  let ages = header('fleetstat_node_snapshot_age_seconds', HELP.ages);
  // `,port="80",state="ESTABLISHED",direction="inbound"} ` per connection key, made once per scrape.
  const keyLabels = new Map<number, string>();
  const now = state.now();
  for (const record of state.registry.records()) {
    const node = `{node="${escapeLabelValue(record.name)}"`;
    ages += `fleetstat_node_snapshot_age_seconds${node}} ${(now - record.lastSeenMs) / 1000}\n`;
    if (record.status !== 'live') continue;
    for (const [key, count] of record.summary.http) {
      let labels = keyLabels.get(key);
      if (labels === undefined) {
        const l = connectionLabels(key);
        labels = `,port="${l.port}",state="${l.state}",direction="${l.direction}"} `;
        keyLabels.set(key, labels);
      }
      connections += 'fleetstat_http_connections' + node + labels + count + '\n';
    }
    for (const [port, l] of record.summary.listeners) {
      listeners += `fleetstat_listeners${node},port="${port}"} ${l.sockets}\n`;
      queues += `fleetstat_listen_accept_queue${node},port="${port}"} ${l.acceptQueue}\n`;
    }
  }
  return `${connections}\n${listeners}\n${queues}\n${ages}`;
}

function header(name: string, help: string): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} gauge\n`;
}
