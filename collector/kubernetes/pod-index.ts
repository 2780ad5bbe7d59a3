// The collector's view of the cluster's pods, by UID (what the agent reads from a pod's cgroup)
// and by node (to list the hostNetwork pods that share a node's network namespace). Fed by
// PodWatcher: upserts and removes from the watch, and replaceAll after a (re)list so pods that
// vanished while the watch was down leave in the same step the new ones arrive.

import type { PodInfo } from './pod-info.js';

const MAX_SHARED_STRINGS = 50_000;

export class PodIndex {
  private byUid = new Map<string, PodInfo>();
  private byNode = new Map<string, Map<string, PodInfo>>();
  /** Static pods by the config hash their cgroups carry instead of the mirror pod's uid. */
  private byConfigUid = new Map<string, PodInfo>();
  /**
   * Namespace, node and workload names repeat across thousands of pods, and JSON.parse makes a
   * fresh string for each; one shared copy each keeps the index small. Emptied on replaceAll
   * and whenever it reaches MAX_SHARED_STRINGS, so names of deleted namespaces, nodes and
   * workloads cannot pile up (pods already stored keep their copies either way).
   */
  private strings = new Map<string, string>();

  get size(): number {
    return this.byUid.size;
  }

  /** By API uid, or for a static pod by the config hash its cgroups show. */
  get(uid: string): PodInfo | undefined {
    return this.byUid.get(uid) ?? this.byConfigUid.get(uid);
  }

  /** Every pod, in no particular order. */
  all(): IterableIterator<PodInfo> {
    return this.byUid.values();
  }

  /** The pods scheduled on a node. */
  onNode(nodeName: string): PodInfo[] {
    return [...(this.byNode.get(nodeName)?.values() ?? [])];
  }

  /** The hostNetwork pods on a node: their sockets are in the node's own network namespace. */
  hostNetworkPods(nodeName: string): PodInfo[] {
    return this.onNode(nodeName).filter((p) => p.hostNetwork);
  }

  upsert(pod: PodInfo): void {
    const stored = this.intern(pod);
    const previous = this.byUid.get(stored.uid);
    if (previous) this.unlinkNode(previous);
    this.byUid.set(stored.uid, stored);
    this.linkNode(stored);
  }

  /** True when the pod was known. */
  remove(uid: string): boolean {
    const previous = this.byUid.get(uid);
    if (!previous) return false;
    this.byUid.delete(uid);
    this.unlinkNode(previous);
    return true;
  }

  /**
   * Replaces the whole content in one synchronous step (no reader sees a half-built index).
   * Returns how many pods left and how many are new.
   */
  replaceAll(pods: Iterable<PodInfo>): { removed: number; added: number } {
    const old = this.byUid;
    this.byUid = new Map();
    this.byNode = new Map();
    this.byConfigUid = new Map();
    this.strings = new Map();
    let added = 0;
    for (const pod of pods) {
      if (!old.has(pod.uid) && !this.byUid.has(pod.uid)) added++;
      this.upsert(pod);
    }
    let removed = 0;
    for (const uid of old.keys()) if (!this.byUid.has(uid)) removed++;
    return { removed, added };
  }

  private linkNode(pod: PodInfo): void {
    if (pod.configUid) this.byConfigUid.set(pod.configUid, pod);
    if (!pod.nodeName) return;
    let pods = this.byNode.get(pod.nodeName);
    if (!pods) this.byNode.set(pod.nodeName, (pods = new Map()));
    pods.set(pod.uid, pod);
  }

  private unlinkNode(pod: PodInfo): void {
    if (pod.configUid && this.byConfigUid.get(pod.configUid) === pod) this.byConfigUid.delete(pod.configUid);
    const pods = this.byNode.get(pod.nodeName);
    if (!pods) return;
    pods.delete(pod.uid);
    if (pods.size === 0) this.byNode.delete(pod.nodeName);
  }

  private intern(pod: PodInfo): PodInfo {
    const s = (value: string): string => {
      const shared = this.strings.get(value);
      if (shared !== undefined) return shared;
      if (this.strings.size >= MAX_SHARED_STRINGS) this.strings.clear();
      this.strings.set(value, value);
      return value;
    };
    // A bare pod's workload name is its own name: unique, so nothing to share.
    const unique = pod.workload.kind === 'Pod';
    return {
      ...pod,
      namespace: s(pod.namespace),
      nodeName: s(pod.nodeName),
      workload: { kind: s(pod.workload.kind), name: unique ? pod.workload.name : s(pod.workload.name) },
    };
  }
}
