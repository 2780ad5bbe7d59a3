// Per-requester token buckets for detail requests: each one walks every namespace on a node (or
// fans out to every node), so a flood from one requester must not starve the others. Pure: the
// clock is passed in. Memory is bounded: past maxRequesters the longest-idle bucket is dropped
// (a dropped requester starts again with a full bucket, which only errs toward serving).

export interface RateLimitOptions {
  /** Sustained requests per second per requester. */
  perSecond: number;
  /** Requests a requester may make at once after being idle (default 2 × perSecond, at least 1). */
  burst?: number;
  /** Requesters tracked at once (default 4096). */
  maxRequesters?: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

interface Bucket {
  tokens: number;
  atMs: number;
}

export class RequesterRateLimit {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly burst: number;
  private readonly maxRequesters: number;

  constructor(options: RateLimitOptions) {
    if (!(options.perSecond > 0) || !Number.isFinite(options.perSecond)) throw new RangeError('perSecond must be a positive number');
    this.perMs = options.perSecond / 1000;
    this.burst = options.burst ?? Math.max(1, 2 * options.perSecond);
    if (!(this.burst >= 1)) throw new RangeError('burst must be at least 1');
    this.maxRequesters = options.maxRequesters ?? 4096;
  }

  /** Takes one request's token for `requester` at `nowMs`, or says how long until one is there. */
  take(requester: string, nowMs: number): RateDecision {
    let bucket = this.buckets.get(requester);
    if (bucket) {
      // Re-insert: Map order is then least recently used first.
      this.buckets.delete(requester);
      bucket.tokens = Math.min(this.burst, bucket.tokens + Math.max(0, nowMs - bucket.atMs) * this.perMs);
      bucket.atMs = nowMs;
    } else {
      bucket = { tokens: this.burst, atMs: nowMs };
      if (this.buckets.size >= this.maxRequesters) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
    }
    this.buckets.set(requester, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterMs: Math.ceil((1 - bucket.tokens) / this.perMs) };
  }

  /** Requesters tracked now. */
  get size(): number {
    return this.buckets.size;
  }
}

/**
 * Who asked, from a NATS reply subject: the client's inbox prefix (`_INBOX.<id>` of
 * `_INBOX.<id>.<token>`) names its connection; a reply subject of another shape counts as its own.
 */
export function natsRequester(reply: string): string {
  const parts = reply.split('.');
  return parts.length >= 3 ? `${parts[0]}.${parts[1]}` : reply;
}

/** Who asked, from a gRPC peer ("1.2.3.4:5678", "[::1]:5678", "ipv4:…"): its address without the port. */
export function grpcRequester(peer: string): string {
  if (peer.startsWith('unix:')) return peer;
  const address = peer.replace(/^ipv[46]:/, '');
  const bracketed = /^\[([^\]]*)\]/.exec(address);
  if (bracketed) return bracketed[1] ?? address;
  const colon = address.lastIndexOf(':');
  return colon > 0 && address.indexOf(':') === colon ? address.slice(0, colon) : address;
}
