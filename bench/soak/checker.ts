// The exactness check's I/O: while the fleet is quiet (the schedule waits for the check), wait
// until the collector holds everything the simulator delivered, read /api/v1/nodes,
// /api/v1/summary, /metrics and /api/v1/nodes again, and verify them against the truth.

import type { NodeView, SummaryView } from '../../collector/api/fleet-views.js';
import { getJson, parsePrometheus, valueOf } from '../../test/support/collector-child.js';
import type { Delivered } from './fleet-sim.js';
import type { CheckOutcome } from './verify.js';
import { behind, turnedStale, verify } from './verify.js';

export interface CheckRecord {
  round: number;
  /** Seconds since the soak started. */
  t: number;
  /** How long the check took. */
  ms: number;
  /** Nodes the collector had not caught up on when the check began, and after waiting. */
  behindAtStart: number;
  behindAtEnd: number;
  /** False when the collector took a snapshot in between the reads (the check then says nothing). */
  consistent: boolean;
  /** Nodes that turned stale between the first and the last read (the check accounts for them). */
  turnedStale?: number;
  outcome?: CheckOutcome;
  heapUsedBytes?: number;
  /** The collector's longest event-loop delay since the previous scrape (prom-client's monitor). */
  eventLoopLagMaxMs?: number;
  metricsBytes?: number;
  /** Collector response times of the last reads (ms). */
  responseMs?: { nodes: number; summary: number; metrics: number };
  /** The harness's own time parsing and verifying (ms): it delays the next round's slots. */
  verifyMs?: number;
}

/** The /metrics lines the check reads; the rest (histograms, process metrics) is skipped unparsed. */
const WANTED = /^(fleetstat_http_connections\{|fleetstat_nodes\{|fleetstat_collector_nodejs_heap_size_used_bytes |fleetstat_collector_nodejs_eventloop_lag_max_seconds )/;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function getText(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
  return res.text();
}

/**
 * One check. `flush` resolves once NATS has every publish so far; waiting for the collector to
 * catch up gives up at `deadlineMs` (the check then reports what it finds).
 */
export async function checkOnce(
  base: string,
  truth: ReadonlyMap<string, Delivered | undefined>,
  flush: () => Promise<void>,
  deadlineMs: number,
  meta: { round: number; t: number },
): Promise<CheckRecord> {
  const started = Date.now();
  await flush();
  const nodesUrl = `${base}/api/v1/nodes`;
  let a = await getJson<NodeView[]>(nodesUrl);
  const behindAtStart = behind(a, truth);
  let lag = behindAtStart;
  while (lag > 0 && Date.now() < deadlineMs) {
    await sleep(50);
    a = await getJson<NodeView[]>(nodesUrl);
    lag = behind(a, truth);
  }
  const t0 = Date.now();
  const summary = await getJson<SummaryView>(`${base}/api/v1/summary`);
  const t1 = Date.now();
  const text = await getText(`${base}/metrics`);
  const t2 = Date.now();
  const b = await getJson<NodeView[]>(nodesUrl);
  const t3 = Date.now();
  const turned = turnedStale(a, b);
  const record: CheckRecord = {
    ...meta,
    ms: 0,
    behindAtStart,
    behindAtEnd: lag,
    consistent: turned !== undefined,
    metricsBytes: text.length,
    responseMs: { summary: t1 - t0, metrics: t2 - t1, nodes: t3 - t2 },
  };
  if (turned) {
    const exposition = parsePrometheus(text.split('\n').filter((line) => WANTED.test(line)).join('\n'));
    record.turnedStale = turned.length;
    record.outcome = verify(truth, a, summary, exposition, turned);
    record.heapUsedBytes = valueOf(exposition, 'fleetstat_collector_nodejs_heap_size_used_bytes');
    record.eventLoopLagMaxMs = Math.round(valueOf(exposition, 'fleetstat_collector_nodejs_eventloop_lag_max_seconds') * 1000);
    record.verifyMs = Date.now() - t3;
  }
  record.ms = Date.now() - started;
  return record;
}
