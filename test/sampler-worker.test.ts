// The sampling worker as the agent runs it: the built worker file, off the event loop.
import { describe, expect, it } from 'vitest';
import { Sampler } from '../dist/agent/sampler/sampler.js';
import { NodeSampler } from '../agent/sampler/sample-node.js';

const options = { procRoot: '/proc', netns: 'all' as const, httpPorts: [80], topK: 3, maxPidsListed: 4, node: 'test' };

describe('Sampler (worker thread)', () => {
  it('returns what an in-process sample returns', async () => {
    const sampler = new Sampler(options);
    try {
      const fromWorker = await sampler.sample(30_000);
      const direct = new NodeSampler(options).sample();
      const identity = (s: typeof direct): unknown => s.namespaces.map((n) => [n.inode, n.host, n.processName]);
      expect(identity(fromWorker)).toEqual(identity(direct));
      expect(fromWorker.parse.files).toBeGreaterThan(0);
    } finally {
      await sampler.close();
    }
  });

  it('rejects a sample that outlives its time limit, then keeps working', async () => {
    const sampler = new Sampler(options);
    try {
      await expect(sampler.sample(0)).rejects.toThrow(/longer than 0 ms/);
      await expect(sampler.sample(30_000)).resolves.toHaveProperty('namespaces');
    } finally {
      await sampler.close();
    }
  });

  it('close is safe twice and later samples are refused', async () => {
    const sampler = new Sampler(options);
    await sampler.close();
    await sampler.close();
    await expect(sampler.sample(1000)).rejects.toThrow(/closed/);
  });
});
