// Parser for /proc/net/unix:
//   Num       RefCount Protocol Flags    Type St Inode Path
//   0000000000000000: 00000002 00000000 00010000 0001 01 12345 /run/a socket
// The path is the rest of the line after one space: it may hold spaces, and abstract names
// start with '@' (the kernel prints their NUL bytes as '@'). Same two modes and the same
// bad-line rule as proc-net-inet.ts.

import { FieldReader } from './byte-fields.js';
import type { ScanStats } from './scan-stats.js';
import { emptyScanStats } from './scan-stats.js';
import { scanTableLines } from './scan-table-lines.js';

const UNIX_PATH_MAX = 108;

/** __SO_ACCEPTCON: the socket is listening. */
export const UNIX_FLAG_ACCEPTCON = 1 << 16;

/** socket_state values (include/uapi/linux/net.h). */
export const UNIX_STATE_FREE = 0;
export const UNIX_STATE_UNCONNECTED = 1;
export const UNIX_STATE_CONNECTING = 2;
export const UNIX_STATE_CONNECTED = 3;
export const UNIX_STATE_DISCONNECTING = 4;

export class UnixLineCursor {
  refCount = 0;
  protocol = 0;
  flags = 0;
  type = 0;
  state = 0;
  inode = 0;
  pathStart = 0;
  pathEnd = 0;
  buf: Uint8Array = new Uint8Array(0);

  path(): string {
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + this.pathStart, this.pathEnd - this.pathStart).toString(
      'utf8',
    );
  }
}

export function scanUnixTable(
  buf: Uint8Array,
  visit: (line: UnixLineCursor) => void,
  stats: ScanStats = emptyScanStats(),
): ScanStats {
  const cursor = new UnixLineCursor();
  cursor.buf = buf;
  return scanTableLines(
    buf,
    {
      headerStart: 0x4e /* N(um) */,
      read: (bytes, lineStart, lineStop) => readUnixLine(bytes, lineStart, lineStop, cursor),
      visit: () => visit(cursor),
    },
    stats,
  );
}

export interface UnixSocketRow {
  refCount: number;
  protocol: number;
  flags: number;
  type: number;
  state: number;
  inode: number;
  /** Filesystem path, '@name' for an abstract socket, '' when unbound. */
  path: string;
}

export function parseUnixTable(buf: Uint8Array): { rows: UnixSocketRow[]; stats: ScanStats } {
  const rows: UnixSocketRow[] = [];
  const stats = scanUnixTable(buf, (line) =>
    rows.push({
      refCount: line.refCount,
      protocol: line.protocol,
      flags: line.flags,
      type: line.type,
      state: line.state,
      inode: line.inode,
      path: line.path(),
    }),
  );
  return { rows, stats };
}

const fields = new FieldReader();

function readUnixLine(buf: Uint8Array, start: number, stop: number, into: UnixLineCursor): boolean {
  fields.reset(buf, start, stop);
  if (!fields.next() || fields.length < 2 || buf[fields.end - 1] !== 0x3a) return false;
  into.refCount = fields.nextHex(8);
  into.protocol = fields.nextHex(8);
  into.flags = fields.nextHex(8);
  into.type = fields.nextHex(4);
  into.state = fields.nextHex(2);
  into.inode = fields.nextDecimal();
  if (into.refCount < 0 || into.protocol < 0 || into.flags < 0 || into.type < 0 || into.state < 0 || into.inode < 0) {
    return false;
  }
  // One space separates the inode from the path; everything after it is the path, which
  // cannot be longer than sun_path (108 bytes; '@' stands for an abstract name's NUL).
  into.pathStart = fields.end < stop ? fields.end + 1 : stop;
  into.pathEnd = stop;
  return into.pathEnd - into.pathStart <= UNIX_PATH_MAX;
}
