// Secured NATS for tests: nkey users, an operator/account/user JWT chain with a .creds file
// (made with @nats-io/nkeys and @nats-io/jwt), nats-server configuration files, and the
// fleetstat agent as a child process whose JSON log lines are kept for assertions.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeAccount, encodeOperator, encodeUser, fmtCreds } from '@nats-io/jwt';
import { createAccount, createOperator, createUser } from '@nats-io/nkeys';
import { LoggedChild } from './logged-child.js';

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

/** `fleetstat agent ...args` with info logs on stderr, kept as parsed lines. */
export class AgentChild extends LoggedChild {
  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    super('agent', args, env, 30_000);
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
