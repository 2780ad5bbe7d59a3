// The optional JetStream stream that remembers the last snapshot of every node, so that a
// restarted collector knows the whole fleet before the next interval. One message per
// subject (= per node) bounds it by the node count; the duplicate window makes an agent's
// re-send (msgID <node>.<epoch>.<seq>) a no-op. Only 2.9-era stream fields are used.
import { DiscardPolicy, jetstreamManager, JetStreamApiError, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { StreamConfig, StreamInfo } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { snapshotSubject } from '../../agent/publish/snapshot-publisher.js';

export interface SnapshotStreamOptions {
  /** Default FLEETSTAT_<CLUSTER>, upper-cased, with every character a stream name cannot hold as '_'. */
  streamName?: string;
  /** Window in which a repeated msgID is dropped (default 2 min). */
  duplicateWindowMs?: number;
  /** A node silent this long drops out of the stream, so long-gone nodes are not recovered (default 1 h). */
  maxAgeMs?: number;
  /** Stream replicas in a clustered JetStream (default 1). */
  replicas?: number;
}

export class SnapshotStreamError extends Error {
  override readonly name = 'SnapshotStreamError';
}

export function snapshotStreamName(cluster: string): string {
  return `FLEETSTAT_${cluster.toUpperCase().replace(/[^A-Z0-9_-]/g, '_')}`;
}

/** The stream's subjects: `>` so that node names with dots (ip-10-0-0-1.ec2.internal) are captured. */
export function snapshotStreamSubject(cluster: string): string {
  return snapshotSubject(cluster, '>');
}

export function snapshotStreamConfig(cluster: string, opts: SnapshotStreamOptions = {}): Partial<StreamConfig> & { name: string } {
  return {
    name: opts.streamName ?? snapshotStreamName(cluster),
    subjects: [snapshotStreamSubject(cluster)],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_msgs_per_subject: 1,
    max_age: nanos(opts.maxAgeMs ?? 60 * 60 * 1000),
    duplicate_window: nanos(opts.duplicateWindowMs ?? 2 * 60 * 1000),
    num_replicas: opts.replicas ?? 1,
  };
}

/**
 * Creates the stream, or brings an existing one (another collector's, an older version's) to our
 * subjects and limits. HA collectors all call this; creating an identical stream is a no-op.
 */
export async function ensureSnapshotStream(nc: NatsConnection, cluster: string, opts: SnapshotStreamOptions = {}): Promise<StreamInfo> {
  const config = snapshotStreamConfig(cluster, opts);
  let jsm;
  try {
    jsm = await jetstreamManager(nc);
  } catch (err) {
    throw new SnapshotStreamError(
      `JetStream is not available on this NATS server (${(err as Error).message}): start nats-server with -js, or run the collector without JetStream`,
      { cause: err },
    );
  }
  try {
    return await jsm.streams.add(config);
  } catch (err) {
    // 10058: the name is taken with a different configuration; update what we own.
    if (!(err instanceof JetStreamApiError) || err.code !== 10058) {
      throw new SnapshotStreamError(`creating JetStream stream ${config.name} failed: ${(err as Error).message}`, { cause: err });
    }
  }
  // Storage and retention cannot change on an existing stream; leave them as they are.
  const { name, subjects, max_msgs_per_subject, max_age, duplicate_window, discard } = config;
  const update = { subjects, max_msgs_per_subject, max_age, duplicate_window, discard };
  try {
    return await jsm.streams.update(name, update);
  } catch (err) {
    throw new SnapshotStreamError(
      `JetStream stream ${name} exists with a configuration we cannot update (${(err as Error).message}): delete it or pick another --stream name`,
      { cause: err },
    );
  }
}
