// Section 2: in-process cost of parsing the same bytes (the namespace's tcp and tcp6, read
// once), and of reading the live files three ways.

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parseInetTable, scanInetTable } from '../../agent/procfs/proc-net-inet.js';
import type { InetLineCursor } from '../../agent/procfs/proc-net-inet.js';
import { ProcFileReader } from '../../agent/procfs/read-proc-file.js';
import { countNamespace } from '../../agent/snapshot/count-namespace.js';
import { naiveCount } from './naive-parse.js';
import type { PortStateCounts } from './port-state-counts.js';
import { emptyCounts, resetCounts, sameCounts, statesOf } from './port-state-counts.js';
import type { LoopBounds, Timing } from './stats.js';
import { ratio, round, timeAsync, timeSync } from './stats.js';

export const HTTP_PORTS: ReadonlySet<number> = new Set([80, 443, 8080, 8443]);

export interface ParseResult {
  id: string;
  what: string;
  timing: Timing;
  nsPerSocket: number;
  ratioToNaive: number;
}

export interface ReadResult {
  id: string;
  what: string;
  timing: Timing;
  bytes: number;
  ratioToReadFileSync: number;
}

export interface ParseSection {
  sockets: number;
  bytes: { tcp: number; tcp6: number };
  states: Record<string, number>;
  checks: string[];
  parse: ParseResult[];
  reads: ReadResult[];
}

const PARSE_BOUNDS: LoopBounds = { warmup: 3, minIterations: 7, maxIterations: 25, budgetMs: 6000 };
const READ_BOUNDS: LoopBounds = { warmup: 1, minIterations: 5, maxIterations: 9, budgetMs: 5000 };

export async function benchParse(holderPid: number, progress: (text: string) => void): Promise<ParseSection> {
  const dir = `/proc/${holderPid}/net`;
  const reader = new ProcFileReader();
  const tcp = Buffer.from(reader.read(`${dir}/tcp`) ?? Buffer.alloc(0));
  const tcp6 = Buffer.from(reader.read(`${dir}/tcp6`) ?? Buffer.alloc(0));
  const checks: string[] = [];

  // The same answer first: naive and counting mode must agree before either is timed.
  const naive = emptyCounts();
  const scanned = emptyCounts();
  const sockets = naiveCount(tcp, naive) + naiveCount(tcp6, naive);
  const counter = (into: PortStateCounts) => (line: InetLineCursor) => {
    into.byState[line.state & 0xf]!++;
    into.byLocalPort[line.localPort]!++;
    into.byRemotePort[line.remotePort]!++;
  };
  const visit = counter(scanned);
  const stats = scanInetTable(tcp, 4, visit);
  scanInetTable(tcp6, 6, visit, stats);
  checks.push(
    `naive and scanInetTable agree on state/local port/remote port counts: ${sameCounts(naive, scanned)}`,
    `scanInetTable: ${stats.lines} lines, ${stats.badLines} bad; naive matched ${sockets}`,
  );
  const rows = parseInetTable(tcp, 4).rows.length + parseInetTable(tcp6, 6).rows.length;
  const counted = countNamespace({ tcp, tcp6 }, { httpPorts: HTTP_PORTS, topK: 10 });
  const totalsSum = counted.totals.reduce((sum, t) => sum + t.count, 0);
  const http = counted.ports.filter((p) => p.http).reduce((sum, p) => sum + p.count, 0);
  checks.push(`parseInetTable rows: ${rows}; countNamespace totals: ${totalsSum}, HTTP connections: ${http}`);
  if (!sameCounts(naive, scanned) || rows !== sockets || totalsSum !== sockets) {
    throw new Error(`parsers disagree on the same bytes: ${checks.join('; ')}`);
  }

  const parse: { id: string; what: string; timing: Timing }[] = [];
  const time = (id: string, what: string, fn: () => void): void => {
    progress(`  parse: ${id}`);
    parse.push({ id, what, timing: timeSync(PARSE_BOUNDS, fn) });
  };
  const sink = emptyCounts();
  let keep = 0;
  time('naive', "buf.toString().split('\\n') + a regex per line, counting by state and port", () => {
    resetCounts(sink);
    keep += naiveCount(tcp, sink) + naiveCount(tcp6, sink);
  });
  const visitSink = counter(sink);
  time('scan', 'scanInetTable (counting mode), same counts', () => {
    resetCounts(sink);
    scanInetTable(tcp, 4, visitSink);
    scanInetTable(tcp6, 6, visitSink);
  });
  let chars = 0;
  const withAddress = (line: InetLineCursor): void => {
    visitSink(line);
    chars += line.remoteAddress().length;
  };
  time('scan+address', 'scanInetTable, same counts, plus remoteAddress() (a string) per socket', () => {
    resetCounts(sink);
    scanInetTable(tcp, 4, withAddress);
    scanInetTable(tcp6, 6, withAddress);
  });
  keep += chars;
  time('rows', 'parseInetTable (row mode): an object and two address strings per socket', () => {
    keep += parseInetTable(tcp, 4).rows.length + parseInetTable(tcp6, 6).rows.length;
  });
  time('count-namespace', 'countNamespace, httpPorts {80,443,8080,8443}, topK 10', () => {
    keep += countNamespace({ tcp, tcp6 }, { httpPorts: HTTP_PORTS, topK: 10 }).ports.length;
  });
  if (keep < 0) console.log(keep);
  const naiveMedian = parse[0]!.timing.median;

  const reads: { id: string; what: string; timing: Timing; bytes: number }[] = [];
  const paths = [`${dir}/tcp`, `${dir}/tcp6`];
  let bytes = 0;
  progress('  read: ProcFileReader.read');
  const liveReader = new ProcFileReader();
  reads.push({
    id: 'proc-file-reader',
    what: 'ProcFileReader.read (reused buffer, readSync loop)',
    timing: timeSync(READ_BOUNDS, () => {
      bytes = 0;
      for (const path of paths) bytes += liveReader.read(path)?.length ?? 0;
    }),
    bytes,
  });
  progress('  read: fs.readFileSync');
  reads.push({
    id: 'read-file-sync',
    what: 'fs.readFileSync',
    timing: timeSync(READ_BOUNDS, () => {
      bytes = 0;
      for (const path of paths) bytes += readFileSync(path).length;
    }),
    bytes,
  });
  progress('  read: fs.promises.readFile');
  reads.push({
    id: 'promises-read-file',
    what: 'fs.promises.readFile',
    timing: await timeAsync(READ_BOUNDS, async () => {
      bytes = 0;
      for (const path of paths) bytes += (await readFile(path)).length;
    }),
    bytes,
  });
  const syncMedian = reads[1]!.timing.median;

  return {
    sockets,
    bytes: { tcp: tcp.length, tcp6: tcp6.length },
    states: statesOf(naive),
    checks,
    parse: parse.map((p) => ({
      ...p,
      nsPerSocket: round((p.timing.median * 1e6) / sockets, 1),
      ratioToNaive: ratio(p.timing.median, naiveMedian),
    })),
    reads: reads.map((r) => ({ ...r, ratioToReadFileSync: ratio(r.timing.median, syncMedian) })),
  };
}
