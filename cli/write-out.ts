// Writing command output to stdout. A reader that goes away (`| head`) ends the output quietly:
// stdout's EPIPE is caught once, here, and later writes are dropped.

let closed = false;
let watching = false;

function watchStdout(): void {
  if (watching) return;
  watching = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    closed = true;
  });
}

/** Write and wait until stdout has taken it. */
export function writeOut(data: string | Uint8Array): Promise<void> {
  watchStdout();
  if (closed) return Promise.resolve();
  return new Promise((resolve) => {
    process.stdout.write(data, () => resolve());
  });
}

/**
 * A line sink for long listings: lines are joined into chunks of about 64 KiB and written as
 * they fill (stdout writes to files and pipes are synchronous on Linux), so memory stays flat.
 */
export class LineWriter {
  private chunk: string[] = [];
  private size = 0;

  constructor() {
    watchStdout();
  }

  readonly line = (text: string): void => {
    if (closed) return;
    this.chunk.push(text);
    this.size += text.length + 1;
    if (this.size >= 65536) this.flush();
  };

  /** Flush and wait until stdout has taken everything. */
  async end(): Promise<void> {
    this.flush();
    await writeOut('');
  }

  private flush(): void {
    if (this.chunk.length === 0 || closed) return;
    process.stdout.write(`${this.chunk.join('\n')}\n`);
    this.chunk = [];
    this.size = 0;
  }
}
