// The chart's TLS and API token wiring (ci/security-values.yaml and variants): certificates and
// the token reach the pods only as files mounted from Secrets, the arguments name those files,
// probes, the ServiceMonitor and the `helm test` pod follow HTTPS and the token, and
// contradictory settings stop the install with a message.
import { beforeAll, describe, expect, it } from 'vitest';
import { CHART, container, find, helm, one, podSpec, render, templateArgs } from './render-chart.js';
import type { Container, K8sObject, PodSpec } from './render-chart.js';

const SECURITY = `${CHART}/ci/security-values.yaml`;
const TLS_DIR = '/etc/fleetstat/tls';

/** The Secret volumes of a pod: volume name -> { secretName, items }. */
function secretVolumes(pod: PodSpec): Map<string, { secretName: string; items?: { key: string; path: string }[]; defaultMode?: number }> {
  const out = new Map<string, { secretName: string; items?: { key: string; path: string }[] }>();
  for (const v of pod.volumes ?? []) {
    const secret = v['secret'] as { secretName: string; items?: { key: string; path: string }[] } | undefined;
    if (secret) out.set(v.name, secret);
  }
  return out;
}

/** No argument or env value holds anything that looks like key material or a token's value. */
function expectNoInlineSecrets(c: Container): void {
  for (const text of [...(c.args ?? []), ...(c.env ?? []).map((e) => e.value ?? '')]) {
    expect(text).not.toMatch(/BEGIN|PRIVATE|Bearer /);
  }
  for (const e of c.env ?? []) expect((e.valueFrom ?? {}) as object, e.name).not.toHaveProperty('secretKeyRef');
}

describe('ci/security-values.yaml: mutual TLS over gRPC, HTTPS and an API token', () => {
  let objects: K8sObject[];
  beforeAll(async () => {
    objects = await render({ valuesFile: SECURITY });
  });

  it('the collector serves gRPC with mutual TLS and HTTPS from its Secret, and checks the token from a mounted file', () => {
    const deployment = one(objects, 'Deployment', 'collector');
    const c = container(deployment, 'collector');
    expect(c.args).toEqual(
      expect.arrayContaining([
        `--grpc-tls-cert=${TLS_DIR}/tls.crt`,
        `--grpc-tls-key=${TLS_DIR}/tls.key`,
        `--grpc-client-ca=${TLS_DIR}/ca.crt`,
        '--detail-server-name=fs-fleetstat-agent',
        `--tls-cert=${TLS_DIR}/tls.crt`,
        `--tls-key=${TLS_DIR}/tls.key`,
        '--api-token-file=/etc/fleetstat/api-token/token',
      ]),
    );
    expect(c.volumeMounts).toEqual(
      expect.arrayContaining([
        { name: 'tls', mountPath: TLS_DIR, readOnly: true },
        { name: 'api-token', mountPath: '/etc/fleetstat/api-token', readOnly: true },
      ]),
    );
    const volumes = secretVolumes(podSpec(deployment));
    expect(volumes.get('tls')).toMatchObject({ secretName: 'fleetstat-collector-tls' });
    expect(volumes.get('tls')?.items).toBeUndefined();
    expect(volumes.get('api-token')).toMatchObject({ secretName: 'fleetstat-api-token', items: [{ key: 'token', path: 'token' }] });
    expectNoInlineSecrets(c);
  });

  it('probes the collector over HTTPS on paths that need no token', () => {
    const c = container(one(objects, 'Deployment', 'collector'), 'collector');
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http', scheme: 'HTTPS' });
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http', scheme: 'HTTPS' });
  });

  it('agents trust the CA and present their certificate (also DetailService\'s), from their own Secret', () => {
    const ds = one(objects, 'DaemonSet', 'agent');
    const a = container(ds, 'agent');
    expect(a.args).toEqual(expect.arrayContaining([`--grpc-ca=${TLS_DIR}/ca.crt`, `--grpc-cert=${TLS_DIR}/tls.crt`, `--grpc-key=${TLS_DIR}/tls.key`]));
    expect(a.args).toContainEqual(expect.stringMatching(/^--detail-listen=/));
    expect(a.volumeMounts).toContainEqual({ name: 'tls', mountPath: TLS_DIR, readOnly: true });
    expect(secretVolumes(podSpec(ds)).get('tls')).toMatchObject({ secretName: 'fleetstat-agent-tls' });
    // Agents never see the API token or the collector's key.
    expect([...secretVolumes(podSpec(ds)).values()].map((v) => v.secretName)).toEqual(['fleetstat-agent-tls']);
    expectNoInlineSecrets(a);
  });

  it('the ServiceMonitor scrapes the collector over HTTPS with its CA and the token from the Secret', () => {
    const monitor = one(objects, 'ServiceMonitor', 'collector');
    const [endpoint] = (monitor.spec as { endpoints: Record<string, unknown>[] }).endpoints;
    expect(endpoint).toMatchObject({
      port: 'http',
      path: '/metrics',
      scheme: 'https',
      tlsConfig: { ca: { secret: { name: 'fleetstat-collector-tls', key: 'ca.crt' } }, serverName: 'fs-fleetstat-collector.fleetstat.svc' },
      bearerTokenSecret: { name: 'fleetstat-api-token', key: 'token' },
    });
    // Agents' own /metrics stay plain HTTP without a token.
    const [agentEndpoint] = (one(objects, 'ServiceMonitor', 'agent').spec as { endpoints: Record<string, unknown>[] }).endpoints;
    expect(agentEndpoint).not.toHaveProperty('bearerTokenSecret');
    expect(agentEndpoint).not.toHaveProperty('scheme');
  });

  it('the helm test pod speaks HTTPS trusting only ca.crt, and sends the token from a file', () => {
    const pod = one(objects, 'Pod', 'test');
    const c = container(pod, 'query-api');
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
    expect(env['COLLECTOR_URL']).toMatch(/^https:\/\/fs-fleetstat-collector\.fleetstat\.svc:\d+$/);
    expect(env['NODE_EXTRA_CA_CERTS']).toBe(`${TLS_DIR}/ca.crt`);
    expect(env['API_TOKEN_FILE']).toBe('/etc/fleetstat/api-token/token');
    const volumes = secretVolumes(podSpec(pod));
    // The collector's private key stays out of the test pod.
    expect(volumes.get('tls')).toMatchObject({ secretName: 'fleetstat-collector-tls', items: [{ key: 'ca.crt', path: 'ca.crt' }] });
    expect(volumes.get('api-token')).toMatchObject({ secretName: 'fleetstat-api-token' });
    expectNoInlineSecrets(c);
  });
});

describe('variants', () => {
  it('over NATS: the collector serves TLS without asking agents for certificates; agents get no TLS flags', async () => {
    const objects = await render({ set: ['tls.collectorSecret=collector-tls', 'apiToken.existingSecret=api-token'] });
    const c = container(one(objects, 'Deployment', 'collector'), 'collector');
    expect(c.args).toContain(`--grpc-tls-cert=${TLS_DIR}/tls.crt`);
    expect(c.args).toContain(`--tls-cert=${TLS_DIR}/tls.crt`);
    expect(c.args?.some((a) => a.startsWith('--grpc-client-ca') || a.startsWith('--detail-server-name'))).toBe(false);
    const a = container(one(objects, 'DaemonSet', 'agent'), 'agent');
    expect(a.args?.some((x) => x.startsWith('--grpc-'))).toBe(false);
    expect(secretVolumes(podSpec(one(objects, 'DaemonSet', 'agent'))).size).toBe(0);
  });

  it('tls.https=false: gRPC TLS only; probes, ServiceMonitor and the test pod stay on HTTP', async () => {
    const objects = await render({ valuesFile: SECURITY, set: ['tls.https=false'] });
    const c = container(one(objects, 'Deployment', 'collector'), 'collector');
    expect(c.args).toContain(`--grpc-tls-cert=${TLS_DIR}/tls.crt`);
    expect(c.args?.some((a) => a.startsWith('--tls-cert'))).toBe(false);
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    const [endpoint] = (one(objects, 'ServiceMonitor', 'collector').spec as { endpoints: Record<string, unknown>[] }).endpoints;
    expect(endpoint).not.toHaveProperty('scheme');
    expect(endpoint).toHaveProperty('bearerTokenSecret');
    const test = container(one(objects, 'Pod', 'test'), 'query-api');
    expect(test.env?.find((e) => e.name === 'COLLECTOR_URL')?.value).toMatch(/^http:\/\//);
    expect(test.env?.some((e) => e.name === 'NODE_EXTRA_CA_CERTS')).toBe(false);
  });

  it('the defaults mount no Secret and pass no TLS or token flag', async () => {
    const objects = await render();
    for (const w of [...find(objects, 'Deployment'), ...find(objects, 'DaemonSet'), ...find(objects, 'Pod')]) {
      expect(secretVolumes(podSpec(w)).size, w.metadata.name).toBe(0);
      for (const c of podSpec(w).containers) expect((c.args ?? []).filter((a) => /tls|token|--grpc-c|--ca/.test(a)), c.name).toEqual([]);
    }
  });
});

describe('contradictions stop the install', () => {
  it.each([
    [['tls.agentSecret=a'], 'tls.agentSecret needs tls.collectorSecret'],
    [['tls.collectorSecret=c', 'tls.agentSecret=a'], 'tls.agentSecret is for transport grpc'],
    [['transport=grpc', 'nats.embedded.enabled=false', 'tls.collectorSecret=c'], 'transport grpc with tls.collectorSecret needs tls.agentSecret'],
    [['tls.agentServerName=x'], 'tls.agentServerName is for tls.agentSecret'],
  ])('--set %s', async (set, message) => {
    const result = await helm(templateArgs({ set }));
    expect(result.ok).toBe(false);
    expect(result.stderr).toContain(message);
  });

  it.each([
    ['tls.bogus=1', "additional properties 'bogus' not allowed"],
    ['apiToken.bogus=1', "additional properties 'bogus' not allowed"],
    ['tls.https=yes', 'https'],
  ])('the schema refuses --set %s', async (set, message) => {
    const result = await helm(templateArgs({ set: [set] }));
    expect(result.ok).toBe(false);
    expect(result.stderr).toContain(message);
  });
});
