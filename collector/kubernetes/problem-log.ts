// A watch that cannot reach its server retries every few seconds for as long as the outage
// lasts; logging every retry would bury everything else. Each problem (a key such as
// `watch:ECONNREFUSED`) is logged once when it starts, and once more when things work again.

import type { Logger } from 'pino';

export class ProblemLog {
  private readonly active = new Map<string, number>();

  constructor(private readonly logger: Logger) {}

  /** Warns the first time `key` is reported since the last resolve(); later reports only count. */
  report(key: string, message: string, fields: Record<string, unknown> = {}): void {
    const seen = this.active.get(key);
    this.active.set(key, (seen ?? 0) + 1);
    if (seen === undefined) this.logger.warn({ problem: key, ...fields }, message);
  }

  /** After a success: one info line naming the problems that ended and how often each recurred. */
  resolve(message: string): void {
    if (this.active.size === 0) return;
    this.logger.info({ resolved: Object.fromEntries(this.active) }, message);
    this.active.clear();
  }
}
