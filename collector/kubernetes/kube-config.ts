// Where the Kubernetes API server is and how to prove who we are to it: in-cluster (the pod's
// service account) or explicit (tests, out-of-cluster). No kubeconfig parser on purpose: the
// collector runs in the cluster it watches, and tests point it at a local server.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The directory the kubelet mounts a pod's service account into. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Bound service-account tokens expire (an hour by default) and the kubelet rewrites the file
 * well before that; client-go re-reads it every minute, and so do we.
 */
export const DEFAULT_TOKEN_REFRESH_MS = 60_000;

export class KubeConfigError extends Error {
  override readonly name = 'KubeConfigError';
}

export interface KubeConfig {
  /** API server base URL, `https://host:port` (or `http://` for a test server). */
  readonly server: URL;
  /** PEM bundle that signs the server's certificate; undefined means the system roots. */
  readonly ca: Buffer | undefined;
  readonly insecureSkipTlsVerify: boolean;
  /** The pod's own namespace in-cluster; undefined for an explicit config. */
  readonly namespace: string | undefined;
  /** The token for the next request (re-read from disk when due); undefined sends none. */
  bearerToken(): string | undefined;
}

export interface ExplicitKubeConfig {
  server: string;
  token?: string;
  /** PEM text or bytes. */
  ca?: string | Buffer;
  insecureSkipTlsVerify?: boolean;
}

export function explicitConfig(options: ExplicitKubeConfig): KubeConfig {
  const server = parseServer(options.server);
  const token = options.token;
  return {
    server,
    ca: options.ca === undefined ? undefined : Buffer.from(options.ca),
    insecureSkipTlsVerify: options.insecureSkipTlsVerify ?? false,
    namespace: undefined,
    bearerToken: () => token,
  };
}

export interface InClusterOptions {
  /** Defaults to process.env; KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are read. */
  env?: NodeJS.ProcessEnv;
  serviceAccountDir?: string;
  tokenRefreshMs?: number;
  /** Clock for the refresh, injectable for tests. */
  nowMs?: () => number;
}

/** Fails fast (KubeConfigError) when not in a pod or when the token or CA cannot be read. */
export function inClusterConfig(options: InClusterOptions = {}): KubeConfig {
  const env = options.env ?? process.env;
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port) {
    throw new KubeConfigError('not running in a Kubernetes pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are unset');
  }
  // An IPv6 service address (single-stack v6 clusters) must be bracketed in a URL.
  const server = parseServer(`https://${host.includes(':') ? `[${host}]` : host}:${port}`);
  const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const ca = readRequired(join(dir, 'ca.crt'), 'service account CA');
  const namespace = readOptional(join(dir, 'namespace'))?.trim();
  const token = new RotatingToken(join(dir, 'token'), options.tokenRefreshMs ?? DEFAULT_TOKEN_REFRESH_MS, options.nowMs ?? Date.now);
  return { server, ca, insecureSkipTlsVerify: false, namespace: namespace || undefined, bearerToken: () => token.current() };
}

/**
 * The token file, re-read lazily when older than the refresh period: no timer to own, and a
 * collector that makes no request reads nothing. A failed re-read keeps the last good token
 * (the kubelet swaps the file by symlink, so a read can race the swap); the next request after
 * the period tries again.
 */
class RotatingToken {
  private token: string;
  private readAtMs: number;

  constructor(
    private readonly path: string,
    private readonly refreshMs: number,
    private readonly nowMs: () => number,
  ) {
    this.token = readRequired(path, 'service account token').toString('utf8').trim();
    if (!this.token) throw new KubeConfigError(`service account token ${path} is empty`);
    this.readAtMs = nowMs();
  }

  current(): string {
    const now = this.nowMs();
    if (now - this.readAtMs >= this.refreshMs) {
      this.readAtMs = now;
      const fresh = readOptional(this.path)?.trim();
      if (fresh) this.token = fresh;
    }
    return this.token;
  }
}

function parseServer(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new KubeConfigError(`API server address ${JSON.stringify(text)} is not a URL`, { cause });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new KubeConfigError(`API server address ${JSON.stringify(text)}: need http: or https:`);
  }
  return url;
}

function readRequired(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new KubeConfigError(`cannot read the ${what} at ${path}`, { cause });
  }
}

function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
