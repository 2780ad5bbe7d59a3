// PodIdentityCache on a built proc tree: a file per pid as procfs has them, rewritten to play a
// process that exits, a pid the kernel hands to a new process, and a cgroup that changes unseen.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { containerIdentityOf } from './cgroup-identity.js';
import { PodIdentityCache } from './pod-identity-cache.js';

const UID = '7fda01c4-0ece-403d-88b4-c371d66d132a';
const ID = 'e58a24d4a722c99712cff74ef69d93311089584eb32617b3890e0dcb996133f1';
const OTHER_ID = '2cc65c162ca1388b6b8d5ccfb701d22fc96675ccf8b2f1590c490c2c4039547f';
const inPod = (id: string): string =>
  `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID.replaceAll('-', '_')}.slice/cri-containerd-${id}.scope\n`;
const POD_IDENTITY = { podUid: UID, containerId: ID, runtime: 'containerd', qosClass: 'besteffort' };

/** A stat line shaped like the kernel's, with the start time (field 22) given. */
const stat = (pid: number, comm: string, start: number): string =>
  `${pid} (${comm}) S 1 ${pid} ${pid} 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 ${start} 1 1 18446744073709551615 0\n`;

describe('PodIdentityCache', () => {
  let root: string;
  const proc = (pid: number, files: { stat?: string; cgroup?: string }): void => {
    mkdirSync(join(root, String(pid)), { recursive: true });
    if (files.stat !== undefined) writeFileSync(join(root, String(pid), 'stat'), files.stat);
    if (files.cgroup !== undefined) writeFileSync(join(root, String(pid), 'cgroup'), files.cgroup);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'fleetstat-proc-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('reads cgroup once per process, and again when the pid belongs to a new process', () => {
    // A comm with spaces and parentheses, as PR_SET_NAME allows.
    proc(300, { stat: stat(300, 'nginx: a) (b', 5000), cgroup: inPod(ID) });
    const cache = new PodIdentityCache(root);
    expect(cache.identityOf(300)).toEqual(POD_IDENTITY);

    // Same process (same start time): the cgroup file is not read again.
    writeFileSync(join(root, '300', 'cgroup'), inPod(OTHER_ID));
    expect(cache.identityOf(300)?.containerId).toBe(ID);

    // The pid reused by a later process: a new start time forces a fresh read.
    writeFileSync(join(root, '300', 'stat'), stat(300, 'sh', 9000));
    expect(cache.identityOf(300)?.containerId).toBe(OTHER_ID);
    expect(cache.size).toBe(1);
  });

  it('caches "no identity" too, for host processes', () => {
    proc(1, { stat: stat(1, 'systemd', 1), cgroup: '0::/init.scope\n' });
    const cache = new PodIdentityCache(root);
    expect(cache.identityOf(1)).toBeUndefined();
    writeFileSync(join(root, '1', 'cgroup'), inPod(ID));
    expect(cache.identityOf(1)).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it('gives undefined, never throws, for processes that are gone or unreadable', () => {
    proc(300, { stat: stat(300, 'nginx', 5000), cgroup: inPod(ID) });
    proc(400, { stat: stat(400, 'redis', 6000) }); // exited between stat and cgroup
    proc(500, { stat: 'garbage', cgroup: inPod(ID) });
    mkdirSync(join(root, '600', 'stat'), { recursive: true }); // EISDIR
    const cache = new PodIdentityCache(root);
    expect(cache.identityOf(300)).toEqual(POD_IDENTITY);
    for (const pid of [400, 500, 600, 700, 0, -1, 1.5, Number.NaN]) expect(cache.identityOf(pid)).toBeUndefined();
    expect(cache.size).toBe(1);

    // Exited after it was cached: the entry goes with it.
    unlinkSync(join(root, '300', 'stat'));
    expect(cache.identityOf(300)).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(new PodIdentityCache(join(root, 'missing')).identityOf(1)).toBeUndefined();
  });

  it('prune drops every pid not alive', () => {
    for (const pid of [10, 11, 12]) proc(pid, { stat: stat(pid, 'p', pid), cgroup: inPod(ID) });
    const cache = new PodIdentityCache(root);
    for (const pid of [10, 11, 12]) cache.identityOf(pid);
    expect(cache.size).toBe(3);
    cache.prune(new Set([11, 99]));
    expect(cache.size).toBe(1);
    expect(cache.identityOf(11)?.containerId).toBe(ID);
    cache.prune(new Set());
    expect(cache.size).toBe(0);
  });

  it('agrees with the parser on the real /proc', () => {
    const cache = new PodIdentityCache('/proc');
    expect(cache.identityOf(process.pid)).toEqual(containerIdentityOf(readFileSync('/proc/self/cgroup', 'utf8')));
  });
});
