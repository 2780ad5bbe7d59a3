// /metrics for history: what the collector handed its history thread and what the store made of
// it, read at scrape time from the thread's last figures. The store's own counts start again
// from zero when its worker is restarted (a counter reset, which rate() takes in its stride).

import type { Registry } from 'prom-client';
import { Counter } from 'prom-client';
import type { HistoryStats } from '../history/history-store.js';
import type { HistoryThread } from '../history/history-thread.js';

export function historyMetrics(registry: Registry, history: HistoryThread): void {
  const counter = (name: string, help: string, value: () => number): void => {
    new Counter({
      name, help, registers: [registry],
      collect() {
        this.reset();
        this.inc(value());
      },
    });
  };
  const store = (read: (stats: HistoryStats) => number) => (): number => (history.stats.store ? read(history.stats.store) : 0);
  counter('fleetstat_history_batches_total', 'Intervals of live counts handed to the history thread.', () => history.stats.batches);
  counter('fleetstat_history_batches_dropped_total', 'Intervals dropped because the history thread was behind or restarting.', () => history.stats.droppedBatches);
  counter('fleetstat_history_worker_restarts_total', 'Times the history worker died and was started again.', () => history.stats.restarts);
  counter('fleetstat_history_points_total', 'Series values recorded into history.', store((s) => s.points));
  counter('fleetstat_history_write_errors_total', 'Failed history flushes, seals and prunes (retried).', store((s) => s.flushErrors + s.sealErrors + s.pruneErrors));
  new Counter({
    name: 'fleetstat_history_points_rejected_total',
    help: 'Series values history refused, by reason.',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, count] of Object.entries(history.stats.store?.rejected ?? {})) this.inc({ reason }, count);
    },
  });
  new Counter({
    name: 'fleetstat_history_busy_seconds_total',
    help: 'Time the history worker spent, by part (record, flush, seal, prune).',
    labelNames: ['part'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [part, ms] of Object.entries(history.stats.store?.busyMs ?? {})) this.inc({ part }, ms / 1000);
    },
  });
}
