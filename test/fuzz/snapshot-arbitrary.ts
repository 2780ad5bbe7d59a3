// Generated Snapshots that pass the collector's schema rules, for round-trip properties and as
// the seeds that mutation turns hostile.
import fc from 'fast-check';
import type { Snapshot } from '../../proto/gen/fleetstat/v1/snapshot.js';

const name = fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,20}$/);
const u32 = fc.nat({ max: 0xffff_ffff });
const u53 = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }));
const port = fc.integer({ min: 1, max: 65535 });
const direction = fc.constantFrom(1, 2);

const namespace = fc.record({
  inode: u53,
  host: fc.boolean(),
  pidCount: u32,
  pids: fc.array(u32, { maxLength: 16 }),
  processName: text,
  cgroup: text,
  ports: fc.array(fc.record({ port, direction, state: fc.integer({ min: 1, max: 12 }), count: u32, http: fc.boolean() }), { maxLength: 8 }),
  listeners: fc.array(fc.record({ address: text, port, acceptQueue: u32, http: fc.boolean() }), { maxLength: 5 }),
  topRemotes: fc.array(
    fc.record({ port, direction, remotes: fc.array(fc.record({ address: text, count: u32 }), { maxLength: 5 }), other: u32 }),
    { maxLength: 3 },
  ),
  totals: fc.array(fc.record({ table: fc.integer({ min: 0, max: 7 }), state: fc.integer({ min: 0, max: 12 }), count: u32 }), { maxLength: 10 }),
  parse: fc.option(fc.record({ lines: u53, badLines: u53, bytes: u53, readMicros: u32, files: u32, failedFiles: u32 }), { nil: undefined }),
  containers: fc.array(fc.record({ podUid: text, containerId: text, runtime: text, pidCount: u32 }), { maxLength: 3 }),
});

export const validSnapshot: fc.Arbitrary<Snapshot> = fc.record({
  cluster: fc.constant('test'),
  node: name,
  epoch: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  agentTimeMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  intervalMs: fc.integer({ min: 100, max: 3_600_000 }),
  goodbye: fc.boolean(),
  httpPorts: fc.array(port, { maxLength: 8 }),
  namespaces: fc.array(namespace, { maxLength: 3 }),
  parse: fc.constant(undefined),
  agentVersion: text,
  detailAddress: text,
});
