// fleetstat benchmark (`npm run bench`, as root): builds a network namespace holding about
// 100,000 loopback TCP sockets and measures, as ratios to peer tools timed in the same run,
//   1. whole commands (netstat, ss, cat, fleetstat) run inside it,
//   2. in-process parse and read cost on its tables,
//   3. what a nearly empty second namespace costs while the big one exists,
//   4. history at fleet scale (bench/history-scale.ts; FSBENCH_HISTORY=0 skips it).
// Prints a table and writes bench/results/latest.json. Namespaces and processes it makes are
// removed at the end, on error and on SIGINT/SIGTERM.
//
// Environment: FSBENCH_PAIRS (connections, default 50000: two sockets each),
// FSBENCH_ROUNDS (measured rounds of section 1, default 7), FSBENCH_OUT (JSON path).

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scanInetTable } from '../agent/procfs/proc-net-inet.js';
import { ProcFileReader } from '../agent/procfs/read-proc-file.js';
import { historyReport, runHistoryScale, writeHistoryResults } from './history-scale.js';
import type { CommandSection } from './lib/commands.js';
import { benchCommands } from './lib/commands.js';
import type { NamespacePhase } from './lib/namespaces.js';
import { measureNamespaces } from './lib/namespaces.js';
import type { Holder } from './lib/netns.js';
import {
  addLoopbackAddress,
  createNamespace,
  destroyAll,
  holderFdLimit,
  ownedNamespaces,
  removeStaleNamespaces,
  startHolder,
} from './lib/netns.js';
import type { ParseSection } from './lib/parse.js';
import { benchParse } from './lib/parse.js';
import { nowMs, ratio, round } from './lib/stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PAIRS = envInt('FSBENCH_PAIRS', 50_000, 1, 200_000);
const ROUNDS = envInt('FSBENCH_ROUNDS', 7, 5, 50);
const OUT = process.env.FSBENCH_OUT ?? join(ROOT, 'bench', 'results', 'latest.json');
const MAX_HOLDERS = 32;
const started = nowMs();

function envInt(name: string, fallback: number, min: number, max: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name}=${text}: expected ${min}..${max}`);
  return value;
}

function progress(text: string): void {
  process.stderr.write(`[${((nowMs() - started) / 1000).toFixed(1).padStart(5)} s] ${text}\n`);
}

function sh(cmd: string, args: readonly string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], cwd: ROOT }).trim();
  } catch {
    return '';
  }
}

function sysctl(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

function machine(): Record<string, unknown> {
  return {
    nproc: Number(sh('nproc', [])) || os.cpus().length,
    cpu: os.cpus()[0]?.model ?? '',
    memGiB: round(os.totalmem() / 2 ** 30, 1),
    kernel: os.release(),
    node: process.version,
    netstat: sh('netstat', ['--version']).split('\n')[0] ?? '',
    ss: sh('ss', ['--version']),
    tcpEhashEntries: sysctl('/proc/sys/net/ipv4/tcp_ehash_entries'),
    tcpChildEhashEntries: sysctl('/proc/sys/net/ipv4/tcp_child_ehash_entries'),
    loadavgAtStart: os.loadavg().map((l) => round(l)),
  };
}

/** Source files of the CLI newer than (or missing from) dist/: bin/fleetstat.js would run old code. */
function staleDist(): string[] {
  const stale: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 8 || !existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path, depth + 1);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) {
        const built = join(ROOT, 'dist', relative(ROOT, path).replace(/\.ts$/, '.js'));
        if (!existsSync(built) || statSync(built).mtimeMs < statSync(path).mtimeMs) stale.push(relative(ROOT, path));
      }
    }
  };
  for (const dir of ['agent', 'cli', 'proto/gen']) walk(join(ROOT, dir), 0);
  return stale;
}

interface DistState {
  stale: string[];
  rebuilt: boolean;
  /** The build reported errors: tsc still emits, so dist/ may mix old and new files. */
  buildFailed: boolean;
  /** Sources with uncommitted changes (others work in this tree): what was measured is not HEAD alone. */
  uncommittedSources: string[];
}

function ensureBuilt(): DistState {
  const uncommittedSources = sh('git', ['status', '--porcelain', '--', 'agent', 'cli', 'proto'])
    .split('\n')
    .filter(Boolean);
  const stale = staleDist();
  if (stale.length === 0) return { stale, rebuilt: false, buildFailed: false, uncommittedSources };
  progress(`dist/ is stale (${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', ...' : ''}): npm run build`);
  const out = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  const buildFailed = out.status !== 0;
  if (buildFailed) progress(`  npm run build reported errors (tsc emits anyway; dist/ may mix old and new files):\n${out.stdout}`);
  return { stale, rebuilt: !buildFailed, buildFailed, uncommittedSources };
}

interface SocketCount {
  target: number;
  reached: number;
  tcp: number;
  tcp6: number;
  badLines: number;
  holders: number;
  pairsPerHolder: number[];
  holderFdLimit: number;
  fillMs: number;
}

function countSockets(pid: number): { tcp: number; tcp6: number; badLines: number } {
  const reader = new ProcFileReader();
  const count = (table: 'tcp' | 'tcp6', family: 4 | 6) => {
    const buf = reader.read(`/proc/${pid}/net/${table}`);
    return buf ? scanInetTable(buf, family, () => {}) : { lines: 0, badLines: 0, bytes: 0 };
  };
  const v4 = count('tcp', 4);
  const v6 = count('tcp6', 6);
  return { tcp: v4.lines - v4.badLines, tcp6: v6.lines - v6.badLines, badLines: v4.badLines + v6.badLines };
}

async function fillBigNamespace(ns: string): Promise<{ holders: Holder[]; sockets: SocketCount }> {
  const fdLimit = holderFdLimit(300_000);
  // Both ends of every connection live in the holder: 2 fds a pair, plus node's own.
  const perHolderMax = Math.floor((fdLimit - 200) / 2);
  if (perHolderMax < 1) throw new Error(`fd limit ${fdLimit} is too low for a holder`);
  const count = Math.ceil(PAIRS / perHolderMax);
  if (count > MAX_HOLDERS) throw new Error(`fd limit ${fdLimit} would need ${count} holders (at most ${MAX_HOLDERS})`);
  const pairs = Array.from({ length: count }, (_, k) => Math.floor(PAIRS / count) + (k < PAIRS % count ? 1 : 0));
  progress(`filling ${ns}: ${PAIRS} connections from ${count} holder(s) (fd limit ${fdLimit} each)`);
  const t0 = nowMs();
  const holders = await Promise.all(
    pairs.map((n, k) => {
      const v6 = k === 0 ? '::1' : `fdfb::${k + 1}`;
      if (k > 0) addLoopbackAddress(ns, `${v6}/128`);
      return startHolder(ns, ROOT, { pairs: n, v4: `127.0.0.${k + 1}`, v6, fdLimit, timeoutMs: 180_000 });
    }),
  );
  const fillMs = nowMs() - t0;
  for (const h of holders) {
    if (h.report.error) progress(`  holder ${h.pid}: ${h.report.pairs} pairs, then ${h.report.error} (${h.report.failed} failed)`);
  }
  const seen = countSockets(holders[0]!.pid);
  const sockets: SocketCount = {
    target: 2 * PAIRS + 6 * count,
    reached: seen.tcp + seen.tcp6,
    ...seen,
    holders: count,
    pairsPerHolder: holders.map((h) => h.report.pairs),
    holderFdLimit: fdLimit,
    fillMs: Math.round(fillMs),
  };
  progress(`  ${sockets.reached} TCP sockets (tcp ${sockets.tcp}, tcp6 ${sockets.tcp6}) in ${(fillMs / 1000).toFixed(1)} s`);
  return { holders, sockets };
}

// ---- report ----

function table(header: readonly string[], rows: readonly (readonly string[])[], right: ReadonlySet<number>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const x = (v: number) => `${v.toFixed(v >= 10 ? 1 : 2)}x`;

interface Results {
  when: string;
  commit: string;
  machine: Record<string, unknown>;
  dist: DistState;
  namespaces: { big: string; small: string };
  sockets: SocketCount;
  commands: CommandSection;
  parse: ParseSection;
  namespaceCost: { before: NamespacePhase; during: NamespacePhase; smallReadRatio: number; smallToBigReadRatio: number };
  cleanup: { namespacesLeft: string[]; holdersAlive: number[] };
  durationS: number;
}

function report(r: Results): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(`fleetstat bench  ${r.when}  commit ${r.commit}`);
  out.push(
    `machine: ${String(m.nproc)} cores (${String(m.cpu)}), ${String(m.memGiB)} GiB, kernel ${String(m.kernel)}, node ${String(m.node)}, ${String(m.netstat)}, ${String(m.ss)}`,
  );
  out.push(
    `namespace ${r.namespaces.big}: ${r.sockets.reached} TCP sockets reached (tcp ${r.sockets.tcp}, tcp6 ${r.sockets.tcp6}; target ${r.sockets.target}), ` +
      `held by ${r.sockets.holders} process(es), filled in ${(r.sockets.fillMs / 1000).toFixed(1)} s`,
  );
  out.push(
    `load average at start ${(m.loadavgAtStart as number[]).join(' ')}, at end ${(m.loadavgAtEnd as number[]).join(' ')} (other work on the machine slows every row alike)`,
  );
  out.push('');
  out.push(`1. Whole commands inside the namespace: median of ${r.commands.rounds} interleaved runs (+${r.commands.warmupRounds} warm-up), ratio to \`netstat -tan\``);
  out.push(
    ...table(
      ['command', 'median ms', 'vs netstat', 'min-max ms', 'note'],
      r.commands.results.map((c) => [
        c.command,
        ms(c.timing.median),
        x(c.ratioToNetstat),
        `${ms(c.timing.min)}-${ms(c.timing.max)}`,
        c.note ?? '',
      ]),
      new Set([1, 2, 3]),
    ),
  );
  const seed = r.commands.results.find((c) => c.id === 'seed')?.output;
  const httpOut = r.commands.results.find((c) => c.id === 'fleetstat-http')?.output;
  out.push('   (NODE_EXTRA_CA_CERTS unset for every row but the one marked; ip netns exec + sh is in every row, as in the floor)');
  if (seed !== undefined) {
    out.push(
      `   \`grep :80 | wc -l\` printed ${seed} (lines with :80 or :8080 anywhere, listeners included); ` +
        `\`fleetstat netstat --http\` printed ${httpOut?.split('\n').pop() ?? '?'} (connections on 80, 443, 8080, 8443)`,
    );
  }
  out.push('');
  const p = r.parse;
  out.push(
    `2. In-process parse of the same bytes (tcp ${(p.bytes.tcp / 2 ** 20).toFixed(1)} MiB + tcp6 ${(p.bytes.tcp6 / 2 ** 20).toFixed(1)} MiB, ${p.sockets} sockets), median`,
  );
  out.push(
    ...table(
      ['parser', 'median ms', 'ns/socket', 'vs naive', 'what'],
      p.parse.map((e) => [e.id, ms(e.timing.median), e.nsPerSocket.toFixed(0), x(e.ratioToNaive), e.what]),
      new Set([1, 2, 3]),
    ),
  );
  out.push('   Reading the live tcp + tcp6 files (the kernel formats them on every read):');
  out.push(
    ...table(
      ['reader', 'median ms', 'MiB', 'vs readFileSync', 'runs'],
      p.reads.map((e) => [e.what, ms(e.timing.median), (e.bytes / 2 ** 20).toFixed(1), x(e.ratioToReadFileSync), String(e.timing.runs.length)]),
      new Set([1, 2, 3]),
    ),
  );
  out.push('');
  const nc = r.namespaceCost;
  out.push('3. Namespace cost: a nearly empty namespace, before the 100k-socket namespace exists and while it does');
  const phaseRow = (label: string, ph: NamespacePhase): string[] => [
    label,
    ms(ph.smallRead.median),
    String(ph.sampler.namespaces),
    ms(ph.sampler.total.median),
    ms(ph.sampler.msPerNamespace),
    ms(ph.sampler.smallMs),
    ms(ph.sampler.hostMs),
    ph.sampler.bigMs === undefined ? '-' : ms(ph.sampler.bigMs),
  ];
  out.push(
    ...table(
      ['', 'small tcp+tcp6 read ms', 'namespaces', 'NodeSampler all ms', 'ms/namespace', 'small ns ms', 'host ns ms', '100k ns ms'],
      [phaseRow('before', nc.before), phaseRow('with 100k', nc.during)],
      new Set([1, 2, 3, 4, 5, 6, 7]),
    ),
  );
  out.push(
    `   small namespace (${nc.during.smallLines} sockets) read: ${x(nc.smallReadRatio)} slower with 100k sockets elsewhere; ` +
      `${(nc.smallToBigReadRatio * 100).toFixed(0)}% of reading the 100k namespace itself (ProcFileReader, section 2)`,
  );
  out.push(
    `   NodeSampler, per nearly empty namespace (all 7 tables read and counted): small ${x(ratio(nc.during.sampler.smallMs, nc.before.sampler.smallMs))}, ` +
      `host ${x(ratio(nc.during.sampler.hostMs, nc.before.sampler.hostMs))} of before`,
  );
  out.push(
    `   host ehash buckets ${String(m.tcpEhashEntries)}, tcp_child_ehash_entries ${String(m.tcpChildEhashEntries)} (0: new namespaces share the host's table)`,
  );
  out.push('');
  out.push(
    `cleanup: namespaces left ${r.cleanup.namespacesLeft.length === 0 ? 'none' : r.cleanup.namespacesLeft.join(', ')}, ` +
      `holders alive ${r.cleanup.holdersAlive.length === 0 ? 'none' : r.cleanup.holdersAlive.join(', ')}; total ${r.durationS.toFixed(0)} s`,
  );
  return out.join('\n');
}

// ---- main ----

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) throw new Error('run as root: the bench creates network namespaces');
  const removed = removeStaleNamespaces();
  if (removed.length > 0) progress(`removed namespaces left by an earlier run: ${removed.join(', ')}`);
  const info = machine();
  progress(`machine: ${String(info.nproc)} cores, kernel ${String(info.kernel)}, node ${String(info.node)}`);
  const dist = ensureBuilt();
  const holderPids: number[] = [];
  let partial: Omit<Results, 'cleanup' | 'durationS'> | undefined;
  try {
    const small = createNamespace('small');
    const smallHolder = await startHolder(small, ROOT, { pairs: 10, fdLimit: 1024, timeoutMs: 30_000 });
    holderPids.push(smallHolder.pid);
    progress(`section 3 (before): ${small} with ${smallHolder.report.pairs} connections`);
    const before = measureNamespaces(smallHolder.pid, undefined, progress);

    const big = createNamespace('big');
    const { holders, sockets } = await fillBigNamespace(big);
    holderPids.push(...holders.map((h) => h.pid));

    progress(`section 1: whole commands in ${big}`);
    const commands = benchCommands(big, ROOT, ROUNDS, 1, progress);
    progress('section 2: in-process parse and read');
    const parse = await benchParse(holders[0]!.pid, progress);
    progress('section 3 (with 100k sockets)');
    const during = measureNamespaces(smallHolder.pid, holders[0]!.pid, progress);
    const bigRead = parse.reads.find((e) => e.id === 'proc-file-reader')!.timing.median;
    partial = {
      when: new Date().toISOString(),
      commit: sh('git', ['rev-parse', '--short', 'HEAD']),
      machine: { ...info, loadavgAtEnd: os.loadavg().map((l) => round(l)) },
      dist,
      namespaces: { big, small },
      sockets,
      commands,
      parse,
      namespaceCost: {
        before,
        during,
        smallReadRatio: ratio(during.smallRead.median, before.smallRead.median),
        smallToBigReadRatio: ratio(during.smallRead.median, bigRead),
      },
    };
  } finally {
    progress(`cleanup: ${ownedNamespaces().join(', ') || 'nothing to remove'}`);
    await destroyAll();
  }
  const left = new Set(sh('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0] ?? ''));
  const results: Results = {
    ...partial,
    cleanup: {
      namespacesLeft: [partial.namespaces.big, partial.namespaces.small].filter((n) => left.has(n)),
      holdersAlive: holderPids.filter(alive),
    },
    durationS: round((nowMs() - started) / 1000, 1),
  };
  const text = report(results);
  process.stdout.write(`\n${text}\n`);
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify({ ...results, table: text.split('\n') }, null, 2)}\n`);
  progress(`wrote ${relative(process.cwd(), OUT)}`);
  if (process.env.FSBENCH_HISTORY !== '0') {
    progress('section 4: history at fleet scale');
    const history = await runHistoryScale(progress);
    const historyText = historyReport(history);
    process.stdout.write(`\n${historyText}\n`);
    progress(`wrote ${relative(process.cwd(), writeHistoryResults(history, historyText))}`);
  }
  return results.cleanup.namespacesLeft.length === 0 && results.cleanup.holdersAlive.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (error: unknown) => {
    await destroyAll();
    process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
