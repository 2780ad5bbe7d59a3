// Bounded heavy-hitter counting of remote addresses (the Space-Saving algorithm): memory stays at
// `capacity` entries however many distinct clients there are, and any address holding more than
// total/capacity connections is guaranteed to be kept, which is what a DoS view needs.

export interface RemoteTally {
  address: string;
  count: number;
}

export class TopRemotes {
  private readonly counts = new Map<string, number>();
  total = 0;

  constructor(private readonly capacity = 256) {}

  add(address: string): void {
    this.total++;
    const current = this.counts.get(address);
    if (current !== undefined) {
      this.counts.set(address, current + 1);
      return;
    }
    if (this.counts.size < this.capacity) {
      this.counts.set(address, 1);
      return;
    }
    // Replace the smallest entry; the newcomer inherits its count as an upper bound.
    let minAddress = '';
    let minCount = Infinity;
    for (const [candidate, count] of this.counts) {
      if (count < minCount) {
        minCount = count;
        minAddress = candidate;
      }
    }
    this.counts.delete(minAddress);
    this.counts.set(address, minCount + 1);
  }

  /** The k largest (see topOf). */
  top(k: number): RemoteTally[] {
    return topOf(this.counts, k);
  }
}

/** The k largest of a tally, count descending then address ascending (stable between runs, tests and diffs). */
export function topOf(counts: ReadonlyMap<string, number>, k: number): RemoteTally[] {
  return [...counts]
    .map(([address, count]) => ({ address, count }))
    .sort((a, b) => b.count - a.count || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0))
    .slice(0, k);
}
