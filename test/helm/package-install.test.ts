// What the container image does, without a container engine: `npm pack`, install the tarball
// with runtime dependencies only into an empty directory, and run fleetstat from there: as
// root, as uid 65534 with no capabilities (the chart's agent), and as PID 1 of its own PID
// namespace (node as a container's init) to show that SIGTERM reaches it and the goodbye is sent.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/nats-server.js';
import { ROOT } from './render-chart.js';
import { startRootNamespaceListener } from './root-namespace-listener.js';
import type { RootNamespaceListener } from './root-namespace-listener.js';

const execFileP = promisify(execFile);
const isRoot = process.getuid?.() === 0;
/** The chart's agent identity: nobody:nogroup, no supplementary groups, every capability gone. */
const AS_NOBODY = ['setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all'];

let work: string;
let tarball: string;
let cli: string;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'fleetstat-pack-'));
  chmodSync(work, 0o755); // uid 65534 runs the installed copy below
  await execFileP('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: ROOT, timeout: 180_000 });
  tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz')) ?? 'missing.tgz');
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), '{ "private": true }\n');
  await execFileP('npm', ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock', tarball], {
    cwd: app,
    timeout: 300_000,
  });
  await buildNativeAddons(join(app, 'node_modules'));
  cli = join(app, 'node_modules/fleetstat/bin/fleetstat.js');
}, 420_000);

afterAll(() => {
  for (const child of children) {
    // A child that exited but whose exit event has not run yet is already gone: ESRCH is fine.
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

/**
 * Install scripts were skipped above (a from-source better-sqlite3 build takes minutes); each
 * native addon gets the build this checkout's `npm ci` already made for the same version, and
 * is rebuilt with `npm rebuild` only when there is none. The image's `npm rebuild` builds them.
 */
async function buildNativeAddons(modules: string): Promise<void> {
  for (const name of readdirSync(modules)) {
    const dir = join(modules, name);
    if (!existsSync(join(dir, 'binding.gyp'))) continue;
    const version = (file: string) => (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    const built = join(ROOT, 'node_modules', name);
    if (existsSync(join(built, 'build')) && version(join(built, 'package.json')) === version(join(dir, 'package.json'))) {
      cpSync(join(built, 'build'), join(dir, 'build'), { recursive: true });
    } else {
      await execFileP('npm', ['rebuild', name], { cwd: join(modules, '..'), timeout: 300_000 });
    }
  }
}

function run(args: string[], opts: { prefix?: string[] } = {}): Promise<{ stdout: string; stderr: string }> {
  const [cmd, ...rest] = [...(opts.prefix ?? []), process.execPath, cli, ...args];
  return execFileP(cmd as string, rest, { cwd: work, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
}

describe('the packed package, installed with runtime dependencies only', () => {
  it('holds the launcher, the compiled CLI and the protocol, and no tests or TypeScript sources', async () => {
    const { stdout } = await execFileP('tar', ['-tzf', tarball]);
    const files = stdout.split('\n').filter(Boolean);
    for (const needed of ['package/package.json', 'package/bin/fleetstat.js', 'package/dist/cli/main.js', 'package/dist/agent/sampler/sampler-worker.js', 'package/dist/collector/history/history-worker.js']) {
      expect(files).toContain(needed);
    }
    expect(files.some((f) => f.startsWith('package/proto/fleetstat/v1/') && f.endsWith('.proto'))).toBe(true);
    expect(files.filter((f) => /\.test\.(ts|js)$/.test(f) || f.startsWith('package/test/'))).toEqual([]);
  });

  it('runs fleetstat --help', async () => {
    const { stdout } = await run(['--help']);
    for (const command of ['agent', 'collector', 'netstat', 'up', 'top', 'connections']) expect(stdout).toContain(command);
  });

  it('prints one snapshot with fleetstat agent --once --netns self', async () => {
    const snapshot = JSON.parse((await run(['agent', '--once', '--netns', 'self'])).stdout) as { namespaces: unknown[]; node: string };
    expect(Array.isArray(snapshot.namespaces)).toBe(true);
    expect(snapshot.namespaces).toHaveLength(1);
  });

  describe.skipIf(!isRoot)('as the chart runs it', () => {
    let listener: RootNamespaceListener;
    beforeAll(async () => {
      listener = await startRootNamespaceListener();
    });
    afterAll(async () => listener?.stop());

    it("reports, as uid 65534 with no capabilities, the sockets of a root-owned process's network namespace", async () => {
      const { stdout } = await run(['agent', '--once', '--netns', 'all'], { prefix: AS_NOBODY });
      type Ns = { inode: number; pids: number[]; listeners?: { port: number; acceptQueue?: number }[]; ports?: { port: number; direction: string; state: string; count: number }[] };
      const snapshot = JSON.parse(stdout) as { namespaces: Ns[] };
      const ns = snapshot.namespaces.find((n) => n.inode === listener.netnsInode);
      expect(ns, `namespace ${listener.netnsInode} of root's pid ${listener.pid}`).toBeDefined();
      expect(ns?.pids).toContain(listener.pid);
      expect(ns?.listeners).toContainEqual(expect.objectContaining({ port: listener.port, acceptQueue: listener.unaccepted }));
      expect(ns?.ports).toContainEqual(
        expect.objectContaining({ port: listener.port, direction: 'DIRECTION_INBOUND', state: 'TCP_STATE_ESTABLISHED', count: listener.established + listener.unaccepted }),
      );
    });

    it('handles SIGTERM as PID 1 of its own PID namespace, as in a container, and says goodbye', async () => {
      const [httpPort, grpcPort] = [await freePort(), await freePort()];
      const collector = spawn(process.execPath, [cli, 'collector', '--listen', `127.0.0.1:${httpPort}`, '--grpc', `127.0.0.1:${grpcPort}`], {
        stdio: 'ignore',
      });
      children.add(collector);
      // unshare forks; its child execs setpriv, which execs node: node is PID 1 in the new namespace.
      const agentArgs = ['agent', '--node', 'pid1-node', '--grpc', `127.0.0.1:${grpcPort}`, '--interval', '500ms', '--netns', 'self'];
      const unshare = spawn('unshare', ['--pid', '--fork', '--mount-proc', ...AS_NOBODY, process.execPath, cli, ...agentArgs], { stdio: 'ignore' });
      children.add(unshare);
      const node = async () => {
        const response = await fetch(`http://127.0.0.1:${httpPort}/api/v1/nodes`).catch(() => undefined);
        const nodes = response?.ok ? ((await response.json()) as { name: string; status: string; staleReason?: string }[]) : [];
        return nodes.find((n) => n.name === 'pid1-node');
      };
      await until(async () => (await node())?.status === 'live', 20_000);

      const pid1 = Number(readFileSync(`/proc/${unshare.pid}/task/${unshare.pid}/children`, 'utf8').trim());
      expect(readFileSync(`/proc/${pid1}/status`, 'utf8')).toMatch(/^NSpid:\s+\d+\s+1$/m);
      const exited = new Promise<number | null>((resolve) => unshare.once('exit', (code) => resolve(code)));
      process.kill(pid1, 'SIGTERM');
      expect(await exited).toBe(0);
      expect(await node()).toMatchObject({ status: 'stale', staleReason: 'goodbye' });
      collector.kill('SIGTERM');
    });
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

  it('copies every directory the TypeScript build compiles, and none the context leaves out', () => {
    const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => (m[1] as string).split(/\s+/));
    for (const dir of build.include.map((d) => d.split('/')[0] as string)) expect(copied).toContain(dir);
    for (const source of copied) {
      expect(existsSync(join(ROOT, source)), source).toBe(true);
      expect(ignored, source).not.toContain(source);
    }
  });

  it('runs as 65534 with node as PID 1 (exec form) on the launcher the package installs', () => {
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^USER 65534:65534$/m);
    expect(runtime).toMatch(/^ENTRYPOINT \["node", "\/app\/bin\/fleetstat\.js"\]$/m);
    for (const path of ['package.json', 'node_modules', 'bin', 'dist']) expect(runtime).toMatch(new RegExp(`^COPY --from=build /app/${path} `, 'm'));
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
  });
});

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
