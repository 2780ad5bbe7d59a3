import { describe, expect, it } from 'vitest';
import { ReceptionGaps } from './reception-gaps.js';

describe('ReceptionGaps', () => {
  it('does not judge nodes heard over a link while it is down, and counts their silence from its return', () => {
    const gaps = new ReceptionGaps(() => 0);
    expect(gaps.silentSince('nats', 1000, 2000)).toBe(1000);
    gaps.lost('nats');
    expect(gaps.silentSince('nats', 1000, 9000)).toBeUndefined();
    // JetStream recovery came over the same NATS link; gRPC is a link of its own.
    expect(gaps.silentSince('jetstream', 1000, 9000)).toBeUndefined();
    expect(gaps.silentSince('grpc', 1000, 9000)).toBe(1000);
    gaps.resumed('nats', 9500);
    expect(gaps.silentSince('nats', 1000, 9600)).toBe(9500);
    // A node heard after the return is judged from its own snapshot.
    expect(gaps.silentSince('nats', 9800, 9900)).toBe(9800);
  });

  it('takes a heartbeat far overdue for a paused process, even when a query judges before the timer runs', () => {
    const clock = { mono: 0 };
    const gaps = new ReceptionGaps(() => clock.mono);
    gaps.heartbeat(10_000, 1000);
    clock.mono = 1900; // late, but within two periods: an ordinary slow tick
    expect(gaps.silentSince('nats', 5000, 11_900)).toBe(5000);
    gaps.heartbeat(11_900, 1000);
    clock.mono = 9900; // 8 s without a tick: SIGSTOP
    expect(gaps.silentSince('grpc', 5000, 19_900)).toBe(19_900);
    expect(gaps.silentSince('nats', 5000, 19_950)).toBe(19_900);
    gaps.heartbeat(19_950, 1000);
    expect(gaps.silentSince('nats', 5000, 20_000)).toBe(19_900);
  });

  it('never sees a pause without heartbeats (a collector without its timer, as unit tests drive it)', () => {
    const clock = { mono: 0 };
    const gaps = new ReceptionGaps(() => clock.mono);
    clock.mono = 1e9;
    expect(gaps.silentSince('nats', 5, 1e9)).toBe(5);
  });
});
