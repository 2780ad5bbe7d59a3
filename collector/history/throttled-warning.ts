// A warning logged at most once per window with how many were held back: a disk that keeps
// failing costs one log line a minute, not one per flush (STYLE: never log per item).

/** All a throttled warning needs of a logger (pino's; or the history worker's, which posts it to the collector's). */
export interface WarnLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

export class ThrottledWarning {
  private lastMs = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly logger: WarnLogger | undefined,
    private readonly windowMs: number,
  ) {}

  warn(message: string, error: unknown, nowMs: number): void {
    if (nowMs - this.lastMs < this.windowMs) {
      this.suppressed++;
      return;
    }
    this.logger?.warn({ err: error, suppressedSinceLast: this.suppressed }, message);
    this.lastMs = nowMs;
    this.suppressed = 0;
  }
}
