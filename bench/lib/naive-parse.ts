// The baseline parser: what most JavaScript tools do with /proc/net/tcp — decode the whole
// file to a string, split it into lines, and match each line with a regular expression.

import type { PortStateCounts } from './port-state-counts.js';

const LINE = /^\s*\d+:\s+[0-9A-Fa-f]+:([0-9A-Fa-f]{4})\s+[0-9A-Fa-f]+:([0-9A-Fa-f]{4})\s+([0-9A-Fa-f]{2})\s/;

/** Count one table's sockets by state, local port and remote port; returns the sockets seen. */
export function naiveCount(buf: Buffer, into: PortStateCounts): number {
  const lines = buf.toString().split('\n');
  let sockets = 0;
  for (let i = 1; i < lines.length; i++) {
    const match = LINE.exec(lines[i]!);
    if (!match) continue;
    sockets++;
    into.byState[parseInt(match[3]!, 16) & 0xf]!++;
    into.byLocalPort[parseInt(match[1]!, 16)]!++;
    into.byRemotePort[parseInt(match[2]!, 16)]!++;
  }
  return sockets;
}
