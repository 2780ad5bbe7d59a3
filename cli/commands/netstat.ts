// `fleetstat netstat`: net-tools netstat's listing from the same kernel tables, for this
// namespace or (--netns all) every namespace on the host; --http prints HTTP counts instead.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { assertProcRoot } from '../../agent/agent-config.js';
import type { NetnsMode } from '../../agent/netns/discover-namespaces.js';
import { discoverNamespaces } from '../../agent/netns/discover-namespaces.js';
import { NamespaceTableReader } from '../../agent/netns/read-namespace-tables.js';
import type { NameTables } from '../../agent/netstat/name-tables.js';
import { NO_NAMES, parseNameTables } from '../../agent/netstat/name-tables.js';
import type { NamespaceListing, NetstatSelection } from '../../agent/netstat/netstat-report.js';
import { netstatListing } from '../../agent/netstat/netstat-report.js';
import { terminalSafe } from '../../agent/netstat/terminal-safe.js';
import { httpCountLines } from '../../agent/netstat/http-count-report.js';
import type { Protocol } from '../../agent/procfs/net-tables.js';
import { NodeSampler } from '../../agent/sampler/sample-node.js';
import { TABLE_NAMES } from '../../agent/procfs/net-tables.js';
import { DEFAULT_HTTP_PORTS, parsePortList } from '../../agent/snapshot/http-ports.js';
import { argParser, parseNetns } from '../agent-options.js';
import { LineWriter, writeOut } from '../write-out.js';

interface NetstatFlags {
  all?: boolean;
  listening?: boolean;
  numeric?: boolean;
  numericHosts?: boolean;
  numericPorts?: boolean;
  tcp?: boolean;
  udp?: boolean;
  raw?: boolean;
  unix?: boolean;
  wide?: boolean;
  http?: boolean;
  httpPorts: number[];
  netns: NetnsMode;
  proc: string;
}

export function registerNetstat(program: Command): void {
  program
    .command('netstat')
    .description("net-tools netstat's listing from the kernel socket tables, for one or every network namespace")
    .option('-a, --all', 'listening and non-listening sockets')
    .option('-l, --listening', 'only listening sockets')
    .option('-n, --numeric', "don't resolve host or port names")
    .option('--numeric-hosts', "don't resolve host names")
    .option('--numeric-ports', "don't resolve port names")
    .option('-t, --tcp', 'TCP sockets')
    .option('-u, --udp', 'UDP sockets')
    .option('-w, --raw', 'raw sockets')
    .option('-x, --unix', 'unix domain sockets')
    .option('-W, --wide', "don't truncate addresses (and show whole unix paths)")
    .option('--http', 'HTTP connection counts by namespace, port, direction and state')
    .option('--http-ports <list>', 'ports that count as HTTP', argParser(parsePortList), [...DEFAULT_HTTP_PORTS])
    .option('--netns <mode>', 'self: this namespace; all: every namespace, rows tagged with it', argParser(parseNetns), 'self')
    .option('--proc <dir>', 'proc filesystem root', '/proc')
    .action(async (flags: NetstatFlags) => {
      assertProcRoot(flags.proc);
      if (flags.http) {
        await writeOut(`${httpLines(flags).join('\n')}\n`);
        return;
      }
      const out = new LineWriter();
      listing(flags, out.line);
      await out.end();
    });
}

function listing(flags: NetstatFlags, emit: (line: string) => void): void {
  const reader = new NamespaceTableReader(flags.proc);
  const tagged = flags.netns === 'all';
  // "self" reads <proc>/<own pid>/net, exactly what net-tools reads through /proc/net.
  const namespaces = discoverNamespaces(flags.proc, flags.netns).namespaces;
  // A generator, so each namespace's tables are read only after the previous one is formatted.
  const listings = function* (): Generator<NamespaceListing> {
    for (const ns of namespaces) {
      const tables = reader.read(ns.pids, TABLE_NAMES).tables;
      yield tagged ? { tables, label: `${ns.inode}/${terminalSafe(ns.processName)}` } : { tables };
    }
  };
  netstatListing(selectionOf(flags), listings(), namesFor(flags), tagged, emit);
}

function httpLines(flags: NetstatFlags): string[] {
  const sampler = new NodeSampler({
    procRoot: flags.proc,
    netns: flags.netns,
    httpPorts: flags.httpPorts,
    topK: 0,
    maxPidsListed: 0,
  });
  return httpCountLines(sampler.sample().namespaces);
}

function selectionOf(flags: NetstatFlags): NetstatSelection {
  const protocols = new Set<Protocol>();
  if (flags.tcp) protocols.add('tcp');
  if (flags.udp) protocols.add('udp');
  if (flags.raw) protocols.add('raw');
  const any = protocols.size > 0 || flags.unix === true;
  if (!any) for (const p of ['tcp', 'udp', 'raw'] as const) protocols.add(p);
  return {
    protocols,
    unix: !any || flags.unix === true,
    all: flags.all === true,
    listening: flags.listening === true,
    numericHosts: flags.numeric === true || flags.numericHosts === true,
    numericPorts: flags.numeric === true || flags.numericPorts === true,
    wide: flags.wide === true,
  };
}

function namesFor(flags: NetstatFlags): NameTables {
  if (flags.numeric) return NO_NAMES;
  const text = (path: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
  return parseNameTables(text('/etc/services'), text('/etc/protocols'), text('/etc/hosts'));
}
