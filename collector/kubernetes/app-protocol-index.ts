// Pod uid → the HTTP ports its Services declare with appProtocol (from EndpointSlices). A pod
// behind several Services, or one Service cut into several slices, gets the union. Slices
// without an HTTP port are not kept at all.

import type { SlicePorts } from './endpoint-slice-ports.js';
import type { PodInfo } from './pod-info.js';

export class AppProtocolIndex {
  private bySlice = new Map<string, SlicePorts>();
  private byPod = new Map<string, Map<string, readonly number[]>>();

  /** Slices held (those with at least one HTTP port). */
  get size(): number {
    return this.bySlice.size;
  }

  /** Sorted, unique HTTP ports declared for the pod through Services; [] when none. */
  portsForPod(podUid: string): number[] {
    const slices = this.byPod.get(podUid);
    if (!slices) return [];
    const ports = new Set<number>();
    for (const list of slices.values()) for (const port of list) ports.add(port);
    return [...ports].sort((a, b) => a - b);
  }

  upsert(slice: SlicePorts): void {
    this.remove(slice.uid);
    if (slice.ports.length === 0) return;
    this.bySlice.set(slice.uid, slice);
    for (const podUid of slice.podUids) {
      let slices = this.byPod.get(podUid);
      if (!slices) this.byPod.set(podUid, (slices = new Map()));
      slices.set(slice.uid, slice.ports);
    }
  }

  remove(sliceUid: string): void {
    const old = this.bySlice.get(sliceUid);
    if (!old) return;
    this.bySlice.delete(sliceUid);
    for (const podUid of old.podUids) {
      const slices = this.byPod.get(podUid);
      slices?.delete(sliceUid);
      if (slices?.size === 0) this.byPod.delete(podUid);
    }
  }

  /** In one synchronous step, like PodIndex.replaceAll. */
  replaceAll(slices: Iterable<SlicePorts>): { removed: number; added: number } {
    const old = this.bySlice;
    this.bySlice = new Map();
    this.byPod = new Map();
    for (const slice of slices) this.upsert(slice);
    let removed = 0;
    let added = 0;
    for (const uid of old.keys()) if (!this.bySlice.has(uid)) removed++;
    for (const uid of this.bySlice.keys()) if (!old.has(uid)) added++;
    return { removed, added };
  }
}

/** A pod's HTTP ports: its named container ports plus its Services' appProtocol ports. */
export function podHttpPorts(pod: PodInfo, appProtocols: AppProtocolIndex | undefined): number[] {
  const declared = appProtocols?.portsForPod(pod.uid) ?? [];
  if (declared.length === 0) return [...pod.httpPorts];
  return [...new Set([...pod.httpPorts, ...declared])].sort((a, b) => a - b);
}
