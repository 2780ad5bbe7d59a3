// Namespace grouping on a built proc tree: hard links give pids the same net/tcp inode, the
// way one namespace's procfs entry does; a pid without net/ is a process that exited mid-walk.
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverNamespaces } from './discover-namespaces.js';
import { cgroupPathOf } from './cgroup-path.js';

describe('discoverNamespaces', () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'fleetstat-proc-'));
    const pid = (n: number, comm: string, cgroup: string, shareTcpWith?: number): void => {
      mkdirSync(join(root, String(n), 'net'), { recursive: true });
      writeFileSync(join(root, String(n), 'comm'), `${comm}\n`);
      writeFileSync(join(root, String(n), 'cgroup'), cgroup);
      const tcp = join(root, String(n), 'net', 'tcp');
      if (shareTcpWith === undefined) writeFileSync(tcp, '');
      else linkSync(join(root, String(shareTcpWith), 'net', 'tcp'), tcp);
    };
    pid(1, 'systemd', '0::/init.scope\n');
    pid(2, 'kthreadd', '0::/\n', 1);
    pid(300, 'nginx', '0::/kubepods.slice/pod-a/cri-containerd-1.scope\n');
    pid(301, 'nginx', '0::/kubepods.slice/pod-a/cri-containerd-1.scope\n', 300);
    pid(302, 'sidecar', '0::/kubepods.slice/pod-a/cri-containerd-2.scope\n', 300);
    pid(400, 'redis', '12:memory:/docker/abc\n1:name=systemd:/docker/abc\n');
    // Exited between readdir and stat: a pid directory with nothing left inside.
    mkdirSync(join(root, '500'));
    // Not pids.
    mkdirSync(join(root, 'net'));
    mkdirSync(join(root, '0123'));
    symlinkSync('300', join(root, 'self'));
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('groups pids that share a net/tcp inode, once per namespace', () => {
    const { namespaces, stats } = discoverNamespaces(root, 'all');
    expect(namespaces.map((n) => [n.pids, n.host, n.processName, n.cgroup])).toEqual([
      [[1, 2], true, 'systemd', '/init.scope'],
      [[300, 301, 302], false, 'nginx', '/kubepods.slice/pod-a/cri-containerd-1.scope'],
      [[400], false, 'redis', '/docker/abc'],
    ]);
    expect(stats).toEqual({ pids: 7, vanished: 1 });
    // No ns/net link to read here: the net/tcp inode stands in as the namespace's identity.
    expect(namespaces.every((n) => n.inode === n.key)).toBe(true);
  });

  it('self mode finds the reader\'s namespace through <proc>/self', () => {
    const { namespaces } = discoverNamespaces(root, 'self');
    expect(namespaces.map((n) => [n.pids, n.host])).toEqual([[[300], false]]);
  });
});

describe('cgroupPathOf', () => {
  it('prefers the unified hierarchy, else the first v1 path that is not the root', () => {
    expect(cgroupPathOf('0::/system.slice/a.service\n')).toBe('/system.slice/a.service');
    expect(cgroupPathOf('3:cpu:/\n2:memory:/kubepods/pod1/c1\n0::/\n')).toBe('/');
    expect(cgroupPathOf('3:cpu:/\n2:memory:/kubepods/pod1/c1\n')).toBe('/kubepods/pod1/c1');
    expect(cgroupPathOf('')).toBe('/');
  });
});
