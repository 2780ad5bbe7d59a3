// One namespace's socket tables to the counts a snapshot carries. Pure: bytes in, counts out.
//
// A TCP socket is an HTTP connection when its local port is an HTTP port this namespace
// listens on (inbound) or its remote port is an HTTP port (outbound). tcp and tcp6 are
// merged per port, because IPv4 clients of a dual-stack listener appear only in tcp6.
// Inbound counts are kept for every listening port, so the collector can classify ports
// it learns are HTTP (named container ports) without another round trip.

import type {
  Listener,
  ParseStats,
  PortCount,
  RemoteAddresses,
  TableTotal,
} from '../../proto/gen/fleetstat/v1/snapshot.js';
import { Direction, Table } from '../../proto/gen/fleetstat/v1/snapshot.js';
import { isIpv4Mapped, formatIpv4 } from '../procfs/inet-address.js';
import type { InetFamily } from '../procfs/proc-net-inet.js';
import { InetLineCursor, scanInetTable } from '../procfs/proc-net-inet.js';
import { scanUnixTable } from '../procfs/proc-net-unix.js';
import type { TableName } from '../procfs/net-tables.js';
import { INET_TABLES } from '../procfs/net-tables.js';
import type { ScanStats } from '../procfs/scan-stats.js';
import { emptyScanStats } from '../procfs/scan-stats.js';
import { TCP_LISTEN, TCP_MAX_STATE } from '../procfs/tcp-states.js';
import { connectionKey, keyDirection, keyPort, keyState, portDirectionKey } from './connection-key.js';
import { TopRemotes } from './top-remotes.js';

export type NamespaceTables = Partial<Record<TableName, Uint8Array>>;

export interface CountOptions {
  httpPorts: ReadonlySet<number>;
  /** Remote addresses kept per (HTTP port, direction). */
  topK: number;
}

export interface NamespaceCounts {
  ports: PortCount[];
  listeners: Listener[];
  topRemotes: RemoteAddresses[];
  totals: TableTotal[];
  stats: ScanStats;
}

const TABLE_ENUM: Record<TableName, Table> = {
  tcp: Table.TABLE_TCP,
  tcp6: Table.TABLE_TCP6,
  udp: Table.TABLE_UDP,
  udp6: Table.TABLE_UDP6,
  raw: Table.TABLE_RAW,
  raw6: Table.TABLE_RAW6,
  unix: Table.TABLE_UNIX,
};

const STATES = TCP_MAX_STATE + 1;

export function countNamespace(tables: NamespaceTables, options: CountOptions): NamespaceCounts {
  const stats = emptyScanStats();
  const { httpPorts } = options;
  // One pass over every table. Whether a TCP socket is inbound depends on listeners that may come
  // later in the file (or in tcp6), so classification waits for the end of the pass: sockets
  // touching no HTTP port are tallied by (local port, state) and count inbound only if their
  // port listens; sockets touching an HTTP port are kept as a few numbers, with the offset of
  // their remote address in the table's bytes for the top-remotes list.
  const listeners: Listener[] = [];
  const listening = new Set<number>();
  const byLocalPort = new Map<number, number>();
  const deferred: Deferred[] = [];
  const totals: TableTotal[] = [];

  for (const table of INET_TABLES) {
    const buf = tables[table.name];
    if (!buf) continue;
    const byState = new Array<number>(STATES).fill(0);
    const isTcp = table.protocol === 'tcp';
    const held: number[] = [];
    scanInetTable(
      buf,
      table.family,
      (line) => {
        byState[line.state < STATES ? line.state : 0]!++;
        if (!isTcp) return;
        if (line.state === TCP_LISTEN) {
          listening.add(line.localPort);
          listeners.push({ address: line.localAddress(), port: line.localPort, acceptQueue: line.rxQueue, http: httpPorts.has(line.localPort) });
        } else if (httpPorts.has(line.localPort) || httpPorts.has(line.remotePort)) {
          held.push(line.localPort, line.remotePort, line.state, line.remoteHexStart);
        } else {
          const key = line.localPort * STATES + line.state;
          byLocalPort.set(key, (byLocalPort.get(key) ?? 0) + 1);
        }
      },
      stats,
    );
    if (held.length > 0) deferred.push({ buf, family: table.family, held });
    byState.forEach((count, state) => {
      if (count > 0) totals.push({ table: TABLE_ENUM[table.name], state, count });
    });
  }
  const unix = tables.unix;
  if (unix) {
    let count = 0;
    scanUnixTable(unix, () => count++, stats);
    if (count > 0) totals.push({ table: Table.TABLE_UNIX, state: 0, count });
  }

  const counts = new Map<number, number>();
  const add = (key: number, n: number): void => void counts.set(key, (counts.get(key) ?? 0) + n);
  for (const [key, n] of byLocalPort) {
    const port = Math.floor(key / STATES);
    if (listening.has(port)) add(connectionKey(port, Direction.DIRECTION_INBOUND, key % STATES), n);
  }
  const remotes = new Map<number, TopRemotes>();
  for (const { buf, family, held } of deferred) {
    const cursor = new InetLineCursor(family);
    cursor.buf = buf;
    for (let i = 0; i < held.length; i += 4) {
      const localPort = held[i]!;
      const remotePort = held[i + 1]!;
      const state = held[i + 2]!;
      let key: number;
      if (listening.has(localPort) && (httpPorts.has(localPort) || !httpPorts.has(remotePort))) {
        key = connectionKey(localPort, Direction.DIRECTION_INBOUND, state);
      } else if (httpPorts.has(remotePort)) {
        key = connectionKey(remotePort, Direction.DIRECTION_OUTBOUND, state);
      } else continue;
      add(key, 1);
      if (!httpPorts.has(keyPort(key))) continue;
      const remoteKey = portDirectionKey(key);
      let top = remotes.get(remoteKey);
      if (!top) remotes.set(remoteKey, (top = new TopRemotes()));
      cursor.remoteHexStart = held[i + 3]!;
      top.add(remoteAddressOf(cursor));
    }
  }

  return {
    ports: portCountsOf(counts, httpPorts),
    listeners: listeners.sort((a, b) => a.port - b.port || (a.address < b.address ? -1 : 1)),
    topRemotes: topRemotesOf(remotes, options.topK),
    totals,
    stats,
  };
}

/** One table's sockets that touch an HTTP port: (local port, remote port, state, remote address offset) in fours. */
interface Deferred {
  buf: Uint8Array;
  family: InetFamily;
  held: number[];
}

function portCountsOf(counts: Map<number, number>, httpPorts: ReadonlySet<number>): PortCount[] {
  return [...counts]
    .sort(([a], [b]) => a - b)
    .map(([key, count]) => ({
      port: keyPort(key),
      direction: keyDirection(key),
      state: keyState(key),
      count,
      http: httpPorts.has(keyPort(key)),
    }));
}

function topRemotesOf(remotes: Map<number, TopRemotes>, k: number): RemoteAddresses[] {
  return [...remotes]
    .sort(([a], [b]) => a - b)
    .map(([key, top]) => {
      const list = top.top(k);
      const listed = list.reduce((sum, r) => sum + r.count, 0);
      return { port: key >>> 4, direction: key & 0xf, remotes: list, other: Math.max(0, top.total - listed) };
    });
}

/** IPv4 clients of dual-stack sockets are shown as IPv4 so one client counts once. */
function remoteAddressOf(line: InetLineCursor): string {
  if (line.family === 6) {
    const bytes = line.remoteAddressBytes();
    if (isIpv4Mapped(bytes)) return formatIpv4(bytes, 12);
  }
  return line.remoteAddress();
}

export function parseStatsOf(stats: ScanStats, readMicros: number, files: number, failedFiles: number): ParseStats {
  return { lines: stats.lines, badLines: stats.badLines, bytes: stats.bytes, readMicros, files, failedFiles };
}
