// Whole-file reads of procfs files, synchronous with one large reused buffer: procfs reports
// size 0, each read() returns roughly a page, and readFileSync measured 2x faster than the
// async readers here. Call from a worker thread in long-running processes.

import { closeSync, openSync, readSync } from 'node:fs';

/** 256 MiB: about 1.7 million TCP sockets; a larger table is cut and its last line counted bad. */
export const MAX_PROC_FILE_BYTES = 256 * 1024 * 1024;

export class ProcFileReader {
  private scratch: Buffer;

  constructor(
    initialBytes = 1 << 20,
    private readonly maxBytes = MAX_PROC_FILE_BYTES,
  ) {
    this.scratch = Buffer.allocUnsafe(initialBytes);
  }

  /**
   * The file's bytes, valid until the next read() on this reader; undefined when the file is
   * missing or its process exited mid-walk. Other errors are thrown.
   */
  read(path: string): Buffer | undefined {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (error) {
      if (isGone(error)) return undefined;
      throw error;
    }
    try {
      let length = 0;
      for (;;) {
        if (length === this.scratch.length) {
          if (length >= this.maxBytes) break;
          const grown = Buffer.allocUnsafe(Math.min(this.maxBytes, this.scratch.length * 2));
          this.scratch.copy(grown, 0, 0, length);
          this.scratch = grown;
        }
        const n = readSync(fd, this.scratch, length, this.scratch.length - length, null);
        if (n === 0) break;
        length += n;
      }
      return this.scratch.subarray(0, length);
    } catch (error) {
      if (isGone(error)) return undefined;
      throw error;
    } finally {
      closeSync(fd);
    }
  }
}

/** A process that exits between listing and reading shows up as one of these. */
export function isGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ESRCH' || code === 'ENOTDIR' || code === 'EINVAL';
}
