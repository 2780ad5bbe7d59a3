// Whole `netstat` listings: sections in net-tools order (tcp, tcp6, udp, udp6, raw, raw6, unix),
// for one namespace or, with a namespace column, for several.

import type { Protocol } from '../procfs/net-tables.js';
import { INET_TABLES } from '../procfs/net-tables.js';
import { parseInetTable } from '../procfs/proc-net-inet.js';
import { parseUnixTable } from '../procfs/proc-net-unix.js';
import type { NamespaceTables } from '../snapshot/count-namespace.js';
import type { ScanStats } from '../procfs/scan-stats.js';
import { addScanStats, emptyScanStats } from '../procfs/scan-stats.js';
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
 * Lines of the listing; `each` is called once per namespace, in order, so that callers can
 * read the next namespace's tables only when the previous one is formatted.
 */
export function netstatLines(
  selection: NetstatSelection,
  namespaces: Iterable<NamespaceListing>,
  names: NameTables,
  tagged: boolean,
): { lines: string[]; stats: ScanStats } {
  const stats = emptyScanStats();
  const extra = tagged ? 'Netns' : '';
  const inet: string[] = [];
  const unix: string[] = [];
  for (const ns of namespaces) {
    const tag = ns.label === undefined ? '' : ` ${ns.label}`;
    for (const table of INET_TABLES) {
      const buf = ns.tables[table.name];
      if (!buf || !selection.protocols.has(table.protocol)) continue;
      const { rows, stats: tableStats } = parseInetTable(buf, table.family);
      addScanStats(stats, tableStats);
      for (const row of rows) {
        if (showsInet(row, table.protocol, selection)) inet.push(formatInetRow(row, table.protocol, selection, names) + tag);
      }
    }
    const unixBuf = ns.tables.unix;
    if (unixBuf && selection.unix) {
      const { rows, stats: tableStats } = parseUnixTable(unixBuf);
      addScanStats(stats, tableStats);
      for (const row of rows) if (showsUnix(row, selection)) unix.push(formatUnixRow(row, selection) + tag);
    }
  }
  const lines: string[] = [];
  if (selection.protocols.size > 0) lines.push(...inetHeader(selection, extra), ...inet);
  if (selection.unix) lines.push(...unixHeader(selection, extra), ...unix);
  return { lines, stats };
}
