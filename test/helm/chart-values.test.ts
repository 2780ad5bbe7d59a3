// The chart's values: the schema refuses what it does not know, NOTES.txt (and the collector's
// template) fail on contradictory settings, every value is documented, and the optional
// monitoring objects use only metrics the collector exports.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { findNatsServerOnPath } from '../support/nats-server.js';
import { CHART, NAMESPACE, ROOT, find, helm, one, render, templateArgs } from './render-chart.js';
import type { K8sObject } from './render-chart.js';

type Schema = { properties?: Record<string, Schema>; additionalProperties?: boolean | Schema; items?: Schema; definitions?: Record<string, Schema>; [k: string]: unknown };

/** Kubernetes types handed through as they are (the API server validates them). */
const PASS_THROUGH = new Set([
  'global',
  'definitions.affinity.nodeAffinity',
  'definitions.affinity.podAffinity',
  'definitions.affinity.podAntiAffinity',
  'definitions.envVar.valueFrom.configMapKeyRef',
  'definitions.envVar.valueFrom.fieldRef',
  'definitions.envVar.valueFrom.resourceFieldRef',
  'definitions.envVar.valueFrom.secretKeyRef',
]);

describe('values.schema.json', () => {
  const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as Schema;

  it('closes every object: additionalProperties false, or a typed map, or a listed Kubernetes pass-through', () => {
    const open: string[] = [];
    const walk = (s: Schema, path: string) => {
      if (s.type === 'object' || s.properties) {
        if (s.additionalProperties === undefined || (s.additionalProperties === true && !PASS_THROUGH.has(path))) open.push(path);
      }
      for (const [k, sub] of Object.entries(s.properties ?? {})) walk(sub, path ? `${path}.${k}` : k);
      for (const [k, sub] of Object.entries(s.definitions ?? {})) walk(sub, `definitions.${k}`);
      if (s.items) walk(s.items, `${path}[]`);
    };
    walk(schema, '');
    expect(open).toEqual([]);
  });

  it.each([
    ['bogus=1', "additional properties 'bogus' not allowed"],
    ['agent.bogus=1', "additional properties 'bogus' not allowed"],
    ['agent.securityContext.bogus=true', "additional properties 'bogus' not allowed"],
    ['nats.embedded.jetstream.bogus=1', "additional properties 'bogus' not allowed"],
    ['transport=udp', 'transport'],
    ['agent.netns=none', 'netns'],
    ['agent.interval=10', 'interval'],
    ['agent.httpPorts[0]=http', 'httpPorts'],
    ['agent.hostProc=proc', 'hostProc'],
    ['cluster=a/b', 'cluster'],
  ])('refuses --set %s', async (set, message) => {
    const result = await helm(templateArgs({ set: [set] }));
    expect(result.ok).toBe(false);
    expect(result.stderr).toContain(message);
  });

  it('documents every value in the chart README', () => {
    const readme = readFileSync(join(CHART, 'README.md'), 'utf8');
    const keys: string[] = [];
    const walk = (v: unknown, path: string) => {
      const isMap = v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0;
      // Maps of Kubernetes fields (security contexts, resources) are documented as a whole.
      if (!isMap || /securityContext$|SecurityContext$|Probe$|resources$|updateStrategy$|labels$/i.test(path)) return void keys.push(path);
      for (const [k, sub] of Object.entries(v as object)) walk(sub, path ? `${path}.${k}` : k);
    };
    walk(parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')), '');
    expect(keys.filter((k) => !readme.includes(`\`${k}\``))).toEqual([]);
  });
});

describe('invalid combinations', () => {
  it.each([
    [['nats.embedded.enabled=false'], 'transport nats needs a NATS server'],
    [['nats.url=nats://nats:4222'], 'nats.url is set and nats.embedded.enabled is true'],
    [['transport=grpc'], 'transport grpc uses no NATS: set nats.embedded.enabled=false'],
    [['transport=grpc', 'nats.embedded.enabled=false', 'nats.url=nats://nats:4222'], 'leave nats.url empty'],
    [['transport=grpc', 'nats.embedded.enabled=false', 'collector.replicaCount=2'], 'transport grpc needs collector.replicaCount=1'],
    [['collector.persistence.enabled=true', 'collector.replicaCount=2'], 'ReadWriteOnce volume needs collector.replicaCount=1'],
    [['nats.embedded.maxPayloadBytes=1048576', 'collector.maxSnapshotBytes=4194304'], 'maxPayloadBytes is below collector.maxSnapshotBytes'],
    [['collector.podDisruptionBudget.maxUnavailable=null'], 'needs maxUnavailable or minAvailable'],
  ])('fails for --set %j', async (set, message) => {
    const result = await helm(templateArgs({ set }));
    expect(result.ok).toBe(false);
    expect(result.stderr).toContain(message);
  });

  describe('NOTES.txt on its own', () => {
    let copy: string;
    beforeAll(() => {
      // Drop the check from the collector's template so that only NOTES.txt is left to fail.
      copy = mkdtempSync(join(tmpdir(), 'fleetstat-chart-'));
      cpSync(CHART, copy, { recursive: true });
      const deployment = join(copy, 'templates/collector-deployment.yaml');
      writeFileSync(deployment, readFileSync(deployment, 'utf8').replace('{{- include "fleetstat.validate" . }}\n', ''));
    });
    afterAll(() => rmSync(copy, { recursive: true, force: true }));

    it('fails an install of a contradictory configuration', async () => {
      const result = await helm(templateArgs({ chart: copy, set: ['nats.embedded.enabled=false'] }));
      expect(result.ok).toBe(false);
      expect(result.stderr).toMatch(/NOTES\.txt.*transport nats needs a NATS server/);
    });
  });

  it('NOTES.txt says how to reach the API', async () => {
    const result = await helm(['install', 'fs', CHART, '--namespace', NAMESPACE, '--dry-run=client']);
    expect(result.stderr).toBe('');
    const notes = result.stdout.slice(result.stdout.indexOf('NOTES:'));
    expect(notes).toContain(`kubectl -n ${NAMESPACE} port-forward svc/fs-fleetstat-collector 7470:7470`);
    expect(notes).toContain('http://127.0.0.1:7470/api/v1/summary');
    expect(notes).toContain(`http://fs-fleetstat-collector.${NAMESPACE}.svc:7470`);
    expect(notes).toContain('helm test fs');
  });
});

describe('optional objects (ci/full-values.yaml)', () => {
  let objects: K8sObject[];
  // Every metric name the collector's /metrics code writes (prom-client registrations and the per-node text gauges).
  const exported = new Set(
    ['prometheus-metrics.ts', 'fleet-gauges-text.ts'].flatMap((file) => readFileSync(join(ROOT, 'collector/api', file), 'utf8').match(/fleetstat_[a-z_]+/g) ?? []),
  );
  const metricsIn = (text: string) => [...new Set(text.match(/fleetstat_[a-z_]+/g))];

  beforeAll(async () => {
    objects = await render({ valuesFile: join(CHART, 'ci/full-values.yaml') });
  });

  it('scrapes the collector and every agent with ServiceMonitors', () => {
    const monitors = find(objects, 'ServiceMonitor');
    expect(monitors.map((m) => (m.spec as { endpoints: { port: string }[] }).endpoints[0]?.port).sort()).toEqual(['http', 'metrics']);
    expect(monitors.every((m) => m.metadata.labels?.['release'] === 'prometheus')).toBe(true);
  });

  it('alerts on stale nodes, connection surges, SYN_RECV and accept-queue saturation with exported metrics', () => {
    const rules = (one(objects, 'PrometheusRule').spec as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules);
    const byName = Object.fromEntries(rules.map((r) => [r.alert, r.expr]));
    expect(Object.keys(byName).sort()).toEqual(['FleetstatAcceptQueueSaturation', 'FleetstatConnectionSurge', 'FleetstatNodeStale', 'FleetstatSynRecvHigh']);
    expect(byName['FleetstatNodeStale']).toBe(`max(fleetstat_nodes{status="stale", namespace="${NAMESPACE}", job="fs-fleetstat-collector"}) > 0`);
    expect(byName['FleetstatAcceptQueueSaturation']).toContain('fleetstat_listen_accept_queue{');
    expect(byName['FleetstatConnectionSurge']).toMatch(/> 3 \* sum by \(node, port\)/);
    for (const expr of Object.values(byName)) {
      for (const metric of metricsIn(expr)) expect(exported, metric).toContain(metric);
      expect(expr.split('(').length, expr).toBe(expr.split(')').length);
    }
  });

  it('ships a Grafana dashboard whose every query uses exported metrics', () => {
    const cm = one(objects, 'ConfigMap', 'dashboard');
    expect(cm.metadata.namespace).toBe('monitoring');
    expect(cm.metadata.labels?.['grafana_dashboard']).toBe('1');
    const dashboard = JSON.parse(cm.data?.['fleetstat.json'] ?? '') as { uid: string; panels: { title: string; targets: { expr: string }[] }[] };
    expect(dashboard.uid).toBe('fleetstat-http-connections');
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(8);
    const used = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => metricsIn(t.expr))));
    for (const metric of used) expect(exported, metric).toContain(metric);
    for (const metric of ['fleetstat_http_connections', 'fleetstat_nodes', 'fleetstat_listen_accept_queue', 'fleetstat_listeners']) expect(used).toContain(metric);
  });

  it('admits to NATS only this release\'s agents and collector', () => {
    const policy = find(objects, 'NetworkPolicy').find((p) => p.metadata.name === 'fs-fleetstat-nats') as K8sObject;
    const natsRule = (policy.spec as { ingress: { ports: { port: string }[]; from: { podSelector: { matchLabels: Record<string, string> } }[] }[] }).ingress[0];
    expect(natsRule?.ports).toEqual([{ port: 'nats', protocol: 'TCP' }]);
    expect(natsRule?.from.map((f) => f.podSelector.matchLabels['app.kubernetes.io/component']).sort()).toEqual(['agent', 'collector']);
  });

  it.skipIf(!findNatsServerOnPath())('renders NATS configurations (IPv6 here, IPv4 by default) that nats-server -t accepts', async () => {
    for (const rendered of [objects, await render()]) {
      const conf = one(rendered, 'ConfigMap', 'nats').data?.['nats.conf'] ?? '';
      const dir = mkdtempSync(join(tmpdir(), 'fleetstat-nats-conf-'));
      try {
        writeFileSync(join(dir, 'nats.conf'), conf.replace('store_dir: /data', `store_dir: ${dir}`));
        // -t: test the configuration and exit; a non-zero exit throws with nats-server's reason.
        execFileSync(findNatsServerOnPath() as string, ['-c', join(dir, 'nats.conf'), '-t'], {
          env: { ...process.env, POD_NAME: 'fs-fleetstat-nats-0' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
