import { describe, expect, it } from 'vitest';
import { connectionKey } from '../agent/snapshot/connection-key.js';
import { encodeSnapshot } from '../test/support/snapshots.js';
import { FleetState } from './fleet-state.js';

const ESTABLISHED = 1;
const TIME_WAIT = 6;
const IN = 1;

function fleet(): { state: FleetState; clock: { now: number } } {
  const clock = { now: 10_000 };
  return { state: new FleetState({ cluster: 'test', now: () => clock.now, maxSnapshotBytes: 64 * 1024 }), clock };
}
const grpc = (claimedNode?: string) => (claimedNode ? { transport: 'grpc' as const, claimedNode } : { transport: 'grpc' as const });

describe('FleetState', () => {
  it('sums live nodes and replaces a node\'s contribution on each snapshot', () => {
    const { state } = fleet();
    state.ingest(encodeSnapshot({ node: 'a', seq: 1, http: [[80, 'in', ESTABLISHED, 5]] }), grpc('a'));
    state.ingest(encodeSnapshot({ node: 'b', seq: 1, http: [[80, 'in', ESTABLISHED, 2], [80, 'in', TIME_WAIT, 1]] }), grpc());
    expect(state.totals.http.get(connectionKey(80, IN, ESTABLISHED))).toBe(7);
    state.ingest(encodeSnapshot({ node: 'a', seq: 2, http: [[80, 'in', ESTABLISHED, 1]] }), grpc('a'));
    expect(state.totals.http.get(connectionKey(80, IN, ESTABLISHED))).toBe(3);
    expect(state.totals.httpTotal).toBe(4);
  });

  it('never double counts duplicated, reordered or replayed snapshots', () => {
    const { state } = fleet();
    const s1 = encodeSnapshot({ node: 'a', seq: 1, http: [[80, 'in', ESTABLISHED, 5]] });
    const s2 = encodeSnapshot({ node: 'a', seq: 2, http: [[80, 'in', ESTABLISHED, 6]] });
    expect(state.ingest(s2, grpc('a'))).toEqual({ accepted: true });
    expect(state.ingest(s1, grpc('a'))).toMatchObject({ accepted: false, reason: 'stale_sequence' });
    expect(state.ingest(s2, grpc('a'))).toMatchObject({ accepted: false, reason: 'stale_sequence' });
    expect(state.totals.httpTotal).toBe(6);
    // A restarted agent (new epoch, later clock) replaces the old run; the old run can't come back.
    expect(state.ingest(encodeSnapshot({ node: 'a', epoch: 2, seq: 1, agentTimeMs: 2e6, http: [[80, 'in', ESTABLISHED, 1]] }), grpc('a'))).toEqual({ accepted: true });
    expect(state.ingest(encodeSnapshot({ node: 'a', epoch: 1, seq: 3, agentTimeMs: 3e6 }), grpc('a'))).toMatchObject({ accepted: false });
    expect(state.totals.httpTotal).toBe(1);
    expect(state.counters.rejected.get('stale_sequence')).toBe(3);
  });

  it('turns a node stale after 3 missed intervals, drops it from totals, and revives it', () => {
    const { state, clock } = fleet();
    state.ingest(encodeSnapshot({ node: 'a', seq: 1, intervalMs: 1000, http: [[443, 'in', ESTABLISHED, 4]] }), grpc('a'));
    clock.now += 3000;
    expect(state.sweep()).toEqual([]);
    clock.now += 1;
    expect(state.sweep().map((r) => r.name)).toEqual(['a']);
    expect(state.registry.get('a')?.status).toBe('stale');
    expect(state.totals.httpTotal).toBe(0);
    state.ingest(encodeSnapshot({ node: 'a', seq: 2, http: [[443, 'in', ESTABLISHED, 3]] }), grpc('a'));
    expect(state.registry.get('a')?.status).toBe('live');
    expect(state.totals.httpTotal).toBe(3);
  });

  it('removes a node at once on goodbye, and accepts its next run', () => {
    const { state } = fleet();
    state.ingest(encodeSnapshot({ node: 'a', seq: 1, http: [[80, 'in', ESTABLISHED, 4]] }), grpc('a'));
    state.ingest(encodeSnapshot({ node: 'a', seq: 2, goodbye: true }), grpc('a'));
    expect(state.registry.get('a')).toMatchObject({ status: 'stale', staleReason: 'goodbye' });
    expect(state.totals.httpTotal).toBe(0);
    // Even with its clock stepped back, the next run is accepted: its predecessor is gone.
    const restarted = encodeSnapshot({ node: 'a', epoch: 9, seq: 1, agentTimeMs: 1, http: [[80, 'in', ESTABLISHED, 2]] });
    expect(state.ingest(restarted, grpc('a'))).toEqual({ accepted: true });
    expect(state.totals.httpTotal).toBe(2);
  });

  it('accepts a restarted agent whose clock stepped back once its predecessor missed an interval, not before', () => {
    const { state, clock } = fleet();
    state.ingest(encodeSnapshot({ node: 'a', epoch: 1, seq: 5, agentTimeMs: 100_000, intervalMs: 1000, http: [[80, 'in', ESTABLISHED, 4]] }), grpc('a'));
    const behind = (seq: number) => encodeSnapshot({ node: 'a', epoch: 2, seq, agentTimeMs: 70_000 + seq, intervalMs: 1000, http: [[80, 'in', ESTABLISHED, 7]] });
    clock.now += 900;
    // Both runs might still be live: the old one, ahead by its clock, keeps the node.
    expect(state.ingest(behind(1), grpc('a'))).toMatchObject({ accepted: false, reason: 'stale_sequence' });
    clock.now += 200;
    // The old run missed its interval: the new run takes over at once, not 3 intervals later when the node would turn stale.
    expect(state.ingest(behind(2), grpc('a'))).toEqual({ accepted: true });
    expect(state.registry.get('a')).toMatchObject({ status: 'live' });
    expect(state.totals.httpTotal).toBe(7);
    // And the old run cannot come back.
    expect(state.ingest(encodeSnapshot({ node: 'a', epoch: 1, seq: 6, agentTimeMs: 100_001 }), grpc('a'))).toMatchObject({ accepted: false });
  });

  it('judges no node stale for silence while its link was down, and counts silence again from its return', () => {
    const { state, clock } = fleet();
    const nats = { transport: 'nats' as const, claimedNode: 'a' };
    state.ingest(encodeSnapshot({ node: 'a', seq: 1, intervalMs: 1000, http: [[80, 'in', ESTABLISHED, 4]] }), nats);
    state.ingest(encodeSnapshot({ node: 'b', seq: 1, intervalMs: 1000, http: [[80, 'in', ESTABLISHED, 1]] }), grpc('b'));
    state.receptionLost('nats');
    clock.now += 10_000;
    // b's silence was heard (gRPC was fine); a's was the collector's own.
    expect(state.sweep().map((r) => r.name)).toEqual(['b']);
    state.receptionResumed('nats');
    clock.now += 3000;
    expect(state.sweep()).toEqual([]);
    expect(state.totals.httpTotal).toBe(4);
    clock.now += 1;
    expect(state.sweep().map((r) => r.name)).toEqual(['a']);
  });

  it('rejects garbage, oversize, foreign cluster and a node that is not its subject, counted by reason', () => {
    const { state } = fleet();
    expect(state.ingest(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f]), grpc())).toMatchObject({ reason: 'malformed' });
    expect(state.ingest(new Uint8Array(64 * 1024 + 1), grpc())).toMatchObject({ reason: 'too_large' });
    expect(state.ingest(encodeSnapshot({ node: 'a', seq: 1, cluster: 'other' }), grpc())).toMatchObject({ reason: 'cluster_mismatch' });
    expect(state.ingest(encodeSnapshot({ node: 'a', seq: 1 }), grpc('b'))).toMatchObject({ reason: 'node_mismatch' });
    expect(state.ingest(encodeSnapshot({ node: 'a b', seq: 1 }), grpc())).toMatchObject({ reason: 'invalid' });
    expect(state.ingest(encodeSnapshot({ node: 'a', seq: 0 }), grpc())).toMatchObject({ reason: 'invalid' });
    expect(Object.fromEntries(state.counters.rejected)).toEqual({ malformed: 1, too_large: 1, cluster_mismatch: 1, node_mismatch: 1, invalid: 2 });
    expect(state.registry.size).toBe(0);
    expect(state.counters.received.get('grpc')).toBe(6);
  });
});
