// The line loop every /proc/net table shares: skip the header, skip blank lines, and count a
// line as bad when its reader rejects it or when it is the last line and has no newline (the
// file was cut off, so its final field cannot be trusted).

import { lineEnd, skipBlanks } from './byte-fields.js';
import type { ScanStats } from './scan-stats.js';

export interface TableLineReader {
  /** The first byte of the header line ('s' of "sl", 'N' of "Num"). */
  headerStart: number;
  /** Fill the reader's cursor from [start, stop); false when the line is malformed. */
  read(buf: Uint8Array, start: number, stop: number): boolean;
  /** Called for each well-formed line, after read() filled the cursor. */
  visit(): void;
}

export function scanTableLines(buf: Uint8Array, reader: TableLineReader, stats: ScanStats): ScanStats {
  const end = buf.length;
  stats.bytes += end;
  let start = 0;
  let first = true;
  while (start < end) {
    const stop = lineEnd(buf, start, end);
    const at = skipBlanks(buf, start, stop);
    const isHeader = first && buf[at] === reader.headerStart;
    first = false;
    if (!isHeader && at < stop) {
      stats.lines++;
      if (stop < end && reader.read(buf, start, stop)) reader.visit();
      else stats.badLines++;
    }
    start = stop + 1;
  }
  return stats;
}
