// The little fleetstat keeps of a pod: who it is, where it runs, which workload owns it and
// which of its ports speak HTTP. A Pod object is 5-20 KB of JSON; this is about 200 bytes, so
// a 150,000-pod cluster's index stays in the tens of MB.

import { asArray, asObject, str } from './kube-object.js';

export interface Workload {
  /** Deployment, StatefulSet, DaemonSet, CronJob, Job, ReplicaSet, StaticPod, Pod, or an owner's own kind. */
  kind: string;
  name: string;
}

export interface PodInfo {
  uid: string;
  name: string;
  namespace: string;
  /** '' until scheduled (empty strings rather than optional fields keep one object shape). */
  nodeName: string;
  hostNetwork: boolean;
  /** '' until the pod has an address; for a hostNetwork pod it is the node's address. */
  podIP: string;
  workload: Workload;
  /** Sorted, unique TCP container ports whose name marks them as HTTP (see isHttpPortName). */
  httpPorts: readonly number[];
  /**
   * For the mirror of a static pod, the kubelet's config hash: the static pod's cgroups carry
   * this as the pod UID, not the mirror's API uid. '' otherwise.
   */
  configUid: string;
}

/**
 * Port names that mean HTTP: `http`, `https`, `h2c`, and the same followed by `-suffix`
 * (Istio's `<protocol>[-<suffix>]` convention, as in `http-metrics`, `https-admin`): a pod's
 * port names are unique, so a second HTTP port can only be named that way. Not `http2` or
 * `grpc`: gRPC is HTTP/2, but fleetstat counts HTTP/1 and h2c web traffic, and a gRPC port is
 * one to add with --http-ports deliberately.
 */
export function isHttpPortName(name: string): boolean {
  return /^(?:https?|h2c)(?:-|$)/.test(name.toLowerCase());
}

/** The CronJob controller names each Job `<cronjob>-<scheduled time in minutes since 1970>`: 8+ digits since 1990. */
const CRONJOB_JOB_NAME = /^(.+)-(\d{8,})$/;

/**
 * The workload that owns a pod, from its controller ownerReference (the first reference when
 * none is marked controller):
 * - ReplicaSet `<d>-<hash>` whose pod carries label pod-template-hash=<hash> → Deployment `<d>`;
 *   a ReplicaSet without that label or suffix stays a ReplicaSet (created by hand, or by
 *   another controller such as an Argo Rollout).
 * - Job `<c>-<8+ digits>` → CronJob `<c>`; any other Job stays a Job. The digits are the
 *   scheduled minute, so a hand-made `migrate-2` stays a Job.
 * - Node (a mirror of a static pod, 1.21+) or the kubernetes.io/config.mirror annotation
 *   (older clusters) → StaticPod, named without the `-<nodeName>` suffix the kubelet adds, so
 *   kube-apiserver on every control-plane node is one workload.
 * - StatefulSet, DaemonSet and any other kind: the owner as it is.
 * - No owner → Pod, the pod's own name.
 */
export function resolveWorkload(pod: {
  name: string;
  nodeName: string;
  owners: readonly { kind: string; name: string; controller: boolean }[];
  templateHash: string | undefined;
  mirror: boolean;
}): Workload {
  const owner = pod.owners.find((o) => o.controller) ?? pod.owners[0];
  if (pod.mirror || owner?.kind === 'Node') {
    const suffix = `-${pod.nodeName}`;
    const name = pod.nodeName && pod.name.endsWith(suffix) && pod.name.length > suffix.length ? pod.name.slice(0, -suffix.length) : pod.name;
    return { kind: 'StaticPod', name };
  }
  if (!owner) return { kind: 'Pod', name: pod.name };
  if (owner.kind === 'ReplicaSet' && pod.templateHash) {
    const suffix = `-${pod.templateHash}`;
    if (owner.name.endsWith(suffix) && owner.name.length > suffix.length) {
      return { kind: 'Deployment', name: owner.name.slice(0, -suffix.length) };
    }
  }
  if (owner.kind === 'Job') {
    const match = CRONJOB_JOB_NAME.exec(owner.name);
    if (match?.[1]) return { kind: 'CronJob', name: match[1] };
  }
  return { kind: owner.kind, name: owner.name };
}

/** Shared, so the many pods with no HTTP port hold no array of their own. */
const NO_PORTS: readonly number[] = Object.freeze([]);

/**
 * TCP ports named as HTTP on the pod's containers, and on its sidecars (init containers with
 * restartPolicy Always run for the pod's whole life and can serve).
 */
export function httpPortsOf(spec: unknown): readonly number[] {
  const s = asObject(spec);
  const containers = [...asArray(s?.['containers'])];
  for (const init of asArray(s?.['initContainers'])) {
    if (asObject(init)?.['restartPolicy'] === 'Always') containers.push(init);
  }
  const ports = new Set<number>();
  for (const container of containers) {
    for (const p of asArray(asObject(container)?.['ports'])) {
      const port = asObject(p);
      const name = str(port?.['name']);
      const number = port?.['containerPort'];
      const protocol = str(port?.['protocol']) || 'TCP';
      if (protocol !== 'TCP' || !name || !isHttpPortName(name)) continue;
      if (typeof number === 'number' && Number.isInteger(number) && number > 0 && number < 65536) ports.add(number);
    }
  }
  return ports.size === 0 ? NO_PORTS : [...ports].sort((a, b) => a - b);
}

/** A Pod object (as listed or watched) to PodInfo; undefined when it has no uid or name. */
export function toPodInfo(raw: unknown): PodInfo | undefined {
  const pod = asObject(raw);
  const meta = asObject(pod?.['metadata']);
  const uid = str(meta?.['uid']);
  const name = str(meta?.['name']);
  if (!uid || !name) return undefined;
  const spec = asObject(pod?.['spec']);
  const nodeName = str(spec?.['nodeName']);
  const owners = asArray(meta?.['ownerReferences']).map((ref) => {
    const o = asObject(ref);
    return { kind: str(o?.['kind']), name: str(o?.['name']), controller: o?.['controller'] === true };
  }).filter((o) => o.kind && o.name);
  const labels = asObject(meta?.['labels']);
  const annotations = asObject(meta?.['annotations']);
  return {
    uid,
    name,
    namespace: str(meta?.['namespace']),
    nodeName,
    hostNetwork: spec?.['hostNetwork'] === true,
    podIP: str(asObject(pod?.['status'])?.['podIP']),
    workload: resolveWorkload({
      name,
      nodeName,
      owners,
      templateHash: str(labels?.['pod-template-hash']) || undefined,
      mirror: annotations?.['kubernetes.io/config.mirror'] !== undefined,
    }),
    httpPorts: httpPortsOf(spec),
    configUid: str(annotations?.['kubernetes.io/config.mirror']),
  };
}
