// Secured NATS for tests: nkey users, an operator/account/user JWT chain with a .creds file
// (made with @nats-io/nkeys and @nats-io/jwt), nats-server configuration files, and the
// fleetstat agent as a child process whose JSON log lines are kept for assertions.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { encodeAccount, encodeOperator, encodeUser, fmtCreds } from '@nats-io/jwt';
import { createAccount, createOperator, createUser } from '@nats-io/nkeys';
import { FLEETSTAT_BIN } from './fleetstat-cli.js';
import type { LogLine } from './collector-child.js';

export interface NkeyUser {
  /** SU... */
  seed: string;
  /** UA... (what the server's config lists) */
  publicKey: string;
}

export function makeNkeyUser(): NkeyUser {
  const kp = createUser();
  return { seed: new TextDecoder().decode(kp.getSeed()), publicKey: kp.getPublicKey() };
}

export interface OperatorSetup {
  /** nats-server configuration lines for operator mode with an in-memory resolver. */
  serverConfig: string;
  /** A .creds file's text for a user of the account. */
  creds(name: string): Promise<string>;
}

/** Operator mode: one operator, one account, users signed by the account. */
export async function makeOperatorSetup(): Promise<OperatorSetup> {
  const operator = createOperator();
  const account = createAccount();
  const operatorJwt = await encodeOperator('fleetstat-test', operator);
  // Without explicit limits the account JWT allows no connection at all.
  const unlimited = { conn: -1, subs: -1, data: -1, payload: -1, imports: -1, exports: -1, leaf: -1, wildcards: true };
  const accountJwt = await encodeAccount('FLEET', account, { limits: unlimited }, { signer: operator });
  return {
    serverConfig: `operator: ${operatorJwt}\nresolver: MEMORY\nresolver_preload: {\n  ${account.getPublicKey()}: ${accountJwt}\n}\n`,
    async creds(name) {
      const user = createUser();
      return new TextDecoder().decode(fmtCreds(await encodeUser(name, user, account), user));
    },
  };
}

export function writeFile(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) if (child.pid !== undefined && child.exitCode === null) child.kill('SIGKILL');
});

/** `fleetstat agent ...args` with info logs on stderr, kept as parsed lines. */
export class AgentChild {
  readonly logs: LogLine[] = [];
  readonly otherStderr: string[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(process.execPath, [FLEETSTAT_BIN, 'agent', ...args], {
      env: { ...process.env, FLEETSTAT_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.add(this.child);
    this.exited = once(this.child, 'exit').then(([code]) => {
      children.delete(this.child);
      return code as number | null;
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.otherStderr.push(line);
      }
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitForLog(what: string, match: (line: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs.find(match);
      if (found) return found;
      if (!this.running) throw new Error(`agent exited without logging ${what}:\n${this.stderrText()}`);
      if (Date.now() > deadline) throw new Error(`agent did not log ${what} within ${timeoutMs} ms:\n${this.stderrText()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  stderrText(): string {
    return [...this.logs.map((l) => JSON.stringify(l)), ...this.otherStderr].slice(-40).join('\n');
  }

  /** SIGTERM (our own child, by pid), SIGKILL after 5 s. Safe twice. */
  async stop(): Promise<void> {
    if (!this.running || this.child.pid === undefined) return;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    process.kill(this.child.pid, 'SIGTERM');
    await this.exited;
    clearTimeout(timer);
  }
}

export interface NodeRow {
  name: string;
  status: string;
}

/** Polls /api/v1/nodes until `name` is listed live, or the time is up (then returns what it saw). */
export async function waitForLiveNode(api: string, name: string, timeoutMs = 30_000): Promise<NodeRow[]> {
  const deadline = Date.now() + timeoutMs;
  let nodes: NodeRow[] = [];
  while (Date.now() < deadline) {
    nodes = await fetch(`${api}/api/v1/nodes`).then((r) => (r.ok ? (r.json() as Promise<NodeRow[]>) : []), () => []);
    if (nodes.some((n) => n.name === name && n.status === 'live')) return nodes;
    await new Promise((r) => setTimeout(r, 100));
  }
  return nodes;
}
