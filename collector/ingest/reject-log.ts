// Rejections are logged once per reason and window, with how many more were dropped, so a
// flood of bad input costs one log line per reason per window, never one per message.

import type { Logger } from 'pino';
import type { RejectReason } from './snapshot-ingest.js';

export class RejectLog {
  private readonly windows = new Map<RejectReason, { startedMs: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly windowMs: number,
  ) {}

  record(reason: RejectReason, detail: string, nowMs: number): void {
    const window = this.windows.get(reason);
    if (window && nowMs - window.startedMs < this.windowMs) {
      window.suppressed++;
      return;
    }
    const suppressed = window?.suppressed ?? 0;
    this.windows.set(reason, { startedMs: nowMs, suppressed: 0 });
    this.logger.warn({ reason, detail, suppressedSinceLast: suppressed }, 'snapshot rejected');
  }
}
