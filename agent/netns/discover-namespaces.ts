// Group a proc root's processes by network namespace without ptrace rights.
//
// <proc>/<pid>/ns/net needs CAP_SYS_PTRACE for other users' processes, but the inode of
// <proc>/<pid>/net/tcp belongs to the namespace's procfs entry and is the same for every pid
// in it, and stat needs no privilege. Processes may exit at any point of the walk.

import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isGone } from '../procfs/read-proc-file.js';
import { cgroupPathOf } from './cgroup-path.js';

export type NetnsMode = 'all' | 'self';

export interface NetNamespace {
  /** Inode of net/tcp: identical for all pids of the namespace. */
  key: number;
  /** The namespace inode (as `ip netns identify` and lsns show it) when readable, else `key`. */
  inode: number;
  /** The namespace of the proc root's pid 1. */
  host: boolean;
  /** Member pids, ascending; tables are read through the first that is still alive. */
  pids: number[];
  processName: string;
  cgroup: string;
}

export interface DiscoveryStats {
  pids: number;
  /** Processes that exited between listing and inspection. */
  vanished: number;
}

export interface Discovery {
  namespaces: NetNamespace[];
  stats: DiscoveryStats;
}

export function discoverNamespaces(procRoot: string, mode: NetnsMode): Discovery {
  const stats: DiscoveryStats = { pids: 0, vanished: 0 };
  const pids = mode === 'self' ? [selfPid(procRoot)] : listPids(procRoot);
  const byKey = new Map<number, number[]>();
  for (const pid of pids) {
    stats.pids++;
    const key = namespaceKey(procRoot, pid);
    if (key === undefined) {
      stats.vanished++;
      continue;
    }
    const members = byKey.get(key);
    if (members) members.push(pid);
    else byKey.set(key, [pid]);
  }
  const hostKey = mode === 'self' ? namespaceKey(procRoot, 1) : undefined;
  const namespaces: NetNamespace[] = [];
  for (const [key, members] of byKey) {
    const identity = describe(procRoot, members);
    namespaces.push({
      key,
      inode: identity.inode ?? key,
      host: members[0] === 1 || key === hostKey,
      pids: members,
      processName: identity.processName,
      cgroup: identity.cgroup,
    });
  }
  namespaces.sort((a, b) => (a.pids[0] ?? 0) - (b.pids[0] ?? 0));
  return { namespaces, stats };
}

function listPids(procRoot: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync(procRoot)) {
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0 && String(pid) === name) pids.push(pid);
  }
  return pids.sort((a, b) => a - b);
}

function selfPid(procRoot: string): number {
  try {
    return Number(readlinkSync(join(procRoot, 'self')));
  } catch {
    return process.pid;
  }
}

function namespaceKey(procRoot: string, pid: number): number | undefined {
  try {
    return statSync(join(procRoot, String(pid), 'net', 'tcp')).ino;
  } catch (error) {
    if (isGone(error) || (error as NodeJS.ErrnoException).code === 'EACCES') return undefined;
    throw error;
  }
}

/** Name, cgroup and namespace inode from the first member that is still alive. */
function describe(procRoot: string, pids: number[]): { processName: string; cgroup: string; inode?: number } {
  for (const pid of pids) {
    const dir = join(procRoot, String(pid));
    try {
      const processName = readFileSync(join(dir, 'comm'), 'utf8').trimEnd();
      const cgroup = cgroupPathOf(readFileSync(join(dir, 'cgroup'), 'utf8'));
      const inode = namespaceInode(dir);
      return inode === undefined ? { processName, cgroup } : { processName, cgroup, inode };
    } catch (error) {
      if (!isGone(error) && (error as NodeJS.ErrnoException).code !== 'EACCES') throw error;
    }
  }
  return { processName: '', cgroup: '' };
}

function namespaceInode(pidDir: string): number | undefined {
  try {
    const match = /^net:\[(\d+)\]$/.exec(readlinkSync(join(pidDir, 'ns', 'net')));
    return match ? Number(match[1]) : undefined;
  } catch {
    // Without ptrace rights over the process; the net/tcp inode stands in.
    return undefined;
  }
}
