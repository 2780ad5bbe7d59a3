// Run helm on the chart and look at what it renders: the objects as plain data, and small
// finders the chart tests share.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { ensureHelm } from './helm-binary.js';

const execFileP = promisify(execFile);

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CHART = join(ROOT, 'helm/fleetstat');
export const RELEASE = 'fs';
export const NAMESPACE = 'fleetstat';

/** The install cases: the defaults, then every ci/*-values.yaml. */
export const CASES: { name: string; valuesFile?: string }[] = [
  { name: 'defaults' },
  ...readdirSync(join(CHART, 'ci'))
    .filter((f) => f.endsWith('-values.yaml'))
    .sort()
    .map((f) => ({ name: f, valuesFile: join(CHART, 'ci', f) })),
];

// Helm's own config, cache and data go to a throwaway dir, not the developer's home.
const HELM_HOME = mkdtempSync(join(tmpdir(), 'fleetstat-helm-home-'));
const HELM_ENV = {
  ...process.env,
  HELM_CACHE_HOME: join(HELM_HOME, 'cache'),
  HELM_CONFIG_HOME: join(HELM_HOME, 'config'),
  HELM_DATA_HOME: join(HELM_HOME, 'data'),
};

export interface HelmResult {
  ok: boolean;
  stdout: string;
  stderr: string;
}

export async function helm(args: string[]): Promise<HelmResult> {
  const binary = await ensureHelm();
  try {
    const { stdout, stderr } = await execFileP(binary, args, { env: HELM_ENV, timeout: 60_000, maxBuffer: 32 * 1024 * 1024 });
    return { ok: true, stdout, stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, stdout: e.stdout ?? '', stderr: e.stderr ?? e.message };
  }
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [key: string]: unknown;
}

export interface RenderOptions {
  valuesFile?: string | undefined;
  set?: string[];
  chart?: string;
}

export function templateArgs(opts: RenderOptions = {}): string[] {
  return [
    'template',
    RELEASE,
    opts.chart ?? CHART,
    '--namespace',
    NAMESPACE,
    ...(opts.valuesFile ? ['-f', opts.valuesFile] : []),
    ...(opts.set ?? []).flatMap((s) => ['--set', s]),
  ];
}

/** `helm template`, parsed; throws with helm's message when it fails. */
export async function render(opts: RenderOptions = {}): Promise<K8sObject[]> {
  const result = await helm(templateArgs(opts));
  if (!result.ok) throw new Error(`helm template failed: ${result.stderr}`);
  return parseAllDocuments(result.stdout)
    .map((doc) => {
      if (doc.errors.length) throw new Error(`rendered YAML does not parse: ${doc.errors[0]?.message}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

export function find(objects: K8sObject[], kind: string, component?: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind && (component === undefined || o.metadata.labels?.['app.kubernetes.io/component'] === component));
}

export function one(objects: K8sObject[], kind: string, component?: string): K8sObject {
  const found = find(objects, kind, component);
  if (found.length !== 1) throw new Error(`expected one ${kind}${component ? ` (${component})` : ''}, found ${found.length}`);
  return found[0] as K8sObject;
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: { name: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  securityContext?: Record<string, unknown>;
  livenessProbe?: { httpGet?: { path: string; port: string | number; scheme?: string } };
  readinessProbe?: { httpGet?: { path: string; port: string | number; scheme?: string } };
  startupProbe?: { httpGet?: { path: string; port: string | number; scheme?: string } };
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; hostPath?: { path: string; type?: string }; [key: string]: unknown }[];
  securityContext?: Record<string, unknown>;
  tolerations?: Record<string, unknown>[];
  [key: string]: unknown;
}

/** The pod spec of a workload, or of a bare Pod. */
export function podSpec(o: K8sObject): PodSpec {
  if (o.kind === 'Pod') return o.spec as unknown as PodSpec;
  return (o.spec as { template: { spec: PodSpec } }).template.spec;
}

export function podLabels(o: K8sObject): Record<string, string> {
  if (o.kind === 'Pod') return o.metadata.labels ?? {};
  return (o.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
}

export function container(o: K8sObject, name: string): Container {
  const c = podSpec(o).containers.find((x) => x.name === name);
  if (!c) throw new Error(`${o.kind} ${o.metadata.name} has no container ${name}`);
  return c;
}

/** Kubernetes' $(VAR) expansion of command and args from the container's env. */
export function expandVars(arg: string, env: Record<string, string>): string {
  return arg.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole);
}
