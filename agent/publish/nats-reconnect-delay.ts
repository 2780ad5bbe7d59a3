// The wait between NATS reconnect attempts: doubling from initialMs to maxMs, plus jitter.
//
// The client asks for the wait through reconnectDelayHandler, with no attempt number, and
// asks again on every turn of its dial loop (it dials once `lastAttempt + wait <= now`), so
// the value must stay put between attempts: it moves only when attempting() is called (on
// the client's 'reconnecting' status, or before our own dial) and goes back to the start on
// connected().
import { JitteredBackoff } from './jittered-backoff.js';

export interface ReconnectDelayOptions {
  initialMs: number;
  maxMs: number;
  jitterMs: number;
}

export class ReconnectDelay {
  // random = 1: the plain doubling ceiling; jitter is added on top, once per attempt.
  private readonly backoff: JitteredBackoff;
  private current: number;
  private attemptsSinceUp = 0;

  constructor(
    private readonly opts: ReconnectDelayOptions,
    private readonly random: () => number = Math.random,
  ) {
    this.backoff = new JitteredBackoff({ initialMs: opts.initialMs, maxMs: opts.maxMs, multiplier: 2 }, () => 1);
    this.current = opts.initialMs;
  }

  /** The wait after the latest attempt before the next one, ms. */
  wait(): number {
    return this.current;
  }

  /** Attempts since the link was last up. */
  attempts(): number {
    return this.attemptsSinceUp;
  }

  attempting(): void {
    this.attemptsSinceUp++;
    this.current = this.backoff.next() + Math.floor(this.random() * (this.opts.jitterMs + 1));
  }

  connected(): void {
    this.attemptsSinceUp = 0;
    this.backoff.reset();
    this.current = this.opts.initialMs;
  }
}
