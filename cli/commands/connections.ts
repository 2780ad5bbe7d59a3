// `fleetstat connections`: the cluster-wide `netstat -an | grep :80`: the collector asks every
// live node for matching sockets; printed with netstat's columns plus the node.

import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { tcpStateCode } from '../../agent/procfs/tcp-states.js';
import { alignColumns } from '../../agent/netstat/http-count-report.js';
import { argParser } from '../agent-options.js';
import type { CollectorFlags } from '../collector-client.js';
import { addCollectorOptions, CollectorClient } from '../collector-client.js';
import type { OutputFormat } from '../output-format.js';
import { addOutputOption } from '../output-format.js';
import { writeOut } from '../write-out.js';

interface ConnectionsFlags extends CollectorFlags {
  port?: number;
  state?: string;
  node?: string;
  limit?: number;
  output: OutputFormat;
}

export interface ConnectionRow {
  node: string;
  proto: string;
  recvQ: number;
  sendQ: number;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  state: string;
}

interface ConnectionsAnswer {
  nodes: { node: string; rows: number; truncated: number; error?: string }[];
  rows: ConnectionRow[];
}

export function registerConnections(program: Command): void {
  addOutputOption(
    addCollectorOptions(program.command('connections').description('socket rows from every live node, filtered like netstat -an | grep :PORT'))
      .option('--port <port>', 'local or remote port', argParser(parsePort))
      .option('--state <state>', 'TCP state, e.g. ESTABLISHED or TIME_WAIT', argParser(parseState))
      .option('--node <name>', 'only this node')
      .option('--limit <n>', 'rows per node', argParser(parsePort)),
  ).action(async (flags: ConnectionsFlags) => {
    const query = new URLSearchParams();
    if (flags.port !== undefined) query.set('port', String(flags.port));
    if (flags.state) query.set('state', flags.state);
    if (flags.node) query.set('node', flags.node);
    if (flags.limit !== undefined) query.set('limit', String(flags.limit));
    const answer = await new CollectorClient(flags).getJson<ConnectionsAnswer>(`api/v1/connections?${query}`, 30_000);
    for (const n of answer.nodes) {
      if (n.error) process.stderr.write(`fleetstat: node ${n.node}: ${n.error}\n`);
      else if (n.truncated > 0) process.stderr.write(`fleetstat: node ${n.node}: ${n.truncated} more rows not shown (--limit)\n`);
    }
    await writeOut(flags.output === 'json' ? `${JSON.stringify(answer.rows)}\n` : connectionsTable(answer.rows));
  });
}

export function connectionsTable(rows: readonly ConnectionRow[]): string {
  const endpoint = (address: string, port: number): string => `${address}:${port === 0 ? '*' : port}`;
  const table = [
    ['NODE', 'PROTO', 'RECV-Q', 'SEND-Q', 'LOCAL ADDRESS', 'FOREIGN ADDRESS', 'STATE'],
    ...rows.map((r) => [r.node, r.proto, String(r.recvQ), String(r.sendQ), endpoint(r.localAddress, r.localPort), endpoint(r.remoteAddress, r.remotePort), r.state]),
  ];
  return `${alignColumns(table).join('\n')}\n`;
}

function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d{1,5}$/.test(text) || n < 1 || n > 65535) throw new InvalidArgumentError(`"${text}": expected 1-65535`);
  return n;
}

function parseState(text: string): string {
  if (tcpStateCode(text) < 0) throw new Error(`"${text}": not a TCP state (ESTABLISHED, TIME_WAIT, LISTEN, ...)`);
  return text.toUpperCase();
}
