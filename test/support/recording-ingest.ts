// A SnapshotIngest that records what a transport handed it: the bytes, the origin, and the
// decoded snapshot when the bytes are one. Undecodable bytes are rejected as malformed, as the
// real ingest does, so transports can be tested without the collector's state.
import type { IngestOrigin, IngestOutcome, SnapshotIngest } from '../../collector/ingest/snapshot-ingest.js';
import { Snapshot } from '../../proto/gen/fleetstat/v1/snapshot.js';

export interface Recorded {
  bytes: Uint8Array;
  origin: IngestOrigin;
  snapshot: Snapshot | undefined;
}

export class RecordingIngest implements SnapshotIngest {
  readonly records: Recorded[] = [];

  ingest(bytes: Uint8Array, origin: IngestOrigin): IngestOutcome {
    let snapshot: Snapshot | undefined;
    try {
      snapshot = Snapshot.decode(bytes);
    } catch {
      snapshot = undefined;
    }
    // Copy: a transport may reuse its buffer once ingest() returns.
    this.records.push({ bytes: Uint8Array.from(bytes), origin, snapshot });
    return snapshot ? { accepted: true } : { accepted: false, reason: 'malformed', detail: 'not a Snapshot' };
  }

  ofNode(node: string): Recorded[] {
    return this.records.filter((r) => r.snapshot?.node === node);
  }
}

/** Polls until `check` returns a truthy value, or fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000): Promise<Exclude<T, false | 0 | '' | null | undefined>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as Exclude<T, false | 0 | '' | null | undefined>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
