import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { containersOf } from './namespace-containers.js';
import { PodIdentityCache } from './pod-identity-cache.js';

const POD = '5f0d7d5e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const pause = 'a'.repeat(64);
const app = 'b'.repeat(64);
const slice = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD.replaceAll('-', '_')}.slice`;

describe('containersOf', () => {
  const root = mkdtempSync(join(tmpdir(), 'fleetstat-containers-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const proc = (pid: number, cgroup: string): void => {
    mkdirSync(join(root, String(pid)));
    writeFileSync(join(root, String(pid), 'cgroup'), cgroup);
    writeFileSync(join(root, String(pid), 'stat'), `${pid} (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 ${1000 + pid} 0 0\n`);
  };
  proc(10, `0::${slice}/cri-containerd-${pause}.scope\n`);
  proc(11, `0::${slice}/cri-containerd-${app}.scope\n`);
  proc(12, `0::${slice}/cri-containerd-${app}.scope\n`);
  proc(13, '0::/system.slice/sshd.service\n');

  it('groups a namespace\'s processes by pod and container, skipping host processes and vanished pids', () => {
    expect(containersOf([10, 11, 12, 13, 99], new PodIdentityCache(root))).toEqual([
      { podUid: POD, containerId: pause, runtime: 'containerd', pidCount: 1 },
      { podUid: POD, containerId: app, runtime: 'containerd', pidCount: 2 },
    ]);
  });
});
