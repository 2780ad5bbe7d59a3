// Network namespaces for tests that need real kernel socket tables (run as root).
// Each namespace is named fs-<prefix>-<creator pid>-<hex>: the pid lets deleteAll()
// recognise namespaces left behind by a crashed run without touching a live run's.
import { execFile, execFileSync, spawn as spawnChild } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export interface Namespace {
  readonly name: string;
  /** Runs `ip netns exec <name> cmd ...args`; rejects on a non-zero exit, with stderr in the message. */
  exec(cmd: string, args?: readonly string[], opts?: { timeoutMs?: number }): Promise<ExecResult>;
  /** Starts `cmd` inside the namespace; delete() kills it (by pid) if it still runs. */
  spawn(cmd: string, args?: readonly string[], opts?: SpawnOptions): ChildProcess;
  /** Kills what runs inside, then `ip netns del`. Idempotent. */
  delete(): Promise<void>;
}

export interface LinkAddresses {
  /** [address of a, address of b] in CIDR form, e.g. ['198.18.0.1/24', '198.18.0.2/24'] */
  v4?: [string, string];
  v6?: [string, string];
}

export interface LinkEnd {
  ns: string;
  ifname: string;
  v4?: string; // without the prefix length
  v6?: string;
}

const NAME_RE = /^fs-(.+)-(\d+)-([0-9a-f]+)$/;
const owned = new Map<string, { children: Set<ChildProcess> }>();

async function run(cmd: string, args: readonly string[], timeoutMs = 30_000): Promise<ExecResult> {
  try {
    const { stdout, stderr } = await execFileP(cmd, args, { timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 });
    return { stdout, stderr };
  } catch (err) {
    const e = err as Error & { stderr?: string; code?: number | string };
    throw new Error(`${cmd} ${args.join(' ')} failed (${String(e.code)}): ${e.stderr?.trim() || e.message}`);
  }
}

function nsPids(name: string): number[] {
  try {
    return execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killPid(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

// Everything inside one of our namespaces was started by us, so killing it by pid is safe;
// a namespace only really disappears once no process holds it.
function destroySync(name: string): void {
  for (const child of owned.get(name)?.children ?? []) killPid(child.pid, 'SIGKILL');
  for (const pid of nsPids(name)) killPid(pid, 'SIGKILL');
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  } catch {
    // already deleted
  }
  owned.delete(name);
}

let exitHook = false;
function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  // Last resort when a test forgets delete(): only synchronous work runs at 'exit'.
  process.on('exit', () => {
    for (const name of [...owned.keys()]) destroySync(name);
  });
}

export async function createNamespace(prefix: string): Promise<Namespace> {
  if (!/^[a-z0-9][a-z0-9-]{0,23}$/.test(prefix)) throw new Error(`bad namespace prefix ${JSON.stringify(prefix)}`);
  const name = `fs-${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`;
  installExitHook();
  await run('ip', ['netns', 'add', name]);
  const state = { children: new Set<ChildProcess>() };
  owned.set(name, state);
  try {
    await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (err) {
    destroySync(name);
    throw err;
  }
  return {
    name,
    exec: (cmd, args = [], opts = {}) => run('ip', ['netns', 'exec', name, cmd, ...args], opts.timeoutMs),
    spawn(cmd, args = [], opts = {}) {
      const child = spawnChild('ip', ['netns', 'exec', name, cmd, ...args], opts);
      state.children.add(child);
      child.once('exit', () => state.children.delete(child));
      return child;
    },
    async delete() {
      if (!owned.has(name)) return;
      // Polite first: let children (the zoo) clean up their temp files.
      for (const child of state.children) killPid(child.pid, 'SIGTERM');
      const deadline = Date.now() + 3000;
      while ([...state.children].some((c) => c.pid !== undefined && alive(c.pid)) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      destroySync(name);
    },
  };
}

/** A veth pair between a and b with the given addresses; IPv6 uses nodad so it works at once. */
export async function linkNamespaces(a: Namespace, b: Namespace, addrs: LinkAddresses): Promise<{ a: LinkEnd; b: LinkEnd }> {
  const id = randomBytes(3).toString('hex');
  const ends: [LinkEnd, LinkEnd] = [{ ns: a.name, ifname: `fs${id}a` }, { ns: b.name, ifname: `fs${id}b` }];
  await run('ip', ['link', 'add', ends[0].ifname, 'netns', a.name, 'type', 'veth', 'peer', 'name', ends[1].ifname, 'netns', b.name]);
  for (const [i, end] of ends.entries()) {
    const v4 = addrs.v4?.[i];
    const v6 = addrs.v6?.[i];
    if (v4) {
      await run('ip', ['-n', end.ns, 'addr', 'add', v4, 'dev', end.ifname]);
      end.v4 = v4.split('/')[0];
    }
    if (v6) {
      await run('ip', ['-n', end.ns, '-6', 'addr', 'add', v6, 'dev', end.ifname, 'nodad']);
      end.v6 = v6.split('/')[0];
    }
    await run('ip', ['-n', end.ns, 'link', 'set', end.ifname, 'up']);
  }
  // The carrier comes up once both ends are up; wait so the first connect is not refused a route.
  const deadline = Date.now() + 5000;
  for (const end of ends) {
    while (!(await run('ip', ['-n', end.ns, '-o', 'link', 'show', end.ifname])).stdout.includes('state UP')) {
      if (Date.now() > deadline) throw new Error(`${end.ifname} in ${end.ns} did not come up`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return { a: ends[0], b: ends[1] };
}

/**
 * Deletes the namespaces this process created, and fs-* namespaces whose creator
 * process is gone (left by a crashed run). With prefix, only fs-<prefix>-*. Returns their names.
 */
export async function deleteAll(opts: { prefix?: string } = {}): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  const deleted: string[] = [];
  for (const name of stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean)) {
    const m = NAME_RE.exec(name);
    if (!m || (opts.prefix !== undefined && m[1] !== opts.prefix)) continue;
    if (owned.has(name) || !alive(Number(m[2]))) {
      destroySync(name);
      deleted.push(name);
    }
  }
  return deleted;
}

let problem: string | null | undefined;

/** Why namespace tests cannot run here, or null when they can. Probes once per process. */
export function netnsSupportProblem(): string | null {
  if (problem !== undefined) return problem;
  if (process.getuid?.() !== 0) return (problem = 'namespace tests need root (ip netns add)');
  const probe = `fs-probe-${process.pid}-${randomBytes(3).toString('hex')}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
    execFileSync('ip', ['-n', probe, 'link', 'add', 'fsprobe0', 'type', 'veth', 'peer', 'name', 'fsprobe1'], { stdio: 'pipe' });
    problem = null;
  } catch (err) {
    const e = err as Error & { stderr?: Buffer };
    problem = `ip netns add / veth failed: ${e.stderr?.toString().trim() || e.message}`;
  } finally {
    try {
      execFileSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
    } catch {
      // the add failed
    }
  }
  return problem;
}

export function hasNetnsSupport(): boolean {
  return netnsSupportProblem() === null;
}
