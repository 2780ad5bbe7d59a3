// Network namespaces for the benchmark, named fsbench-<role>-<creator pid>, and the socket
// holders (bench/holder.mjs) inside them. Everything is torn down by pid and by name:
// destroyAll() runs from run.ts's finally, from SIGINT/SIGTERM, and at process exit; a
// namespace left by a crashed run (its creator pid gone) is removed at the next start.
// Holders also exit by themselves when their stdin pipe closes, i.e. when this process dies.

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const HOLDER_SCRIPT = fileURLToPath(new URL('../holder.mjs', import.meta.url));

const NAME_RE = /^fsbench-([a-z0-9]+)-(\d+)$/;

export interface HolderReport {
  pid: number;
  pairs: number;
  accepted: number;
  listeners: number;
  failed: number;
  error: string | null;
  ms: number;
}

export interface Holder {
  child: ChildProcess;
  pid: number;
  report: HolderReport;
}

interface Owned {
  name: string;
  children: Set<ChildProcess>;
}

const owned = new Map<string, Owned>();

function ip(args: readonly string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function kill(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function pidsIn(name: string): number[] {
  try {
    return ip(['netns', 'pids', name]).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function listNamespaces(): string[] {
  try {
    return ip(['netns', 'list'])
      .split('\n')
      .map((line) => line.split(' ')[0] ?? '')
      .filter(Boolean);
  } catch {
    return [];
  }
}

/** Remove fsbench namespaces whose creating bench process is gone (a crashed earlier run). */
export function removeStaleNamespaces(): string[] {
  const removed: string[] = [];
  for (const name of listNamespaces()) {
    const match = NAME_RE.exec(name);
    if (!match || Number(match[2]) === process.pid || alive(Number(match[2]))) continue;
    // Only an earlier run of this bench puts processes into fsbench-* namespaces.
    for (const pid of pidsIn(name)) kill(pid, 'SIGKILL');
    try {
      ip(['netns', 'del', name]);
      removed.push(name);
    } catch {
      // someone else removed it
    }
  }
  return removed;
}

export function createNamespace(role: string): string {
  const name = `fsbench-${role}-${process.pid}`;
  if (!NAME_RE.test(name)) throw new Error(`bad namespace name ${name}`);
  installExitHooks();
  ip(['netns', 'add', name]);
  owned.set(name, { name, children: new Set() });
  ip(['-n', name, 'link', 'set', 'lo', 'up']);
  return name;
}

export function addLoopbackAddress(name: string, cidr: string): void {
  ip(['-n', name, 'addr', 'add', cidr, 'dev', 'lo', ...(cidr.includes(':') ? ['nodad'] : [])]);
}

/** The fd limit a holder gets after trying to raise it (root without CAP_SYS_RESOURCE cannot). */
export function holderFdLimit(wanted: number): number {
  const out = spawnSync('sh', ['-c', `ulimit -n ${wanted} 2>/dev/null; ulimit -n`], { encoding: 'utf8' });
  const limit = Number(out.stdout.trim());
  return Number.isFinite(limit) ? limit : 1024;
}

export interface HolderOptions {
  pairs: number;
  v4?: string;
  v6?: string;
  fdLimit: number;
  timeoutMs: number;
}

/** Start a holder in the namespace and wait for its one-line report. */
export function startHolder(name: string, cwd: string, options: HolderOptions): Promise<Holder> {
  const state = owned.get(name);
  if (!state) throw new Error(`namespace ${name} is not ours`);
  const args = ['--pairs', String(options.pairs)];
  if (options.v4) args.push('--v4', options.v4);
  if (options.v6) args.push('--v6', options.v6);
  const script = `ulimit -n ${options.fdLimit} 2>/dev/null; exec node "$0" "$@"`;
  // ip netns exec and sh both exec, so the child's pid is the holder's.
  const child = spawn('ip', ['netns', 'exec', name, 'sh', '-c', script, HOLDER_SCRIPT, ...args], {
    cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  state.children.add(child);
  child.once('exit', () => state.children.delete(child));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<Holder>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`holder in ${name} gave no report within ${options.timeoutMs} ms: ${stderr.trim()}`));
    }, options.timeoutMs);
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        const report = JSON.parse(line) as HolderReport;
        if (report.pid !== child.pid) throw new Error(`holder pid ${report.pid} is not the child's ${child.pid}`);
        resolve({ child, pid: report.pid, report });
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`holder in ${name} exited with ${code}: ${stderr.trim()}`));
    });
  });
}

/** Kill our holders (by pid: TERM, then KILL) and delete the namespace. Idempotent. */
export async function destroyNamespace(name: string): Promise<void> {
  const state = owned.get(name);
  if (!state) return;
  for (const child of state.children) kill(child.pid, 'SIGTERM');
  for (let i = 0; i < 60 && [...state.children].some((c) => c.pid !== undefined && alive(c.pid)); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  destroySync(name);
}

function destroySync(name: string): void {
  const state = owned.get(name);
  if (!state) return;
  for (const child of state.children) kill(child.pid, 'SIGKILL');
  // Anything else in the namespace was started from our holders' namespace by us.
  for (const pid of pidsIn(name)) kill(pid, 'SIGKILL');
  try {
    ip(['netns', 'del', name]);
  } catch {
    // already deleted
  }
  owned.delete(name);
}

export async function destroyAll(): Promise<void> {
  for (const name of [...owned.keys()]) await destroyNamespace(name);
}

export function ownedNamespaces(): string[] {
  return [...owned.keys()];
}

let hooked = false;
function installExitHooks(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const name of [...owned.keys()]) destroySync(name);
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, removing ${[...owned.keys()].join(', ') || 'nothing'}\n`);
      for (const name of [...owned.keys()]) destroySync(name);
      process.exit(130);
    });
  }
}
