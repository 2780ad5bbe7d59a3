// Reconnect delays: exponential, capped, with jitter so that agents cut off together (a
// collector restart) do not all come back in the same instant.

export interface BackoffOptions {
  /** First delay, ms. */
  initialMs: number;
  /** Upper bound of the (pre-jitter) delay, ms. */
  maxMs: number;
  /** Growth per failed attempt; 1 keeps the delay constant. */
  multiplier: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, multiplier: 2 };

export class BackoffError extends Error {
  override readonly name = 'BackoffError';
}

export function validateBackoff(options: BackoffOptions): BackoffOptions {
  const { initialMs, maxMs, multiplier } = options;
  if (!(initialMs > 0) || !(maxMs >= initialMs) || !(multiplier >= 1) || !Number.isFinite(maxMs)) {
    throw new BackoffError(`backoff ${JSON.stringify(options)}: need 0 < initialMs <= maxMs (finite) and multiplier >= 1`);
  }
  return options;
}

export class JitteredBackoff {
  private ceilingMs: number;

  constructor(
    private readonly options: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {
    this.ceilingMs = options.initialMs;
  }

  /**
   * The delay before the next attempt. "Equal jitter": half the current ceiling fixed, half
   * random, so retries spread out yet none comes back at ~0 ms and hammers a collector that
   * is still starting.
   */
  next(): number {
    const ceiling = this.ceilingMs;
    this.ceilingMs = Math.min(this.options.maxMs, ceiling * this.options.multiplier);
    return Math.round(ceiling / 2 + this.random() * (ceiling / 2));
  }

  /** After a success: the next failure starts from initialMs again. */
  reset(): void {
    this.ceilingMs = this.options.initialMs;
  }
}
