// Reads the last stored snapshot of every node from the snapshot stream, once, at collector
// start. An ordered consumer with DeliverPolicy.LastPerSubject delivers each subject's last
// message in stream order. The read stops at the stream's last sequence as it was when the
// read began (or when nothing is pending): the caller subscribes to the live subjects
// BEFORE calling this, so everything stored later also arrives live, and chasing the tail
// of a busy stream would only delay readiness. The consumer is ephemeral, in memory, and
// deleted when done.
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

export interface RecoveredSnapshot {
  subject: string;
  data: Uint8Array;
  /** When the server stored it: the collector's best estimate of when the node was last heard. */
  storedAtMs: number;
}

export interface RecoveryResult {
  recovered: number;
  /** False when the time limit ended the read before it caught up. */
  complete: boolean;
}

export async function recoverLastSnapshots(
  nc: NatsConnection,
  streamName: string,
  onSnapshot: (snapshot: RecoveredSnapshot) => void,
  timeoutMs: number,
): Promise<RecoveryResult> {
  const lastSeq = (await (await jetstreamManager(nc)).streams.info(streamName)).state.last_seq;
  if (lastSeq === 0) return { recovered: 0, complete: true };
  const js = jetstream(nc);
  const consumer = await js.consumers.get(streamName, { deliver_policy: DeliverPolicy.LastPerSubject });
  try {
    const info = await consumer.info(true);
    if (info.num_pending === 0) return { recovered: 0, complete: true };
    const messages = await consumer.consume({ max_messages: 1000 });
    let complete = false;
    let recovered = 0;
    // stop(), not close(): awaiting close() inside the for-await over consume() never returns.
    const timer = setTimeout(() => messages.stop(), timeoutMs);
    timer.unref();
    try {
      for await (const m of messages) {
        recovered++;
        onSnapshot({ subject: m.subject, data: m.data, storedAtMs: Math.floor(m.info.timestampNanos / 1e6) });
        if (m.info.pending === 0 || m.info.streamSequence >= lastSeq) {
          complete = true;
          messages.stop();
          break;
        }
      }
    } finally {
      clearTimeout(timer);
    }
    return { recovered, complete };
  } finally {
    // Best effort: an ordered consumer also vanishes by itself after its inactivity threshold.
    await consumer.delete().catch(() => undefined);
  }
}
