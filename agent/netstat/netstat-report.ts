// Whole `netstat` listings: sections in net-tools order (tcp, tcp6, udp, udp6, raw, raw6, unix),
// for one namespace or, with a namespace column, for several. Lines go to a sink one at a time
// so a host with a million sockets is streamed out, never held at once.

import { INET_TABLES } from '../procfs/net-tables.js';
import { inetRowOf, scanInetTable } from '../procfs/proc-net-inet.js';
import { parseUnixTable } from '../procfs/proc-net-unix.js';
import type { NamespaceTables } from '../snapshot/count-namespace.js';
import type { ScanStats } from '../procfs/scan-stats.js';
import { addScanStats, emptyScanStats } from '../procfs/scan-stats.js';
import type { Protocol } from '../procfs/net-tables.js';
import type { NameTables } from './name-tables.js';
import type { NetstatOptions } from './format-netstat.js';
import { formatInetRow, formatUnixRow, inetHeader, showsInet, showsUnix, unixHeader } from './format-netstat.js';

export interface NetstatSelection extends NetstatOptions {
  protocols: ReadonlySet<Protocol>;
  unix: boolean;
}

export interface NamespaceListing {
  /** Shown in the extra "Netns" column when several namespaces are listed; undefined for one. */
  label?: string;
  tables: NamespaceTables;
}

/**
 * Emit the listing's lines. `namespaces` is consumed in order, one at a time, so callers can
 * read a namespace's tables only when the previous one is done. Unix rows wait until every
 * namespace's Internet rows are out, as net-tools prints the Internet section first.
 */
export function netstatListing(
  selection: NetstatSelection,
  namespaces: Iterable<NamespaceListing>,
  names: NameTables,
  tagged: boolean,
  emit: (line: string) => void,
): ScanStats {
  const stats = emptyScanStats();
  const extra = tagged ? 'Netns' : '';
  const unix: string[] = [];
  if (selection.protocols.size > 0) inetHeader(selection, extra).forEach(emit);
  for (const ns of namespaces) {
    const tag = ns.label === undefined ? '' : ` ${ns.label}`;
    for (const table of INET_TABLES) {
      const buf = ns.tables[table.name];
      if (!buf || !selection.protocols.has(table.protocol)) continue;
      scanInetTable(
        buf,
        table.family,
        (line) => {
          const row = inetRowOf(line);
          if (showsInet(row, table.protocol, selection)) emit(formatInetRow(row, table.protocol, selection, names) + tag);
        },
        stats,
      );
    }
    const unixBuf = ns.tables.unix;
    if (unixBuf && selection.unix) {
      const parsed = parseUnixTable(unixBuf);
      addScanStats(stats, parsed.stats);
      for (const row of parsed.rows) if (showsUnix(row, selection)) unix.push(formatUnixRow(row, selection) + tag);
    }
  }
  if (selection.unix) {
    unixHeader(selection, extra).forEach(emit);
    unix.forEach(emit);
  }
  return stats;
}
