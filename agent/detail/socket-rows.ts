// Full socket rows for a detail request: every namespace's inet tables in row mode, filtered by
// port (local or remote), TCP state and namespace, cut at a limit. Synchronous: runs on the
// sampling worker.

import type { GetSocketsRequest, GetSocketsResponse, SocketRow } from '../../proto/gen/fleetstat/v1/detail.js';
import { Table } from '../../proto/gen/fleetstat/v1/snapshot.js';
import type { NetnsMode } from '../netns/discover-namespaces.js';
import { discoverNamespaces } from '../netns/discover-namespaces.js';
import type { NamespaceTableReader } from '../netns/read-namespace-tables.js';
import { INET_TABLES } from '../procfs/net-tables.js';
import { scanInetTable } from '../procfs/proc-net-inet.js';
import { MAX_DETAIL_ROWS } from './detail-source.js';

const TABLE_OF = { tcp: Table.TABLE_TCP, tcp6: Table.TABLE_TCP6, udp: Table.TABLE_UDP, udp6: Table.TABLE_UDP6, raw: Table.TABLE_RAW, raw6: Table.TABLE_RAW6 };

export function socketRows(
  procRoot: string,
  netns: NetnsMode,
  reader: NamespaceTableReader,
  node: string,
  request: GetSocketsRequest,
): GetSocketsResponse {
  const limit = Math.min(request.limit > 0 ? request.limit : MAX_DETAIL_ROWS, MAX_DETAIL_ROWS);
  const rows: SocketRow[] = [];
  let truncated = 0;
  // State filters name TCP states, so they leave out UDP and raw.
  const tables = INET_TABLES.filter((t) => request.state === 0 || t.protocol === 'tcp');
  for (const ns of discoverNamespaces(procRoot, netns).namespaces) {
    if (request.namespaceInode !== 0 && request.namespaceInode !== ns.inode) continue;
    const { tables: bytes } = reader.read(ns.pids, tables.map((t) => t.name));
    for (const table of tables) {
      const buf = bytes[table.name];
      if (!buf) continue;
      scanInetTable(buf, table.family, (line) => {
        if (request.port !== 0 && line.localPort !== request.port && line.remotePort !== request.port) return;
        if (request.state !== 0 && line.state !== request.state) return;
        if (rows.length >= limit) {
          truncated++;
          return;
        }
        rows.push({
          table: TABLE_OF[table.name],
          localAddress: line.localAddress(),
          localPort: line.localPort,
          remoteAddress: line.remoteAddress(),
          remotePort: line.remotePort,
          state: line.state,
          rxQueue: line.rxQueue,
          txQueue: line.txQueue,
          uid: line.uid,
          inode: line.inode,
          namespaceInode: ns.inode,
        });
      });
    }
  }
  return { node, rows, truncated, error: '' };
}
