import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { encodeSnapshot } from '../../test/support/snapshots.js';
import { parsePrometheus } from '../../test/support/collector-child.js';
import { FleetState } from '../fleet-state.js';
import { connectionLabels } from './fleet-views.js';
import { escapeLabelValue, fleetGaugesText } from './fleet-gauges-text.js';
import { fleetMetrics } from './prometheus-metrics.js';

const ESTABLISHED = 1;
const TIME_WAIT = 6;
const SYN_RECV = 3;

function fleet(): FleetState {
  const clock = { now: 50_000 };
  const state = new FleetState({ cluster: 'test', now: () => clock.now });
  state.ingest(encodeSnapshot({ node: 'a', seq: 1, intervalMs: 1000, http: [[80, 'in', ESTABLISHED, 5], [443, 'out', TIME_WAIT, 2]] }), { transport: 'grpc' });
  state.ingest(encodeSnapshot({ node: 'b.c', seq: 1, intervalMs: 1000, http: [[80, 'in', ESTABLISHED, 1], [8080, 'in', SYN_RECV, 9]] }), { transport: 'grpc' });
  clock.now += 2500;
  state.ingest(encodeSnapshot({ node: 'gone', seq: 1, intervalMs: 1000, http: [[80, 'in', ESTABLISHED, 7]] }), { transport: 'grpc' });
  state.ingest(encodeSnapshot({ node: 'gone', seq: 2, intervalMs: 1000, goodbye: true, http: [[80, 'in', ESTABLISHED, 7]] }), { transport: 'grpc' });
  clock.now += 1000; // a and b.c are now 3.5 s quiet: stale after a sweep
  state.ingest(encodeSnapshot({ node: 'a', seq: 2, intervalMs: 1000, http: [[80, 'in', ESTABLISHED, 6], [443, 'out', TIME_WAIT, 2]] }), { transport: 'grpc' });
  state.sweep();
  return state;
}

/** The same gauges as prom-client Gauges (how /metrics rendered them before). */
async function reference(state: FleetState): Promise<string> {
  const registry = new Registry();
  const connections = new Gauge({ name: 'fleetstat_http_connections', help: 'x', labelNames: ['node', 'port', 'state', 'direction'], registers: [registry] });
  const listeners = new Gauge({ name: 'fleetstat_listeners', help: 'x', labelNames: ['node', 'port'], registers: [registry] });
  const queues = new Gauge({ name: 'fleetstat_listen_accept_queue', help: 'x', labelNames: ['node', 'port'], registers: [registry] });
  const ages = new Gauge({ name: 'fleetstat_node_snapshot_age_seconds', help: 'x', labelNames: ['node'], registers: [registry] });
  for (const record of state.registry.records()) {
    ages.set({ node: record.name }, (state.now() - record.lastSeenMs) / 1000);
    if (record.status !== 'live') continue;
    for (const [key, count] of record.summary.http) connections.set({ node: record.name, ...connectionLabels(key) }, count);
    for (const [port, l] of record.summary.listeners) {
      listeners.set({ node: record.name, port }, l.sockets);
      queues.set({ node: record.name, port }, l.acceptQueue);
    }
  }
  return registry.metrics();
}

const sampleLines = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).sort();

describe('fleetGaugesText', () => {
  it('writes the same samples prom-client Gauges would, live nodes only for counts, every node for age', async () => {
    const state = fleet();
    const text = fleetGaugesText(state);
    expect(sampleLines(text)).toEqual(sampleLines(await reference(state)));
    const samples = parsePrometheus(text).samples;
    expect(new Set(samples.filter((s) => s.name === 'fleetstat_http_connections').map((s) => s.labels['node']))).toEqual(new Set(['a']));
    expect(samples.filter((s) => s.name === 'fleetstat_node_snapshot_age_seconds').map((s) => [s.labels['node'], s.value]).sort()).toEqual([
      ['a', 0],
      ['b.c', 3.5],
      ['gone', 1],
    ]);
    expect(parsePrometheus(text).types.get('fleetstat_listen_accept_queue')).toBe('gauge');
  });

  it('is part of /metrics, once, beside prom-client\'s own metrics', async () => {
    const text = await fleetMetrics(fleet()).metrics();
    const exposition = parsePrometheus(text);
    expect(text.match(/^# TYPE fleetstat_http_connections gauge$/gm)).toHaveLength(1);
    expect(exposition.types.get('fleetstat_nodes')).toBe('gauge');
    expect(exposition.samples.find((s) => s.name === 'fleetstat_http_connections' && s.labels['port'] === '80')?.value).toBe(6);
  });

  it('escapes label values as Prometheus text requires', () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    const labels = parsePrometheus(`m{node="${escapeLabelValue('a"b\\c\nd')}"} 1`).samples[0]!.labels;
    expect(labels['node']).toBe('a"b\\c\nd');
  });
});
