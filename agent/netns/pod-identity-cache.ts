// Pod identity per pid, with <proc>/<pid>/cgroup read and parsed once per process, not once per
// interval: a process does not change pod, and a node has thousands of them.
//
// A pid alone is not a process: once it exits the kernel hands its number to the next one. Each
// entry therefore keeps the process start time (stat field 22) and a lookup re-reads only stat,
// a short line, to confirm the entry still describes the process that owns the pid now.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTimeOf } from '../procfs/proc-pid-stat.js';
import type { ContainerIdentity } from './cgroup-identity.js';
import { containerIdentityOf } from './cgroup-identity.js';

interface Entry {
  startTime: string;
  /** Undefined is cached too: host processes are most of a node and have no identity. */
  identity: ContainerIdentity | undefined;
}

export class PodIdentityCache {
  private readonly entries = new Map<number, Entry>();

  constructor(private readonly procRoot: string) {}

  /** The identity of the process now holding `pid`; undefined when it has none or is gone. */
  identityOf(pid: number): ContainerIdentity | undefined {
    if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
    const startTime = this.startTimeOf(pid);
    if (startTime === undefined) {
      this.entries.delete(pid);
      return undefined;
    }
    const cached = this.entries.get(pid);
    if (cached !== undefined && cached.startTime === startTime) return cached.identity;

    const text = this.read(pid, 'cgroup');
    // The process may exit, and its pid be reused, while cgroup is read: only the same start time
    // afterwards proves that the text belongs to the process timed above.
    if (text === undefined || this.startTimeOf(pid) !== startTime) {
      this.entries.delete(pid);
      return undefined;
    }
    const identity = containerIdentityOf(text);
    this.entries.set(pid, { startTime, identity });
    return identity;
  }

  /** Forget every pid not in `alivePids` (the pids of the latest walk), bounding the cache. */
  prune(alivePids: ReadonlySet<number>): void {
    for (const pid of this.entries.keys()) if (!alivePids.has(pid)) this.entries.delete(pid);
  }

  get size(): number {
    return this.entries.size;
  }

  private startTimeOf(pid: number): string | undefined {
    const stat = this.read(pid, 'stat');
    return stat === undefined ? undefined : startTimeOf(stat);
  }

  /**
   * Undefined on any error: the process exited (ENOENT, ESRCH), the proc root is odd (EISDIR,
   * EACCES), or worse. Attribution is best effort and must never stop a scan.
   */
  private read(pid: number, file: 'stat' | 'cgroup'): string | undefined {
    try {
      return readFileSync(join(this.procRoot, String(pid), file), 'utf8');
    } catch {
      return undefined;
    }
  }
}
