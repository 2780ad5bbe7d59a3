// HTTP connections by namespace, port, direction and state, as a table
// (`fleetstat netstat --http` and `fleetstat up`).

import type { NetworkNamespace } from '../../proto/gen/fleetstat/v1/snapshot.js';
import { Direction } from '../../proto/gen/fleetstat/v1/snapshot.js';
import { tcpStateName } from '../procfs/tcp-states.js';
import { terminalSafe } from './terminal-safe.js';

export function httpCountLines(namespaces: readonly NetworkNamespace[]): string[] {
  const rows: string[][] = [['NETNS', 'PROCESS', 'PORT', 'DIRECTION', 'STATE', 'COUNT']];
  let total = 0;
  for (const ns of namespaces) {
    for (const p of ns.ports) {
      if (!p.http) continue;
      total += p.count;
      const direction = p.direction === Direction.DIRECTION_INBOUND ? 'inbound' : 'outbound';
      rows.push([String(ns.inode), ns.processName, String(p.port), direction, tcpStateName(p.state), String(p.count)]);
    }
  }
  return [...alignColumns(rows), `TOTAL ${total}`];
}

/** Left-aligned columns two spaces apart, as kubectl prints tables. */
export function alignColumns(rows: readonly (readonly string[])[]): string[] {
  // Cells may hold names from other machines and processes: shown terminal-safe.
  const safe = rows.map((row) => row.map(terminalSafe));
  const widths: number[] = [];
  for (const row of safe) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return safe.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '));
}
