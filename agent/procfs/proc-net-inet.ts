// Parser for /proc/net/{tcp,tcp6,udp,udp6,raw,raw6}: one line per socket,
//   sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
// Two modes over one scanner: scanInetTable visits a reused cursor (counting builds no object
// per socket); parseInetTable builds rows for listings. A malformed or truncated line is
// counted in stats.badLines and skipped, never thrown.

import { FieldReader, parseDecimal, parseHex } from './byte-fields.js';
import { decodeKernelAddress, formatIpv4, formatIpv6 } from './inet-address.js';
import type { ScanStats } from './scan-stats.js';
import { emptyScanStats } from './scan-stats.js';
import { scanTableLines } from './scan-table-lines.js';

export type InetFamily = 4 | 6;

/** The current line of a scan; valid only during the visit callback. */
export class InetLineCursor {
  localPort = 0;
  remotePort = 0;
  state = 0;
  txQueue = 0;
  rxQueue = 0;
  uid = 0;
  inode = 0;
  /** Offsets of the address hex digits in `buf`. */
  localHexStart = 0;
  remoteHexStart = 0;
  buf: Uint8Array = new Uint8Array(0);
  private readonly scratch = new Uint8Array(16);

  constructor(readonly family: InetFamily) {}

  get hexLength(): number {
    return this.family === 4 ? 8 : 32;
  }

  /** Network-order bytes of the local address, in a buffer reused by the next call. */
  localAddressBytes(): Uint8Array {
    decodeKernelAddress(this.buf, this.localHexStart, this.hexLength, this.scratch);
    return this.scratch;
  }

  remoteAddressBytes(): Uint8Array {
    decodeKernelAddress(this.buf, this.remoteHexStart, this.hexLength, this.scratch);
    return this.scratch;
  }

  localAddress(): string {
    return this.format(this.localAddressBytes());
  }

  remoteAddress(): string {
    return this.format(this.remoteAddressBytes());
  }

  private format(bytes: Uint8Array): string {
    return this.family === 4 ? formatIpv4(bytes) : formatIpv6(bytes);
  }
}

/** Visit every well-formed socket line of one table. */
export function scanInetTable(
  buf: Uint8Array,
  family: InetFamily,
  visit: (line: InetLineCursor) => void,
  stats: ScanStats = emptyScanStats(),
): ScanStats {
  const cursor = new InetLineCursor(family);
  cursor.buf = buf;
  return scanTableLines(
    buf,
    {
      headerStart: 0x73 /* s(l) */,
      read: (bytes, lineStart, lineStop) => readInetLine(bytes, lineStart, lineStop, cursor),
      visit: () => visit(cursor),
    },
    stats,
  );
}

export interface InetSocketRow {
  family: InetFamily;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  state: number;
  txQueue: number;
  rxQueue: number;
  uid: number;
  inode: number;
}

export function parseInetTable(buf: Uint8Array, family: InetFamily): { rows: InetSocketRow[]; stats: ScanStats } {
  const rows: InetSocketRow[] = [];
  const stats = scanInetTable(buf, family, (line) => rows.push(inetRowOf(line)));
  return { rows, stats };
}

export function inetRowOf(line: InetLineCursor): InetSocketRow {
  return {
    family: line.family,
    localAddress: line.localAddress(),
    localPort: line.localPort,
    remoteAddress: line.remoteAddress(),
    remotePort: line.remotePort,
    state: line.state,
    txQueue: line.txQueue,
    rxQueue: line.rxQueue,
    uid: line.uid,
    inode: line.inode,
  };
}

const fields = new FieldReader();
const MAX_LINE_BYTES = 512;

/** Fill `into` from one line; false when any field is missing or malformed. */
function readInetLine(buf: Uint8Array, start: number, stop: number, into: InetLineCursor): boolean {
  // The kernel prints fixed-width fields (about 150 bytes for tcp, 180 for tcp6).
  if (stop - start > MAX_LINE_BYTES) return false;
  fields.reset(buf, start, stop);
  // sl: decimal followed by ':'
  if (!fields.next() || buf[fields.end - 1] !== 0x3a || parseDecimal(buf, fields.start, fields.end - 1) < 0) {
    return false;
  }
  const hexLength = into.hexLength;
  if (!fields.next()) return false;
  into.localHexStart = fields.start;
  into.localPort = parseEndpoint(buf, fields.start, fields.end, hexLength);
  if (!fields.next()) return false;
  into.remoteHexStart = fields.start;
  into.remotePort = parseEndpoint(buf, fields.start, fields.end, hexLength);
  into.state = fields.nextHex(2);
  if (into.localPort < 0 || into.remotePort < 0 || into.state < 0) return false;

  // tx_queue:rx_queue
  if (!fields.next() || fields.length !== 17 || buf[fields.start + 8] !== 0x3a) return false;
  into.txQueue = parseHex(buf, fields.start, fields.start + 8);
  into.rxQueue = parseHex(buf, fields.start + 9, fields.end);
  // tr:tm->when and retrnsmt are not used, but must be there.
  if (into.txQueue < 0 || into.rxQueue < 0 || !fields.next() || !fields.next()) return false;
  into.uid = fields.nextDecimal();
  // timeout: present, possibly negative.
  if (into.uid < 0 || !fields.next()) return false;
  into.inode = fields.nextDecimal();
  return into.inode >= 0;
}

/** "HEX:PORT" with the address `hexLength` digits and a 4-digit port; the port, or -1. */
function parseEndpoint(buf: Uint8Array, at: number, end: number, hexLength: number): number {
  if (end - at !== hexLength + 5 || buf[at + hexLength] !== 0x3a) return -1;
  if (!allHex(buf, at, at + hexLength)) return -1;
  return parseHex(buf, at + hexLength + 1, end);
}

function allHex(buf: Uint8Array, start: number, end: number): boolean {
  // 32 digits overflow parseHex's 2^53 range; check them in 8-digit words.
  for (let i = start; i < end; i += 8) if (parseHex(buf, i, Math.min(i + 8, end)) < 0) return false;
  return true;
}
