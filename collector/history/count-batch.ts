// The collector's live counts of one interval as one message to the history thread: the groups'
// labels as strings and every count in one Float64Array, which postMessage copies whole (no
// object per count crosses threads). Per group in `numbers`: how many labels it has (1: node
// only; 4: node, namespace, pod, workload), n, then n pairs (connection key, count). Pure.

/** What recordCounts reads of a group's counts: a Map, or a slice of a batch. */
export type CountSource = Pick<ReadonlyMap<number, number>, 'size' | 'forEach'>;

/** One node's or pod's live counts by the collector's numeric connection key. */
export interface CountGroup {
  node: string;
  namespace?: string;
  pod?: string;
  workload?: string;
  counts: CountSource;
}

export interface CountBatch {
  labels: string[];
  numbers: Float64Array;
}

const NODE_ONLY = 1;
const WITH_POD = 4;

/** Encodes batches in one growing buffer, each handed out as a copy of its own size (to transfer). */
export class CountBatchWriter {
  private numbers = new Float64Array(1 << 12);
  private length = 0;

  /** The groups as a batch; `numbers` is the caller's (a copy sized to fit, not a view of the buffer). */
  write(groups: Iterable<CountGroup>): CountBatch {
    this.length = 0;
    const labels: string[] = [];
    const put = (value: number, key: number): void => {
      this.push(key);
      this.push(value);
    };
    for (const g of groups) {
      const podless = g.namespace === undefined && g.pod === undefined && g.workload === undefined;
      if (podless) labels.push(g.node);
      else labels.push(g.node, g.namespace ?? '', g.pod ?? '', g.workload ?? '');
      this.push(podless ? NODE_ONLY : WITH_POD);
      this.push(g.counts.size);
      g.counts.forEach(put);
    }
    return { labels, numbers: this.numbers.slice(0, this.length) };
  }

  private push(v: number): void {
    if (this.length === this.numbers.length) {
      const grown = new Float64Array(this.numbers.length * 2);
      grown.set(this.numbers);
      this.numbers = grown;
    }
    this.numbers[this.length++] = v;
  }
}

/** A group's pairs in a batch, read in place. */
class BatchCounts implements CountSource {
  constructor(
    private readonly numbers: Float64Array,
    private readonly from: number,
    readonly size: number,
  ) {}

  forEach(visit: (value: number, key: number, map: ReadonlyMap<number, number>) => void): void {
    const end = this.from + this.size * 2;
    for (let i = this.from; i < end; i += 2) visit(this.numbers[i + 1] as number, this.numbers[i] as number, undefined as never);
  }
}

/** The batch's groups; throws RangeError where its layout is broken (the caller refuses it whole). */
export function* readCountBatch(batch: CountBatch): Generator<CountGroup> {
  const { labels, numbers } = batch;
  if (!Array.isArray(labels) || !(numbers instanceof Float64Array)) throw new RangeError('count batch: not labels and numbers');
  let at = 0;
  let label = 0;
  while (at < numbers.length) {
    const kind = numbers[at];
    const size = numbers[at + 1] as number;
    if ((kind !== NODE_ONLY && kind !== WITH_POD) || label + kind > labels.length) throw new RangeError('count batch: bad group labels');
    if (!Number.isInteger(size) || size < 0 || at + 2 + size * 2 > numbers.length) throw new RangeError('count batch: bad group size');
    const counts = new BatchCounts(numbers, at + 2, size);
    const node = labels[label] as string;
    if (kind === NODE_ONLY) yield { node, counts };
    else yield { node, namespace: labels[label + 1] as string, pod: labels[label + 2] as string, workload: labels[label + 3] as string, counts };
    label += kind;
    at += 2 + size * 2;
  }
  if (label !== labels.length) throw new RangeError('count batch: labels left over');
}
