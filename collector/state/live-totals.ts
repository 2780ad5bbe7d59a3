// Cluster-wide HTTP connection counts over live nodes, kept incrementally: replacing a node's
// contribution costs O(its summary), and reading the totals costs O(answer), never O(nodes).

import type { NodeSummary } from './node-summary.js';

export class LiveTotals {
  /** connectionKey -> count over live nodes. */
  readonly http = new Map<number, number>();
  httpTotal = 0;

  add(summary: NodeSummary): void {
    this.apply(summary, 1);
  }

  remove(summary: NodeSummary): void {
    this.apply(summary, -1);
  }

  private apply(summary: NodeSummary, sign: 1 | -1): void {
    for (const [key, count] of summary.http) {
      const next = (this.http.get(key) ?? 0) + sign * count;
      if (next === 0) this.http.delete(key);
      else this.http.set(key, next);
    }
    this.httpTotal += sign * summary.httpTotal;
  }
}
