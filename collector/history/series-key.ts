// What identifies one history series, and the checks a recorded point must pass. The key is
// generic on purpose: pod and workload attribution fill dimensions that today hold '' (all or
// unknown), so adding them needs no schema change.

/** The node name of cluster-wide series (sums over nodes); never a real node's name. */
export const CLUSTER_NODE = '*';

export interface SeriesKey {
  node: string;
  port: number;
  /** 'inbound' | 'outbound' today; any short label is accepted. */
  direction: string;
  /** netstat spelling ('ESTABLISHED', 'TIME_WAIT', ...), '' for all states. */
  state: string;
  /** Kubernetes namespace of the pod or workload, '' when not attributed. */
  namespace: string;
  pod: string;
  workload: string;
}

/** One live count handed to HistoryStore.recordSample. */
export interface SamplePoint {
  node: string;
  port: number;
  direction: string;
  state: string;
  namespace?: string;
  pod?: string;
  workload?: string;
  value: number;
}

export type PointRejectReason = 'bad_value' | 'bad_key';

// Kubernetes names are at most 253 characters; anything longer is not a name we produced. NUL
// never occurs in one, so it can separate labels in an in-memory key string.
const MAX_LABEL = 253;

function isLabel(value: unknown, allowEmpty: boolean): value is string {
  return typeof value === 'string' && value.length <= MAX_LABEL && (allowEmpty || value.length > 0) && !value.includes('\0');
}

function isOptionalLabel(value: unknown): boolean {
  return value === undefined || isLabel(value, true);
}

/**
 * Why the point is refused, or undefined when it is good. Points come from snapshots we
 * decoded, but the store is a long-running sink: a bad point is counted, never thrown (STYLE:
 * never crash on input). Allocates nothing: it runs for every point of every sample.
 */
export function checkPoint(point: unknown): PointRejectReason | undefined {
  if (typeof point !== 'object' || point === null) return 'bad_key';
  const p = point as Record<string, unknown>;
  const value = p.value;
  // Counts are finite and non-negative; NaN, Infinity and negatives are upstream bugs.
  if (!isCount(value)) return 'bad_value';
  return checkLabels(p.port, p.direction, p.state) ?? checkGroupLabels(p.node, p.namespace, p.pod, p.workload);
}

export function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** The per-connection labels of a key: a port, a direction and a state ('' for all). */
export function checkLabels(port: unknown, direction: unknown, state: unknown): PointRejectReason | undefined {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) return 'bad_key';
  if (!isLabel(direction, false) || !isLabel(state, true)) return 'bad_key';
  return undefined;
}

/** The labels shared by a group of series: a real node ('*' is the store's cluster), the rest optional. */
export function checkGroupLabels(node: unknown, namespace: unknown, pod: unknown, workload: unknown): PointRejectReason | undefined {
  if (!isLabel(node, false) || node === CLUSTER_NODE) return 'bad_key';
  if (!isOptionalLabel(namespace) || !isOptionalLabel(pod) || !isOptionalLabel(workload)) return 'bad_key';
  return undefined;
}

/**
 * The cluster-wide series a node-level series adds into, or undefined when it has none.
 * A pod lives on one node, so a per-pod cluster series would copy the node's; a pod's point
 * instead adds into its workload's cluster-wide total, when the workload is known.
 */
export function clusterKeyOf(key: SeriesKey): SeriesKey | undefined {
  if (key.pod === '') return { ...key, node: CLUSTER_NODE };
  if (key.workload === '') return undefined;
  return { ...key, node: CLUSTER_NODE, pod: '' };
}
