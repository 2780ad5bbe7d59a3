// Surge alerts through the collector: a burst from one address after a steady baseline shows
// in /api/v1/alerts naming that address, in fleetstat_alerts_active, and in the log; it ends
// when the load falls back.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Collector } from '../collector/collector.js';
import type { AlertChange } from '../collector/alerts/alert-types.js';
import { SurgeDetector } from '../collector/alerts/surge-detector.js';
import { encodeLoad } from './support/alert-snapshots.js';

describe('alerts through the collector', () => {
  const changes: AlertChange[] = [];
  const logged: { msg: string; alert?: string }[] = [];
  const alerts = new SurgeDetector({ thresholds: { baseline: { alpha: 0.2, warmup: 5 } } });
  let collector: Collector;
  let base = '';
  let seq = 0;
  const send = (established: number, remotes: Record<string, number>): void => {
    collector.state.ingest(encodeLoad({ node: 'a', seq: ++seq, inbound: { 80: { 1: established } }, remotes: { 80: remotes } }), { transport: 'grpc' });
    collector.evaluateAlerts(alerts);
  };

  beforeAll(async () => {
    const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as { msg: string }) });
    collector = new Collector({ cluster: 'test', logger, alerts, onAlert: (change) => changes.push(change) });
    base = `http://127.0.0.1:${(await collector.start('127.0.0.1', 0)).port}`;
    for (let i = 0; i < 10; i++) send(100 + (i % 3), { '198.18.0.2': 40, '198.18.0.3': 30 });
  });

  afterAll(async () => {
    await collector.stop();
  });

  it('a steady load raises nothing', async () => {
    expect(changes).toEqual([]);
    expect(await (await fetch(`${base}/api/v1/alerts`)).json()).toEqual({ active: [], recent: [] });
  });

  it('a burst from one address raises a connection surge naming it, within 2 evaluations', async () => {
    send(900, { '198.18.0.66': 800, '198.18.0.2': 40 });
    const raised = changes.filter((c) => c.type === 'raised');
    expect(raised.map((c) => [c.alert.kind, c.alert.scope.node ?? '*', c.alert.topRemotes[0]?.address]).sort()).toEqual([
      ['connection_surge', '*', '198.18.0.66'],
      ['connection_surge', 'a', '198.18.0.66'],
    ]);
    const body = (await (await fetch(`${base}/api/v1/alerts`)).json()) as { active: { kind: string }[] };
    expect(body.active).toHaveLength(2);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('fleetstat_alerts_active{kind="connection_surge"} 2');
    expect(logged.filter((l) => l.msg === 'alert raised')).toHaveLength(2);
  });

  it('ends when the load falls back, and keeps the alert in recent', async () => {
    for (let i = 0; i < 4; i++) send(100, { '198.18.0.2': 40 });
    const body = (await (await fetch(`${base}/api/v1/alerts`)).json()) as { active: unknown[]; recent: { endedAt?: number }[] };
    expect(body.active).toEqual([]);
    expect(body.recent).toHaveLength(2);
    expect(body.recent.every((a) => typeof a.endedAt === 'number')).toBe(true);
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('fleetstat_alerts_active{kind="connection_surge"} 0');
  });
});
