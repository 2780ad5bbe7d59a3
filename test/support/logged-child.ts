// A fleetstat command as a child process: its pino JSON lines on stderr parsed and kept as they
// arrive (other lines, a crash's stack trace say, kept apart), killed if the test process exits.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { FLEETSTAT_BIN } from './fleetstat-cli.js';

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) if (child.pid !== undefined && child.exitCode === null) child.kill('SIGKILL');
});

export class LoggedChild {
  /** Every JSON log line so far, in order. */
  readonly logs: LogLine[] = [];
  /** stderr lines that are not JSON. */
  readonly otherStderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  /** `fleetstat <command> ...args` with info logs (FLEETSTAT_LOG_LEVEL=info unless env says otherwise). */
  constructor(
    private readonly command: string,
    args: string[],
    env: NodeJS.ProcessEnv = {},
    private readonly defaultWaitMs = 10_000,
  ) {
    this.child = spawn(process.execPath, [FLEETSTAT_BIN, command, ...args], {
      env: { ...process.env, FLEETSTAT_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const child = this.child;
    children.add(child);
    this.exited = once(child, 'exit').then(([code, signal]) => {
      children.delete(child);
      return { code: code as number | null, signal: signal as NodeJS.Signals | null };
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.otherStderr.push(line);
      }
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  logsWith(msg: string): LogLine[] {
    return this.logs.filter((l) => l.msg === msg);
  }

  async waitForLog(what: string, match: (line: LogLine) => boolean, timeoutMs = this.defaultWaitMs): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs.find(match);
      if (found) return found;
      if (!this.running) throw new Error(`${this.command} exited without logging ${what}:\n${this.stderrText()}`);
      if (Date.now() > deadline) throw new Error(`${this.command} did not log ${what} within ${timeoutMs} ms:\n${this.stderrText()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  stderrText(): string {
    return [...this.logs.map((l) => JSON.stringify(l)), ...this.otherStderr].slice(-40).join('\n');
  }

  /** Signals our own child by pid and waits for it to exit. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    if (!this.running || this.child.pid === undefined) return;
    process.kill(this.child.pid, signal);
    await this.exited;
  }

  /** SIGTERM, then SIGKILL after 5 s. Safe to call twice. */
  async stop(): Promise<void> {
    if (!this.running || this.child.pid === undefined) return;
    const timer = setTimeout(() => {
      if (this.running) this.child.kill('SIGKILL');
    }, 5000);
    await this.kill('SIGTERM');
    clearTimeout(timer);
  }
}
