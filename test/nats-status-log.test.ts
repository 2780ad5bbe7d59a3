// The shared NATS status log without a server: reconnect pacing doubles per attempt and starts
// over on reconnect; refusals are counted every time and logged once per window; one outage is
// one disconnect however many the client reports.
import { errors } from '@nats-io/transport-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ReconnectDelay } from '../agent/publish/nats-reconnect-delay.js';
import { NatsStatusLog } from '../agent/publish/nats-status-log.js';

function recorder() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as (typeof lines)[number]) });
  return { lines, logger };
}

describe('ReconnectDelay', () => {
  it('doubles from the first wait to the cap, adds jitter per attempt, and starts over when connected', () => {
    const delay = new ReconnectDelay({ initialMs: 100, maxMs: 1000, jitterMs: 10 }, () => 0.5);
    expect(delay.wait()).toBe(100);
    const waits = [];
    for (let i = 0; i < 6; i++) {
      delay.attempting();
      waits.push(delay.wait());
      expect(delay.wait()).toBe(waits[i]); // asked again between attempts: the same answer
    }
    expect(waits).toEqual([105, 205, 405, 805, 1005, 1005]);
    expect(delay.attempts()).toBe(6);
    delay.connected();
    expect([delay.wait(), delay.attempts()]).toEqual([100, 0]);
  });
});

describe('NatsStatusLog', () => {
  it('logs a repeated refusal once per window with the count, and counts every one', () => {
    let now = 0;
    const { lines, logger } = recorder();
    const log = new NatsStatusLog({ logger, delay: new ReconnectDelay({ initialMs: 100, maxMs: 1000, jitterMs: 0 }), logEveryMs: 60_000, now: () => now });
    const refusal = new errors.PermissionViolationError("Permissions Violation for Publish to \"a.b\"", 'publish', 'a.b');
    for (let i = 0; i < 5; i++) {
      log.on({ type: 'error', error: refusal });
      now += 1000;
    }
    expect(lines.map((l) => l.msg)).toEqual(['the NATS server refused to let this user publish to a.b (its subject permissions do not allow it)']);
    expect(lines[0]).toMatchObject({ level: 50, operation: 'publish', subject: 'a.b' });
    now += 60_000;
    log.on({ type: 'error', error: refusal });
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ repeats: 5 });
    expect(log.counters().permissionViolations).toBe(6);
    expect(log.refusedPublishesTo('a.b')).toBe(6);
    expect(log.lastError()).toMatch(/publish to a\.b/);
  });

  it('counts one outage however many disconnects the client reports, paces attempts, and says why it is still down', () => {
    let now = 0;
    const { lines, logger } = recorder();
    const delay = new ReconnectDelay({ initialMs: 100, maxMs: 1000, jitterMs: 0 });
    const log = new NatsStatusLog({ logger, delay, logEveryMs: 10_000, now: () => now });
    log.on({ type: 'disconnect', server: 's' });
    log.on({ type: 'error', error: new errors.AuthorizationError('Authorization Violation') });
    log.on({ type: 'disconnect', server: 's' });
    for (let i = 0; i < 4; i++) {
      now += 3000;
      log.on({ type: 'reconnecting' });
    }
    expect(delay.wait()).toBe(800);
    log.on({ type: 'reconnect', server: 's' });
    log.on({ type: 'reconnect', server: 's' });
    expect(log.counters()).toEqual({ disconnects: 1, reconnects: 1, authErrors: 1, permissionViolations: 0 });
    expect(lines.map((l) => l.msg)).toEqual([
      'NATS disconnected; reconnecting with backoff',
      'the NATS server refused the credentials: Authorization Violation',
      'still not connected to NATS; retrying with backoff',
      'NATS reconnected',
    ]);
    expect(lines[2]).toMatchObject({ downMs: 12_000, attempts: 4, reason: 'the NATS server refused the credentials: Authorization Violation' });
    expect(lines[3]).toMatchObject({ attempts: 4, downMs: 12_000 });
    expect(delay.wait()).toBe(100);
    expect(log.lastError()).toBeUndefined();
  });
});
