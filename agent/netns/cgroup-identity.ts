// The pod and container a process runs in, from the text of its /proc/<pid>/cgroup.
//
// The kubelet and the runtimes name cgroups after the pod UID and the container ID, so the path
// attributes a process without the API server or a runtime socket (the agent has neither).
// Layouts vary with the cgroup driver (cgroupfs `/kubepods/<qos>/pod<uid>/<id>`, systemd
// `kubepods-<qos>-pod<uid_with_underscores>.slice/<runtime>-<id>.scope`), the runtime prefix, and
// nesting: kind and minikube run a kubelet inside a container, so a node container's id comes
// first. The agent has its own cgroup namespace, so other processes' paths start with `/..` and
// may have lost their top. Segments are therefore recognised one by one wherever they sit, and
// the innermost pod and container win. Real samples of every layout: test/fixtures/cgroup.

export type QosClass = 'guaranteed' | 'burstable' | 'besteffort';

/** Only what the path itself names; the collector's pod watch supplies names and owners. */
export type ContainerRuntime = 'containerd' | 'cri-o' | 'docker' | 'podman';

export interface ContainerIdentity {
  /**
   * Dashed UUID as in `metadata.uid`. A static pod's is the 32-hex config hash instead: its
   * mirror pod carries it in the `kubernetes.io/config.mirror` annotation, not in metadata.uid.
   */
  podUid?: string;
  /** The 64-hex id, as in a pod status' containerID after `<runtime>://`. */
  containerId?: string;
  /** Absent when the layout does not say (a bare id is written alike by docker and containerd). */
  runtime?: ContainerRuntime;
  /** Absent when not in the path, e.g. a cgroupfs path cut short by the agent's cgroup namespace. */
  qosClass?: QosClass;
}

/**
 * The identity of the process whose /proc/<pid>/cgroup this is, or undefined when no line names a
 * pod or a container (host processes, the reader's own container, garbage). Of several
 * hierarchies (cgroup v1) the one naming the most wins; ties go to the unified hierarchy, then
 * name=systemd, memory, pids, then file order.
 */
export function containerIdentityOf(cgroupFileText: string): ContainerIdentity | undefined {
  if (typeof cgroupFileText !== 'string') return undefined;
  let best: { identity: ContainerIdentity; score: number; rank: number } | undefined;
  for (const line of cgroupFileText.split('\n')) {
    const entry = parseLine(line);
    if (entry === undefined) continue;
    const identity = identityOfCgroupPath(entry.path);
    if (identity === undefined) continue;
    const score = (identity.containerId === undefined ? 0 : 2) + (identity.podUid === undefined ? 0 : 1);
    if (best === undefined || score > best.score || (score === best.score && entry.rank < best.rank)) {
      best = { identity, score, rank: entry.rank };
    }
  }
  return best?.identity;
}

/** The identity one cgroup path names (the third field of a /proc/<pid>/cgroup line). */
export function identityOfCgroupPath(path: string): ContainerIdentity | undefined {
  const segments = path.split('/');
  let pod: (PodMark & { at: number }) | undefined;
  let container: (ContainerMark & { at: number }) | undefined;
  let conmon: { at: number; runtime: ContainerRuntime } | undefined;
  for (let at = 0; at < segments.length; at++) {
    const segment = segments[at] ?? '';
    // NAME_MAX: a longer segment is not a cgroup name, and bounding it bounds the regex work.
    if (segment.length === 0 || segment.length > 255) continue;
    const colonParts = segment.split(':');
    if (colonParts.length === 3) {
      // containerd given a systemd cgroupsPath ("<pod slice>:<prefix>:<id>") while writing
      // cgroupfs makes it one directory name: pod and container in a single segment.
      const slicePod = podOf(colonParts[0] ?? '', undefined);
      const sliceContainer = containerOf(`${colonParts[1] ?? ''}-${colonParts[2] ?? ''}`, undefined);
      if (slicePod !== undefined) pod = { ...slicePod, at };
      if (sliceContainer !== undefined) container = { ...sliceContainer, at };
      continue;
    }
    const parent = segments[at - 1];
    const segmentPod = podOf(segment, parent);
    if (segmentPod !== undefined) {
      pod = { ...segmentPod, at };
      continue;
    }
    const monitor = CONMON.exec(segment);
    if (monitor !== null) {
      conmon = { at, runtime: RUNTIME_OF_PREFIX[monitor[1] ?? ''] ?? 'cri-o' };
      continue;
    }
    const segmentContainer = containerOf(segment, parent);
    if (segmentContainer !== undefined) container = { ...segmentContainer, at };
  }

  if (container !== undefined && (pod === undefined || container.at >= pod.at)) {
    // A pod counts only as the container's direct parent: one further out is another layer
    // (e.g. a docker-in-pod container), whose pod would misattribute the inner container.
    const owner = pod !== undefined && container.at - pod.at <= 1 ? pod : undefined;
    return compact({
      podUid: owner?.uid,
      containerId: container.id,
      runtime: container.runtime,
      qosClass: owner?.qosClass,
    });
  }
  if (pod !== undefined) {
    // In the pod but in no container: conmon (CRI-O's monitor sits in the pod slice, a sibling
    // of the containers) or a process the runtime left in the pod cgroup itself.
    const runtime = conmon !== undefined && conmon.at === pod.at + 1 ? conmon.runtime : undefined;
    return compact({ podUid: pod.uid, runtime, qosClass: pod.qosClass });
  }
  return undefined;
}

interface PodMark {
  uid: string;
  qosClass?: QosClass;
}

interface ContainerMark {
  id: string;
  runtime?: ContainerRuntime;
}

const MAX_LINE = 8192; // twice PATH_MAX: no procfs line is longer

/** systemd driver, optionally under kind's `kubelet-` prefix; the QoS is spelled in the name. */
const SYSTEMD_POD = /(?:^|-)kubepods(?:-(burstable|besteffort))?-pod([0-9a-f_]{32,36})\.slice$/;
const CGROUPFS_POD = /^pod([0-9a-f-]{32,36})$/;
const DASHED_UID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HASH_UID = /^[0-9a-f]{32}$/;
const PREFIXED_CONTAINER = /^(cri-containerd|crio|docker|libpod)-([0-9a-f]{64})(?:\.scope)?$/;
const BARE_CONTAINER = /^[0-9a-f]{64}$/;
/** Runtime monitors named after the container they watch; they are not that container. */
const CONMON = /^(crio|libpod)-conmon-[0-9a-f]{64}(?:\.scope)?$/;

const RUNTIME_OF_PREFIX: Record<string, ContainerRuntime> = {
  'cri-containerd': 'containerd',
  crio: 'cri-o',
  docker: 'docker',
  libpod: 'podman',
};

function parseLine(line: string): { path: string; rank: number } | undefined {
  if (line.length > MAX_LINE) return undefined;
  const first = line.indexOf(':');
  const second = first < 0 ? -1 : line.indexOf(':', first + 1);
  if (second < 0) return undefined;
  const hierarchy = line.slice(0, first);
  if (!/^\d+$/.test(hierarchy)) return undefined;
  // The path is everything after the second colon: cgroup names may contain colons themselves.
  const path = line.endsWith('\r') ? line.slice(second + 1, -1) : line.slice(second + 1);
  if (!path.startsWith('/')) return undefined;
  return { path, rank: rankOf(hierarchy, line.slice(first + 1, second)) };
}

/** Where the kubelet and runtimes are sure to have placed the process. */
function rankOf(hierarchy: string, controllers: string): number {
  if (hierarchy === '0' && controllers === '') return 0;
  const list = controllers.split(',');
  if (list.includes('name=systemd')) return 1;
  if (list.includes('memory')) return 2;
  if (list.includes('pids')) return 3;
  return 4;
}

function podOf(segment: string, parent: string | undefined): PodMark | undefined {
  const systemd = SYSTEMD_POD.exec(segment);
  if (systemd !== null) {
    // systemd reserves '-' for nesting, so the kubelet writes the UID's dashes as '_'.
    const uid = canonicalUid((systemd[2] ?? '').replaceAll('_', '-'));
    if (uid === undefined) return undefined;
    return { uid, qosClass: (systemd[1] as QosClass | undefined) ?? 'guaranteed' };
  }
  const cgroupfs = CGROUPFS_POD.exec(segment);
  if (cgroupfs === null) return undefined;
  const uid = canonicalUid(cgroupfs[1] ?? '');
  if (uid === undefined) return undefined;
  // Guaranteed pods sit directly under kubepods; after a `..` the QoS level is simply not known.
  if (parent === 'burstable' || parent === 'besteffort') return { uid, qosClass: parent };
  return parent === 'kubepods' ? { uid, qosClass: 'guaranteed' } : { uid };
}

function canonicalUid(candidate: string): string | undefined {
  return DASHED_UID.test(candidate) || HASH_UID.test(candidate) ? candidate : undefined;
}

function containerOf(segment: string, parent: string | undefined): ContainerMark | undefined {
  const prefixed = PREFIXED_CONTAINER.exec(segment);
  if (prefixed !== null) {
    const runtime = RUNTIME_OF_PREFIX[prefixed[1] ?? ''];
    return runtime === undefined ? { id: prefixed[2] ?? '' } : { id: prefixed[2] ?? '', runtime };
  }
  if (!BARE_CONTAINER.test(segment)) return undefined;
  // Docker's cgroupfs layout is /docker/<id>; under a pod a bare id may be docker or containerd.
  return parent === 'docker' ? { id: segment, runtime: 'docker' } : { id: segment };
}

/** Leaves unknown fields out, so identities compare and serialise without `undefined` keys. */
function compact(identity: ContainerIdentity): ContainerIdentity {
  const out: ContainerIdentity = {};
  if (identity.podUid !== undefined) out.podUid = identity.podUid;
  if (identity.containerId !== undefined) out.containerId = identity.containerId;
  if (identity.runtime !== undefined) out.runtime = identity.runtime;
  if (identity.qosClass !== undefined) out.qosClass = identity.qosClass;
  return out;
}
