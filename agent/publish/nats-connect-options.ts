// The NATS connection options of agent and collector, built in one place so that whatever
// reaches the server as an agent reaches it the same way as a collector: servers, one kind
// of credentials (user/password, token, nkey seed, creds file with a user JWT), TLS with a
// CA and an optional client certificate, and the reconnect policy.
//
// Files (nkey seed, creds, CA, certificate, key) are read at every connect, not once: a
// Kubernetes Secret mounted as a volume is updated in place, so a rotated certificate or
// re-issued JWT is picked up on the next reconnect without a restart.
//
// Reconnects: forever (maxReconnectAttempts -1) and even after the server refused the
// credentials twice (ignoreAuthErrorAbort), since after start-up a refusal is usually a
// server being reconfigured, and a long-running agent must come back when it is fixed. The
// wait between attempts doubles from reconnectTimeWaitMs to reconnectMaxWaitMs, plus jitter
// (ReconnectDelay); the first-connect policy is the caller's.
import { readFileSync } from 'node:fs';
import { credsAuthenticator, errors, nkeyAuthenticator } from '@nats-io/transport-node';
import type { NodeConnectionOptions } from '@nats-io/transport-node';
import { ReconnectDelay } from './nats-reconnect-delay.js';
import { probeNatsTls } from './nats-tls-probe.js';

/** At most one kind: a user and password, a token, an nkey seed file or a creds file. */
export interface NatsCredentials {
  token?: string;
  user?: string;
  pass?: string;
  /** File holding an nkey user seed (SU...). */
  nkeyFile?: string;
  /** A .creds file: the user JWT and its nkey seed (operator/JWT mode). */
  credsFile?: string;
}

/** Any field set means TLS is required. */
export interface NatsTls {
  /** CA certificate(s) (PEM) that signed the server's certificate; default: Node's CA list. */
  caFile?: string;
  /** Client certificate and key (PEM), for servers that verify clients. */
  certFile?: string;
  keyFile?: string;
}

/** Who we are to the server and how we check it is the right one; from the CLI's flags. */
export interface NatsSecurity {
  credentials?: NatsCredentials;
  tls?: NatsTls;
}

export interface NatsConnectSettings extends NatsSecurity {
  /** One URL, a comma-separated list, or a list: nats://host:4222 */
  servers: string | string[];
  /** Client name shown by the server's monitoring (connz). */
  name: string;
  /** First wait between reconnect attempts; doubles per failed attempt (default 2000 ms). */
  reconnectTimeWaitMs?: number;
  /** Longest wait between reconnect attempts (default 30000 ms). */
  reconnectMaxWaitMs?: number;
  /** Random extra wait up to this much, so a thousand agents do not reconnect in step (default 1000 ms). */
  reconnectJitterMs?: number;
  /** Handshake time limit per attempt (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Client PING period; a dead peer is noticed after about twice this (default 30000 ms). */
  pingIntervalMs?: number;
}

export function serverList(servers: string | string[]): string[] {
  return (Array.isArray(servers) ? servers : servers.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The kinds of credentials given; more than one is a configuration error (the CLI refuses it first). */
export function credentialKinds(c: NatsCredentials = {}): string[] {
  const kinds: string[] = [];
  if (c.user !== undefined || c.pass !== undefined) kinds.push('user/password');
  if (c.token !== undefined) kinds.push('token');
  if (c.nkeyFile !== undefined) kinds.push('nkey');
  if (c.credsFile !== undefined) kinds.push('creds');
  return kinds;
}

export function reconnectDelayOf(settings: Pick<NatsConnectSettings, 'reconnectTimeWaitMs' | 'reconnectMaxWaitMs' | 'reconnectJitterMs'>): ReconnectDelay {
  return new ReconnectDelay({
    initialMs: settings.reconnectTimeWaitMs ?? 2000,
    maxMs: Math.max(settings.reconnectMaxWaitMs ?? 30_000, settings.reconnectTimeWaitMs ?? 2000),
    jitterMs: settings.reconnectJitterMs ?? 1000,
  });
}

/**
 * Options for `connect()`. `delay` paces the client's reconnects; whoever follows the
 * connection's status tells it about attempts and reconnects (see followNatsStatus).
 */
export function natsConnectOptions(settings: NatsConnectSettings, delay: ReconnectDelay): NodeConnectionOptions {
  const kinds = credentialKinds(settings.credentials);
  if (kinds.length > 1) throw new TypeError(`give one kind of NATS credentials, not ${kinds.join(' and ')}`);
  return {
    servers: serverList(settings.servers),
    name: settings.name,
    ...authOptions(settings.credentials ?? {}),
    ...(settings.tls && Object.values(settings.tls).some(Boolean) ? { tls: { ...settings.tls } } : {}),
    timeout: settings.connectTimeoutMs ?? 5000,
    pingInterval: settings.pingIntervalMs ?? 30_000,
    maxReconnectAttempts: -1,
    ignoreAuthErrorAbort: true,
    reconnectDelayHandler: () => delay.wait(),
  };
}

function authOptions(c: NatsCredentials): Partial<NodeConnectionOptions> {
  if (c.token !== undefined) return { token: c.token };
  if (c.user !== undefined) return { user: c.user, pass: c.pass ?? '' };
  const { nkeyFile, credsFile } = c;
  if (nkeyFile !== undefined) return { authenticator: nkeyAuthenticator(() => new TextEncoder().encode(readFileSync(nkeyFile, 'utf8').trim())) };
  if (credsFile !== undefined) return { authenticator: credsAuthenticator(() => readFileSync(credsFile)) };
  return {};
}

/** Errors that another attempt cannot fix: credentials, a malformed URL or option, TLS. */
export function isPermanentConnectError(err: unknown): boolean {
  if (err instanceof errors.AuthorizationError || err instanceof errors.UserAuthenticationExpiredError) return true;
  if (err instanceof errors.InvalidArgumentError || err instanceof TypeError) return true;
  return isTlsError(err);
}

/**
 * A first connect that timed out over TLS is looked into (nats-tls-probe.ts): a server that
 * refused our client certificate turns the time-out into the TLS error it really is.
 */
export async function diagnoseConnectError(err: unknown, settings: Pick<NatsConnectSettings, 'servers' | 'tls'>): Promise<unknown> {
  const tls = settings.tls;
  if (!(err instanceof errors.TimeoutError) || !tls || !Object.values(tls).some(Boolean)) return err;
  for (const server of serverList(settings.servers).slice(0, 3)) {
    const reason = await probeNatsTls(server, tls);
    if (reason) return new errors.ConnectionError(`the server ended the TLS session: ${reason}`, { cause: err });
  }
  return err;
}

/** The start-up error a person reads: who refused what, and what to check. */
export function explainConnectError(err: unknown, servers: string[]): string {
  const message = (err as Error).message;
  const at = `NATS at ${servers.join(',')}`;
  if (err instanceof errors.AuthorizationError || err instanceof errors.UserAuthenticationExpiredError) {
    return `${at} refused the connection: ${message} (check the NATS credentials)`;
  }
  if (isTlsError(err)) return `TLS with ${at} failed: ${message} (check --nats-ca-file, --nats-cert-file/--nats-key-file, and the names in the server's certificate)`;
  return `${at} refused the connection: ${message}`;
}

function isTlsError(err: unknown): boolean {
  const e = err as { message?: string; code?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? '';
  return /^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_OSSL)/.test(code) || /\bTLS\b|certificate|\bssl\b/i.test(e.message ?? '');
}
