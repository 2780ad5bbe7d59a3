import { describe, expect, it } from 'vitest';
import type { CountGroup } from './count-batch.js';
import { CountBatchWriter, readCountBatch } from './count-batch.js';

const plain = (groups: Iterable<CountGroup>): unknown[] =>
  [...groups].map(({ counts, ...labels }) => {
    const pairs: Array<[number, number]> = [];
    counts.forEach((value, key) => pairs.push([key, value]));
    return { ...labels, size: counts.size, pairs };
  });

describe('count batches', () => {
  const groups: CountGroup[] = [
    { node: 'n1', counts: new Map([[80, 3], [2 ** 40 + 443, 1e12]]) },
    { node: 'n1', namespace: 'shop', pod: 'web-1', workload: 'Deployment/web', counts: new Map([[80, 2.5]]) },
    { node: 'n2', counts: new Map() },
    { node: 'n3', pod: 'bare', counts: new Map([[22, 0]]) },
  ];

  it('carries every group, label and count across, in order', () => {
    const writer = new CountBatchWriter();
    expect(plain(readCountBatch(writer.write(groups)))).toEqual(plain(groups.map((g) => (g.pod === 'bare' ? { ...g, namespace: '', workload: '' } : g))));
    // The buffer is reused and grows: a second, larger batch is whole too.
    const many = Array.from({ length: 3000 }, (_, i) => ({ node: `node-${i}`, counts: new Map([[80, i], [443, i * 2]]) }));
    expect(plain(readCountBatch(structuredClone(writer.write(many))))).toEqual(plain(many));
  });

  it('throws RangeError on a batch whose layout is broken', () => {
    const batch = new CountBatchWriter().write(groups);
    const broken = [
      { labels: batch.labels.slice(0, 2), numbers: batch.numbers },
      { labels: [...batch.labels, 'extra'], numbers: batch.numbers },
      { labels: batch.labels, numbers: batch.numbers.subarray(0, batch.numbers.length - 1) },
      { labels: batch.labels, numbers: Float64Array.from(batch.numbers, (v, i) => (i === 0 ? 2 : v)) },
      { labels: batch.labels, numbers: Float64Array.from(batch.numbers, (v, i) => (i === 1 ? 1.5 : v)) },
      { labels: batch.labels, numbers: [1, 0] as unknown as Float64Array },
      { labels: 'n1' as unknown as string[], numbers: batch.numbers },
    ];
    for (const b of broken) expect(() => [...readCountBatch(b)]).toThrow(RangeError);
  });
});
