// Byte-level field scanning shared by the /proc/net parsers: no strings, no allocation.

export const NEWLINE = 0x0a;
const SPACE = 0x20;
const TAB = 0x09;

export function isBlank(byte: number | undefined): boolean {
  return byte === SPACE || byte === TAB;
}

/** Index of the first non-blank byte at or after `from`, bounded by `end`. */
export function skipBlanks(buf: Uint8Array, from: number, end: number): number {
  let i = from;
  while (i < end && isBlank(buf[i])) i++;
  return i;
}

/** Index just past the run of non-blank bytes starting at `from`. */
export function fieldEnd(buf: Uint8Array, from: number, end: number): number {
  let i = from;
  while (i < end && !isBlank(buf[i])) i++;
  return i;
}

/** Hex digits in [start, end) as a number, or -1 if empty, too long for 2^53, or not hex. */
export function parseHex(buf: Uint8Array, start: number, end: number): number {
  if (end <= start || end - start > 13) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = hexDigit(buf[i]);
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/** Decimal digits in [start, end) as a number, or -1 if empty, too long for 2^53, or not decimal. */
export function parseDecimal(buf: Uint8Array, start: number, end: number): number {
  if (end <= start || end - start > 15) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const byte = buf[i] ?? 0;
    if (byte < 0x30 || byte > 0x39) return -1;
    value = value * 10 + (byte - 0x30);
  }
  return value;
}

export function hexDigit(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x37;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x57;
  return -1;
}

/** Index of the next newline at or after `from`, or `end` when the buffer stops mid-line. */
export function lineEnd(buf: Uint8Array, from: number, end: number): number {
  const at = buf.indexOf(NEWLINE, from);
  return at < 0 || at > end ? end : at;
}

/**
 * Walks the blank-separated fields of one line. Reused across lines, so a scan allocates
 * nothing per line; `start` and `end` bound the field last returned by next().
 */
export class FieldReader {
  buf: Uint8Array = new Uint8Array(0);
  start = 0;
  end = 0;
  private stop = 0;

  reset(buf: Uint8Array, lineStart: number, lineStop: number): void {
    this.buf = buf;
    this.end = lineStart;
    this.stop = lineStop;
  }

  /** Advance to the next field; false at the end of the line. */
  next(): boolean {
    this.start = skipBlanks(this.buf, this.end, this.stop);
    this.end = fieldEnd(this.buf, this.start, this.stop);
    return this.end > this.start;
  }

  get length(): number {
    return this.end - this.start;
  }

  /** The next field as hex of exactly `width` digits (any width when 0), or -1. */
  nextHex(width = 0): number {
    if (!this.next() || (width > 0 && this.length !== width)) return -1;
    return parseHex(this.buf, this.start, this.end);
  }

  nextDecimal(): number {
    return this.next() ? parseDecimal(this.buf, this.start, this.end) : -1;
  }
}
