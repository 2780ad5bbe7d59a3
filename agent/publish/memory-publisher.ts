// The in-memory transport: snapshots go, encoded, straight to a function in this process
// (`fleetstat up` hands them to its own collector; tests record them).

import { Snapshot } from '../../proto/gen/fleetstat/v1/snapshot.js';
import type { PublishResult, PublisherStatus, SnapshotPublisher } from './snapshot-publisher.js';

export class MemoryPublisher implements SnapshotPublisher {
  readonly transport = 'memory' as const;
  private open = false;

  constructor(private readonly deliver: (bytes: Uint8Array, node: string) => void) {}

  async start(): Promise<void> {
    this.open = true;
  }

  async publish(snapshot: Snapshot): Promise<PublishResult> {
    if (!this.open) return 'pending';
    // Encoded as on the wire, so the receiving side takes the same validation path.
    this.deliver(Snapshot.encode(snapshot).finish(), snapshot.node);
    return 'sent';
  }

  status(): PublisherStatus {
    return { connected: this.open };
  }

  async shutdown(): Promise<void> {
    this.open = false;
  }
}
