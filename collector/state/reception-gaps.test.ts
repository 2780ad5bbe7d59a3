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
    clock.mono = 9900; // 8 s without a tick: SIGSTOP, from when the next tick was due (12_900) to 19_900
    expect(gaps.silentSince('grpc', 5000, 19_900)).toBe(12_000);
    expect(gaps.silentSince('nats', 5000, 19_950)).toBe(12_000);
    gaps.heartbeat(19_950, 1000);
    expect(gaps.silentSince('nats', 5000, 20_000)).toBe(12_000);
    // Only the part of the pause after a node's last snapshot is left out of its silence.
    expect(gaps.silentSince('nats', 15_000, 20_000)).toBe(19_900);
    expect(gaps.silentSince('nats', 19_950, 20_000)).toBe(19_950);
  });

  it('leaves out of a silence only the time the process did not run, pause after pause', () => {
    const clock = { mono: 0 };
    const gaps = new ReceptionGaps(() => clock.mono);
    // A node quiet since 0, a collector that stalls 2.5 s every 10 s (beats every second otherwise).
    let now = 0;
    for (let stall = 0; stall < 6; stall++) {
      for (let beat = 0; beat < 8; beat++) {
        now += 1000;
        clock.mono = now;
        gaps.heartbeat(now, 1000);
      }
      now += 3500; // 2.5 s late
      clock.mono = now;
      gaps.heartbeat(now, 1000);
    }
    // 69 s since its last snapshot, 15 s of it blind: silent for 54 s, well past 3 intervals of 10 s.
    expect(now).toBe(69_000);
    expect(now - gaps.silentSince('nats', 0, now)!).toBe(54_000);
  });

  it('never sees a pause without heartbeats (a collector without its timer, as unit tests drive it)', () => {
    const clock = { mono: 0 };
    const gaps = new ReceptionGaps(() => clock.mono);
    clock.mono = 1e9;
    expect(gaps.silentSince('nats', 5, 1e9)).toBe(5);
  });
});
