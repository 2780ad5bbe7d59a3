// A watch body is newline-delimited JSON cut into chunks wherever the network cut it: a line
// can span many chunks and a chunk can hold many lines. Split on the 0x0A byte before decoding
// (it never occurs inside a UTF-8 multi-byte sequence, so a character split across chunks is
// decoded whole), and keep a partial line as a list of chunks, joined once when its newline
// arrives, so a large object costs one copy, not one per chunk.

export class LineTooLongError extends Error {
  override readonly name = 'LineTooLongError';
}

/**
 * etcd refuses objects over 1.5 MiB by default, so one watch event is a few MiB at most; the
 * cap only stops a broken or hostile server from growing one line without bound.
 */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

export class NdjsonLines {
  private partial: Buffer[] = [];
  private partialBytes = 0;

  constructor(private readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES) {}

  /** The lines this chunk completes, without their newlines; throws LineTooLongError past the cap. */
  push(chunk: Buffer): Buffer[] {
    const lines: Buffer[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.partial.length === 0) {
        this.check(piece.length);
        lines.push(piece);
        continue;
      }
      this.check(this.partialBytes + piece.length);
      this.partial.push(piece);
      lines.push(Buffer.concat(this.partial, this.partialBytes + piece.length));
      this.partial = [];
      this.partialBytes = 0;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.check(this.partialBytes + rest.length);
      this.partial.push(rest);
      this.partialBytes += rest.length;
    }
    return lines;
  }

  /** At the end of the body: a last line the server did not terminate, if any. */
  end(): Buffer | undefined {
    if (this.partial.length === 0) return undefined;
    const last = Buffer.concat(this.partial, this.partialBytes);
    this.partial = [];
    this.partialBytes = 0;
    return last;
  }

  private check(bytes: number): void {
    if (bytes > this.maxLineBytes) {
      this.partial = [];
      this.partialBytes = 0;
      throw new LineTooLongError(`watch event longer than ${this.maxLineBytes} bytes`);
    }
  }
}
