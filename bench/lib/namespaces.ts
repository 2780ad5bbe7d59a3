// Section 3: what one namespace costs. Reading a namespace's /proc/<pid>/net/tcp walks the
// kernel's socket hash table, which every namespace created with the default
// net.ipv4.tcp_child_ehash_entries=0 shares with the host, so a nearly empty namespace's read
// grows with the sockets of all the others. Measured twice: before the 100k-socket namespace
// exists, and while it holds its sockets.

import { ProcFileReader } from '../../agent/procfs/read-proc-file.js';
import { NodeSampler } from '../../agent/sampler/sample-node.js';
import type { LoopBounds, Timing } from './stats.js';
import { median, nowMs, round, timeSync, timingOf } from './stats.js';

export interface NamespacePhase {
  /** ProcFileReader.read of the small namespace's tcp and tcp6. */
  smallRead: Timing;
  smallLines: number;
  sampler: {
    samples: number;
    total: Timing;
    namespaces: number;
    /** Median over samples of total / namespaces. */
    msPerNamespace: number;
    /** Median over samples of each namespace's read + count time (parse.readMicros). */
    smallMs: number;
    hostMs: number;
    bigMs?: number;
    /** Namespaces other than host, small and big (other people's, say). */
    othersMs: number;
    others: number;
    /** Lines (sockets of every table) seen in all namespaces, last sample. */
    lines: number;
  };
}

const SMALL_READ_BOUNDS: LoopBounds = { warmup: 2, minIterations: 9, maxIterations: 31, budgetMs: 3000 };
const SAMPLES = { warmup: 1, min: 5, max: 9, budgetMs: 10_000 };

export function measureNamespaces(smallPid: number, bigPid: number | undefined, progress: (t: string) => void): NamespacePhase {
  const reader = new ProcFileReader();
  let smallLines = 0;
  progress('  namespaces: small namespace reads');
  const smallRead = timeSync(SMALL_READ_BOUNDS, () => {
    smallLines = 0;
    for (const table of ['tcp', 'tcp6']) {
      const buf = reader.read(`/proc/${smallPid}/net/${table}`);
      if (!buf) throw new Error(`small namespace holder ${smallPid} is gone`);
      for (const byte of buf) if (byte === 0x0a) smallLines++;
    }
    smallLines -= 2; // headers
  });

  progress('  namespaces: NodeSampler netns all');
  const sampler = new NodeSampler({ procRoot: '/proc', netns: 'all', httpPorts: [80, 443, 8080, 8443], topK: 10, maxPidsListed: 16 });
  for (let i = 0; i < SAMPLES.warmup; i++) sampler.sample();
  const totals: number[] = [];
  const perNs: number[] = [];
  const small: number[] = [];
  const host: number[] = [];
  const big: number[] = [];
  const others: number[] = [];
  let namespaces = 0;
  let otherCount = 0;
  let lines = 0;
  const started = nowMs();
  for (let i = 0; i < SAMPLES.max; i++) {
    const t0 = nowMs();
    const sample = sampler.sample();
    const ms = nowMs() - t0;
    totals.push(ms);
    namespaces = sample.namespaces.length;
    perNs.push(ms / namespaces);
    lines = sample.parse.lines;
    let othersMs = 0;
    otherCount = 0;
    for (const ns of sample.namespaces) {
      const nsMs = (ns.parse?.readMicros ?? 0) / 1000;
      if (ns.pids.includes(smallPid)) small.push(nsMs);
      else if (bigPid !== undefined && ns.pids.includes(bigPid)) big.push(nsMs);
      else if (ns.host) host.push(nsMs);
      else {
        othersMs += nsMs;
        otherCount++;
      }
    }
    others.push(othersMs);
    if (totals.length >= SAMPLES.min && nowMs() - started > SAMPLES.budgetMs) break;
  }
  const phase: NamespacePhase = {
    smallRead,
    smallLines,
    sampler: {
      samples: totals.length,
      total: timingOf(totals),
      namespaces,
      msPerNamespace: round(median(perNs)),
      smallMs: round(median(small)),
      hostMs: round(median(host)),
      othersMs: round(median(others)),
      others: otherCount,
      lines,
    },
  };
  if (big.length > 0) phase.sampler.bigMs = round(median(big));
  return phase;
}
