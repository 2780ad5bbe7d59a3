// Which stored series each report groups by: every report row is one stored series, so peaks are
// exact. The same split in SQL (the report's series condition) and in code (the writer's day-peak
// ranking index), kept side by side so they cannot drift.

import type { SeriesKey } from './series-key.js';
import { CLUSTER_NODE } from './series-key.js';

export type ReportBy = 'node' | 'port' | 'pod' | 'workload';

/** Number stored in rollup_day_peak.kind. */
export const REPORT_KIND_CODE: Record<ReportBy, number> = { node: 0, port: 1, pod: 2, workload: 3 };

export const REPORT_SERIES_SQL: Record<ReportBy, string> = {
  node: `s.node <> '${CLUSTER_NODE}' AND s.namespace = '' AND s.pod = '' AND s.workload = ''`,
  port: `s.node = '${CLUSTER_NODE}' AND s.namespace = '' AND s.pod = '' AND s.workload = ''`,
  pod: `s.node <> '${CLUSTER_NODE}' AND s.pod <> ''`,
  workload: `s.node = '${CLUSTER_NODE}' AND s.pod = '' AND s.workload <> ''`,
};

/** The report a series is a row of (its REPORT_KIND_CODE), or undefined for none. */
export function reportKindOf(key: SeriesKey): number | undefined {
  const cluster = key.node === CLUSTER_NODE;
  if (key.pod !== '') return cluster ? undefined : REPORT_KIND_CODE.pod;
  if (key.workload !== '') return cluster ? REPORT_KIND_CODE.workload : undefined;
  if (key.namespace !== '') return undefined;
  return cluster ? REPORT_KIND_CODE.port : REPORT_KIND_CODE.node;
}
