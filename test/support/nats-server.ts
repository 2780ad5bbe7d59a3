// A real nats-server for tests, on a free loopback port with a temporary JetStream store.
// Where the binary comes from, in order: PATH; apt (when root, as CI runs); the NATS image
// through testcontainers (when a Docker engine answers); otherwise a failure naming the fix.
// Debian's nats-server is 2.9.10, so nothing here relies on a 2.10+ flag.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface NatsServerOptions {
  /** Enable JetStream with a temporary store dir (default true). */
  jetstream?: boolean;
  /** Extra nats-server arguments, e.g. ['--user', 'a', '--pass', 'b']. */
  args?: string[];
}

export interface NatsServer {
  /** nats://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** JetStream store dir ('' without JetStream); kept across restart(), removed by stop(). */
  readonly storeDir: string;
  /** The server's pid; changes on restart(). Undefined when it runs in a container or is down. */
  readonly pid: number | undefined;
  /** Stops the server for good and removes the store dir. Safe to call twice. */
  stop(): Promise<void>;
  /** Stops it if it runs, then starts it again on the same port with the same store dir. */
  restart(): Promise<void>;
  /** Sends a signal; for SIGKILL, SIGTERM, SIGINT and SIGQUIT waits until the server has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export type NatsServerSource = 'path' | 'apt' | 'container';

const READY_TIMEOUT_MS = 20_000;
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin']; // Debian installs it in /usr/sbin
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
let installing: Promise<string> | undefined;

/** Pure choice of where the server comes from; throws the error a developer sees when none works. */
export function chooseNatsServerSource(found: { onPath: boolean; isRoot: boolean; docker: boolean }): NatsServerSource {
  if (found.onPath) return 'path';
  if (found.isRoot) return 'apt';
  if (found.docker) return 'container';
  throw new Error(
    'nats-server is needed for these tests and none was found: not on PATH, not root (so not installed from apt), ' +
      'and no Docker engine answers for testcontainers. Fix: `sudo apt-get install -y nats-server` (Debian/Ubuntu), ' +
      'or put a nats-server 2.9+ binary on PATH (https://github.com/nats-io/nats-server/releases), or start Docker.',
  );
}

export function findNatsServerOnPath(pathEnv = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of [...pathEnv.split(delimiter).filter(Boolean), ...EXTRA_DIRS]) {
    const candidate = join(dir, 'nats-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this dir
    }
  }
  return undefined;
}

export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  const onPath = findNatsServerOnPath();
  const isRoot = process.getuid?.() === 0;
  const source = chooseNatsServerSource({ onPath: onPath !== undefined, isRoot, docker: !onPath && !isRoot && (await dockerAnswers()) });
  if (source === 'container') {
    const { startNatsContainer } = await import('./nats-container.js');
    return startNatsContainer(opts, await freePort());
  }
  const binary = onPath ?? (await installFromApt());
  return startProcess(binary, opts);
}

/** apt-get install, with apt-get update first only when the plain install fails (a fresh image has no lists). */
async function installFromApt(): Promise<string> {
  installing ??= (async () => {
    const apt = (args: string[]) =>
      execFileP('apt-get', args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 300_000 });
    try {
      await apt(['install', '-y', 'nats-server']);
    } catch {
      await apt(['update']);
      await apt(['install', '-y', 'nats-server']);
    }
    const found = findNatsServerOnPath();
    if (!found) throw new Error('apt-get installed nats-server but no nats-server binary is on PATH or in /usr/sbin');
    return found;
  })();
  try {
    return await installing;
  } catch (err) {
    installing = undefined;
    throw new Error(`installing nats-server from apt failed: ${(err as Error).message}`, { cause: err });
  }
}

async function dockerAnswers(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false; // "Could not find a working container runtime strategy", in a few ms
  }
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (addr === null || typeof addr === 'string') throw new Error('could not pick a free port');
  return addr.port;
}

async function startProcess(binary: string, opts: NatsServerOptions): Promise<NatsServer> {
  const port = await freePort();
  const jetstream = opts.jetstream ?? true;
  const storeDir = jetstream ? mkdtempSync(join(tmpdir(), 'fleetstat-nats-')) : '';
  const args = ['-a', '127.0.0.1', '-p', String(port), ...(jetstream ? ['-js', '-sd', storeDir] : []), ...(opts.args ?? [])];
  let child: ChildProcess | undefined;
  let stopped = false;

  const launch = async () => {
    const proc = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    track(proc);
    child = proc;
    let log = '';
    // nats-server logs to stderr; keep the tail for the error message if it does not come up.
    proc.stderr?.on('data', (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
    try {
      await waitReady(port, proc);
    } catch (err) {
      await stopProcess(proc, 'SIGKILL');
      throw new Error(`nats-server ${args.join(' ')} did not become ready: ${(err as Error).message}\n${log}`, { cause: err });
    }
  };
  const halt = async (signal: NodeJS.Signals) => {
    const proc = child;
    child = undefined;
    if (proc) await stopProcess(proc, signal);
  };

  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    get pid() {
      return child?.pid;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await halt('SIGTERM');
      if (storeDir) rmSync(storeDir, { recursive: true, force: true });
    },
    async restart() {
      if (stopped) throw new Error('restart() after stop()');
      await halt('SIGTERM');
      await launch();
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (!child) return;
      if (['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGQUIT'].includes(signal)) {
        await halt(signal);
      } else if (child.pid !== undefined) {
        process.kill(child.pid, signal);
      }
    },
  };
}

/** Ready = the port accepts a connection and the server sends its INFO line. */
async function waitReady(port: number, proc: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`exited (${proc.exitCode ?? proc.signalCode})`);
    if (await sendsInfo(port)) return;
    if (Date.now() > deadline) throw new Error(`not ready within ${READY_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function sendsInfo(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = tcpConnect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('data', (b: Buffer) => done(b.toString('latin1').startsWith('INFO ')));
    sock.once('error', () => done(false));
  });
}

/** Signals our own child by pid and waits for it to exit; escalates to SIGKILL after 10 s. */
async function stopProcess(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  process.kill(proc.pid, signal);
  const timer = setTimeout(() => {
    if (proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }, 10_000);
  timer.unref();
  await exited;
  clearTimeout(timer);
}

/** A test that forgets stop() must not leave a server behind: kill our children (by pid) on exit. */
function track(proc: ChildProcess): void {
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const p of running) {
      try {
        if (p.pid !== undefined && p.exitCode === null) p.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}
