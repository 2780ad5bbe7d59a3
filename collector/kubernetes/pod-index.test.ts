import { describe, expect, it } from 'vitest';
import { PodIndex } from './pod-index.js';
import type { PodInfo } from './pod-info.js';

function pod(uid: string, nodeName: string, hostNetwork = false, configUid = ''): PodInfo {
  return { uid, name: `p-${uid}`, namespace: 'ns', nodeName, hostNetwork, podIP: '', workload: { kind: 'Deployment', name: 'd' }, httpPorts: [], configUid };
}

describe('PodIndex', () => {
  it('finds a static pod by the config hash its cgroups carry, until it leaves', () => {
    const index = new PodIndex();
    index.upsert(pod('api-uid', 'n1', true, '18c827a17f0a6b507c2029890cd786ad'));
    expect(index.get('18c827a17f0a6b507c2029890cd786ad')?.uid).toBe('api-uid');
    index.remove('api-uid');
    expect(index.get('18c827a17f0a6b507c2029890cd786ad')).toBeUndefined();
  });

  it('looks pods up by uid and by node, following moves and removals', () => {
    const index = new PodIndex();
    index.upsert(pod('a', 'n1'));
    index.upsert(pod('b', 'n1', true));
    index.upsert(pod('c', ''));
    expect(index.size).toBe(3);
    expect(index.onNode('n1').map((p) => p.uid).sort()).toEqual(['a', 'b']);
    expect(index.hostNetworkPods('n1').map((p) => p.uid)).toEqual(['b']);
    index.upsert(pod('c', 'n2'));
    index.upsert(pod('b', 'n2', true));
    expect(index.onNode('n1').map((p) => p.uid)).toEqual(['a']);
    expect(index.hostNetworkPods('n2').map((p) => p.uid)).toEqual(['b']);
    expect(index.remove('a')).toBe(true);
    expect(index.remove('a')).toBe(false);
    expect(index.onNode('n1')).toEqual([]);
    expect(index.get('c')?.nodeName).toBe('n2');
  });

  it('replaceAll swaps the whole content and reports what left and arrived', () => {
    const index = new PodIndex();
    index.upsert(pod('a', 'n1'));
    index.upsert(pod('b', 'n1'));
    expect(index.replaceAll([pod('b', 'n2'), pod('c', 'n2')])).toEqual({ removed: 1, added: 1 });
    expect([...index.all()].map((p) => p.uid).sort()).toEqual(['b', 'c']);
    expect(index.onNode('n1')).toEqual([]);
    expect(index.onNode('n2')).toHaveLength(2);
  });
});
