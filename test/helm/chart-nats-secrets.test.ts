// NATS secrets that are files (an nkey seed, a .creds file, a CA and a client certificate)
// reach agent and collector from Kubernetes Secrets mounted read-only, named by the *-file
// flags; the values themselves never appear in arguments or environment. Invalid
// combinations stop `helm template` with the reason.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHART, container, helm, one, podSpec, render, templateArgs } from './render-chart.js';
import type { Container, K8sObject } from './render-chart.js';

const VALUES = join(CHART, 'ci', 'nats-tls-values.yaml');

function workloads(objects: K8sObject[]): [K8sObject, Container][] {
  const agent = one(objects, 'DaemonSet', 'agent');
  const collector = one(objects, 'Deployment', 'collector');
  return [
    [agent, container(agent, 'agent')],
    [collector, container(collector, 'collector')],
  ];
}

describe('NATS secrets as files', () => {
  it('creds and mutual TLS: both mount the Secrets read-only at fixed paths and pass the *-file flags', async () => {
    for (const [workload, c] of workloads(await render({ valuesFile: VALUES }))) {
      const name = workload.kind;
      expect(c.args, name).toEqual(expect.arrayContaining([
        '--nats-creds-file=/etc/fleetstat/nats-auth/user.creds',
        '--nats-ca-file=/etc/fleetstat/nats-tls/ca.crt',
        '--nats-cert-file=/etc/fleetstat/nats-tls/tls.crt',
        '--nats-key-file=/etc/fleetstat/nats-tls/tls.key',
      ]));
      expect(c.volumeMounts, name).toEqual(expect.arrayContaining([
        { name: 'nats-auth', mountPath: '/etc/fleetstat/nats-auth', readOnly: true },
        { name: 'nats-tls', mountPath: '/etc/fleetstat/nats-tls', readOnly: true },
      ]));
      const volumes = podSpec(workload).volumes ?? [];
      expect(volumes.find((v) => v.name === 'nats-auth'), name).toMatchObject({
        secret: { secretName: 'nats-fleetstat-creds', items: [{ key: 'fleetstat.creds', path: 'user.creds' }] },
      });
      expect(volumes.find((v) => v.name === 'nats-tls'), name).toMatchObject({
        secret: {
          secretName: 'nats-fleetstat-tls',
          items: [{ key: 'ca.crt', path: 'ca.crt' }, { key: 'tls.crt', path: 'tls.crt' }, { key: 'tls.key', path: 'tls.key' }],
        },
      });
      // A creds file replaces user/password: no credential variables.
      expect((c.env ?? []).map((e) => e.name).filter((n) => n.startsWith('FLEETSTAT_NATS_')), name).toEqual([]);
    }
  });

  it('an nkey seed is mounted as a file; a CA alone gives TLS without a client certificate', async () => {
    const objects = await render({ valuesFile: VALUES, set: ['nats.auth.credsKey=', 'nats.auth.nkeyKey=seed', 'nats.tls.certKey=', 'nats.tls.keyKey='] });
    for (const [workload, c] of workloads(objects)) {
      const natsArgs = (c.args ?? []).filter((a) => a.startsWith('--nats-'));
      expect(natsArgs, workload.kind).toEqual(['--nats-nkey-file=/etc/fleetstat/nats-auth/nkey', '--nats-ca-file=/etc/fleetstat/nats-tls/ca.crt']);
      expect((podSpec(workload).volumes ?? []).find((v) => v.name === 'nats-auth'), workload.kind).toMatchObject({
        secret: { items: [{ key: 'seed', path: 'nkey' }] },
      });
    }
  });

  it('with transport grpc nothing of it is rendered', async () => {
    const objects = await render({ valuesFile: join(CHART, 'ci', 'grpc-values.yaml'), set: ['nats.auth.existingSecret=s', 'nats.auth.nkeyKey=seed', 'nats.tls.existingSecret=t'] });
    for (const [workload, c] of workloads(objects)) {
      expect((c.args ?? []).filter((a) => a.startsWith('--nats')), workload.kind).toEqual([]);
      expect((podSpec(workload).volumes ?? []).map((v) => v.name), workload.kind).not.toContain('nats-tls');
    }
  });

  it('refuses two kinds of credentials, half a client certificate, and unknown keys', async () => {
    const twoKinds = await helm(templateArgs({ valuesFile: VALUES, set: ['nats.auth.tokenKey=token'] }));
    expect(twoKinds.ok).toBe(false);
    expect(twoKinds.stderr).toMatch(/one kind of NATS credentials/);
    const half = await helm(templateArgs({ valuesFile: VALUES, set: ['nats.tls.keyKey='] }));
    expect(half.ok).toBe(false);
    expect(half.stderr).toMatch(/nats\.tls\.certKey and nats\.tls\.keyKey go together/);
    const unknown = await helm(templateArgs({ valuesFile: VALUES, set: ['nats.tls.verify=true'] }));
    expect(unknown.ok).toBe(false);
    expect(unknown.stderr).toMatch(/verify/);
  });
});
