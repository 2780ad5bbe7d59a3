// What both the baseline and fleetstat's counting mode compute in the parse benchmark, so
// their results can be compared before their times are.

export interface PortStateCounts {
  byState: Uint32Array;
  byLocalPort: Uint32Array;
  byRemotePort: Uint32Array;
}

export function emptyCounts(): PortStateCounts {
  return { byState: new Uint32Array(16), byLocalPort: new Uint32Array(65536), byRemotePort: new Uint32Array(65536) };
}

export function resetCounts(counts: PortStateCounts): void {
  counts.byState.fill(0);
  counts.byLocalPort.fill(0);
  counts.byRemotePort.fill(0);
}

export function sameCounts(a: PortStateCounts, b: PortStateCounts): boolean {
  const same = (x: Uint32Array, y: Uint32Array): boolean => x.length === y.length && x.every((v, i) => v === y[i]);
  return same(a.byState, b.byState) && same(a.byLocalPort, b.byLocalPort) && same(a.byRemotePort, b.byRemotePort);
}

/** Non-zero states as { stateCode: count }. */
export function statesOf(counts: PortStateCounts): Record<string, number> {
  const out: Record<string, number> = {};
  counts.byState.forEach((count, state) => {
    if (count > 0) out[String(state)] = count;
  });
  return out;
}
