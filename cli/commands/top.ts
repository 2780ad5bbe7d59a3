// `fleetstat top`: nodes ranked by HTTP connections, like `kubectl top nodes`; --watch refreshes.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { alignColumns } from '../../agent/netstat/http-count-report.js';
import type { NodeView, SummaryView } from '../../collector/api/fleet-views.js';
import type { NamespaceCountView, PodCountView, WorkloadCountView } from '../../collector/attribution/pod-views.js';
import { argParser } from '../agent-options.js';
import type { CollectorFlags } from '../collector-client.js';
import { addCollectorOptions, CollectorClient } from '../collector-client.js';
import { durationBetween } from '../../agent/duration.js';
import type { OutputFormat } from '../output-format.js';
import { addOutputOption } from '../output-format.js';
import { writeOut } from '../write-out.js';

type TopBy = 'node' | 'pod' | 'workload' | 'namespace';

interface TopFlags extends CollectorFlags {
  by: TopBy;
  output: OutputFormat;
  watch?: boolean;
  interval: number;
}

export function registerTop(program: Command): void {
  addOutputOption(
    addCollectorOptions(program.command('top').description('nodes ranked by HTTP connections'))
      .option('--by <what>', 'node, pod, workload or namespace (all but node need a collector watching Kubernetes)', argParser(parseBy), 'node')
      .option('-w, --watch', 'refresh until interrupted')
      .option('--interval <duration>', 'refresh period with --watch', argParser(durationBetween(100, 3_600_000, '100ms', '1h')), 2000),
  ).action(async (flags: TopFlags) => {
    const client = new CollectorClient(flags);
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGINT', onSignal);
    try {
      do {
        const clear = flags.watch && process.stdout.isTTY ? '\x1b[H\x1b[2J' : '';
        await writeOut(clear + (await topOutput(client, flags)));
        if (flags.watch) await sleep(flags.interval, undefined, { signal: stop.signal }).catch(() => undefined);
      } while (flags.watch && !stop.signal.aborted);
    } finally {
      process.off('SIGINT', onSignal);
    }
  });
}

async function topOutput(client: CollectorClient, flags: TopFlags): Promise<string> {
  const summary = await client.getJson<SummaryView>('api/v1/summary');
  if (flags.by === 'node') {
    const nodes = await client.getJson<NodeView[]>('api/v1/nodes');
    const ranked = [...nodes].sort((a, b) => b.httpConnections - a.httpConnections || (a.name < b.name ? -1 : 1));
    return flags.output === 'json' ? `${JSON.stringify(ranked)}\n` : topTable(summary, ranked);
  }
  if (flags.by === 'pod') {
    const pods = await client.getJson<PodCountView[]>('api/v1/pods');
    if (flags.output === 'json') return `${JSON.stringify(pods)}\n`;
    const rows = [['NAMESPACE', 'POD', 'NODE', 'WORKLOAD', 'HTTP'], ...pods.map((p) => [p.namespace, p.pod, p.node, `${p.workloadKind}/${p.workload}`, String(p.httpConnections)])];
    return `${alignColumns(rows).join('\n')}\n`;
  }
  if (flags.by === 'namespace') {
    const namespaces = await client.getJson<NamespaceCountView[]>('api/v1/namespaces');
    if (flags.output === 'json') return `${JSON.stringify(namespaces)}\n`;
    const rows = [['NAMESPACE', 'PODS', 'HTTP'], ...namespaces.map((n) => [n.namespace, String(n.pods), String(n.httpConnections)])];
    return `${alignColumns(rows).join('\n')}\n`;
  }
  const workloads = await client.getJson<WorkloadCountView[]>('api/v1/workloads');
  if (flags.output === 'json') return `${JSON.stringify(workloads)}\n`;
  const rows = [['NAMESPACE', 'WORKLOAD', 'PODS', 'HTTP'], ...workloads.map((w) => [w.namespace, `${w.kind}/${w.name}`, String(w.pods), String(w.httpConnections)])];
  return `${alignColumns(rows).join('\n')}\n`;
}

function parseBy(text: string): TopBy {
  if (text !== 'node' && text !== 'pod' && text !== 'workload' && text !== 'namespace') {
    throw new Error(`"${text}": expected node, pod, workload or namespace`);
  }
  return text;
}

export function topTable(summary: SummaryView, nodes: readonly NodeView[]): string {
  const rows = [
    ['NAME', 'STATUS', 'HTTP', 'NAMESPACES', 'LAST SEEN'],
    ...nodes.map((n) => [n.name, n.status, String(n.httpConnections), String(n.namespaces), `${n.ageSeconds.toFixed(0)}s ago`]),
  ];
  const footer = `cluster ${summary.cluster}: ${summary.httpConnections} HTTP connections on ${summary.nodes.live} live nodes (${summary.nodes.stale} stale)`;
  return `${[...alignColumns(rows), footer].join('\n')}\n`;
}
