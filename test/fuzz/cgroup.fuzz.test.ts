// Fuzz: /proc/<pid>/cgroup parsing (agent/netns cgroup-identity.ts and cgroup-path.ts) on
// mutated real samples of every layout and on generated paths. Never a throw; an identity names
// only well-formed UIDs and ids that the text holds.
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { containerIdentityOf, identityOfCgroupPath } from '../../agent/netns/cgroup-identity.js';
import type { ContainerIdentity } from '../../agent/netns/cgroup-identity.js';
import { cgroupPathOf } from '../../agent/netns/cgroup-path.js';
import { FUZZ_TIMEOUT_MS, fuzz, guarded, printFigures } from './fuzz-run.js';
import { hostileBytes } from './mutate.js';

const DIR = new URL('../fixtures/cgroup/', import.meta.url).pathname;
const corpus = readdirSync(DIR)
  .filter((f) => f.endsWith('.txt'))
  .map((f) => new Uint8Array(readFileSync(join(DIR, f))));
const text = hostileBytes(corpus).map((bytes) => Buffer.from(bytes).toString('utf8'));

/** Identities are read out of the text: every UID and id must be spelled there. */
function expectReadFrom(identity: ContainerIdentity | undefined, input: string): void {
  if (identity === undefined) return;
  if (identity.podUid !== undefined) {
    expect(identity.podUid).toMatch(/^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})$/);
    expect(input.includes(identity.podUid) || input.includes(identity.podUid.replaceAll('-', '_'))).toBe(true);
  }
  if (identity.containerId !== undefined) {
    expect(identity.containerId).toMatch(/^[0-9a-f]{64}$/);
    expect(input).toContain(identity.containerId);
  }
  expect(identity.podUid ?? identity.containerId).toBeDefined();
  if (identity.runtime !== undefined) expect(['containerd', 'cri-o', 'docker', 'podman']).toContain(identity.runtime);
  if (identity.qosClass !== undefined) expect(['guaranteed', 'burstable', 'besteffort']).toContain(identity.qosClass);
}

afterAll(printFigures);

describe('cgroup identity', () => {
  it('containerIdentityOf on mutated real files: never throws, names only what the text spells', () => {
    fuzz('cgroup identity', [text], (input) => {
      expectReadFrom(guarded(() => containerIdentityOf(input)), input);
    });
  }, FUZZ_TIMEOUT_MS);

  it('identityOfCgroupPath on generated paths built from the pieces real layouts use', () => {
    const uid = fc.uuid().map((u) => u.toLowerCase());
    const id = fc.stringMatching(/^[0-9a-f]{64}$/);
    const segment = fc.oneof(
      fc.constantFrom('kubepods', 'burstable', 'besteffort', 'docker', '..', 'kubepods.slice', 'system.slice', 'init.scope', ''),
      uid.map((u) => `pod${u}`),
      fc.tuple(fc.constantFrom('', '-burstable', '-besteffort'), uid).map(([q, u]) => `kubepods${q}-pod${u.replaceAll('-', '_')}.slice`),
      fc.tuple(fc.constantFrom('cri-containerd', 'crio', 'docker', 'libpod', 'crio-conmon', 'x'), id).map(([p, i]) => `${p}-${i}.scope`),
      id,
      fc.tuple(uid, id).map(([u, i]) => `kubepods-pod${u.replaceAll('-', '_')}.slice:cri-containerd:${i}`),
      fc.string({ maxLength: 300 }),
    );
    fuzz('cgroup path', [fc.array(segment, { maxLength: 12 })], (segments) => {
      const path = `/${segments.join('/')}`;
      expectReadFrom(guarded(() => identityOfCgroupPath(path)), path);
    });
  }, FUZZ_TIMEOUT_MS);

  it('cgroupPathOf returns "/" or the path of one of the lines', () => {
    fuzz('cgroup path of', [text], (input) => {
      const path = guarded(() => cgroupPathOf(input));
      expect(path === '/' || input.split('\n').some((line) => line.endsWith(`:${path}`))).toBe(true);
    });
  }, FUZZ_TIMEOUT_MS);
});
