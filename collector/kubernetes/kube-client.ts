// The few HTTP GETs a list+watch needs, on node:http/node:https: no Kubernetes client library
// (the official one pulls in a large generated API and its own fetch stack for two requests).
// One agent per client, so close() can destroy every socket it opened.

import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { KubeConfig } from './kube-config.js';

/** A non-2xx answer, with the Status object's reason and message when the server sent one. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';

  constructor(
    readonly status: number,
    readonly reason: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** The bodies we read whole (a list page, an error Status) are capped; a watch is streamed. */
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024 * 1024;
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface GetOptions {
  signal: AbortSignal;
  /** The socket may be silent this long before the request fails (a half-open connection). */
  idleTimeoutMs: number;
}

export class KubeClient {
  private readonly agent: HttpAgent;

  constructor(
    private readonly config: KubeConfig,
    private readonly userAgent = 'fleetstat-collector',
  ) {
    const https = config.server.protocol === 'https:';
    this.agent = https
      ? new HttpsAgent({ keepAlive: true, ca: config.ca, rejectUnauthorized: !config.insecureSkipTlsVerify })
      : new HttpAgent({ keepAlive: true });
  }

  /** Resolves with the response head (any status); the body is the caller's to consume. */
  get(path: string, query: URLSearchParams, options: GetOptions): Promise<IncomingMessage> {
    const url = new URL(path, this.config.server);
    url.search = query.toString();
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.userAgent };
    const token = this.config.bearerToken();
    if (token) headers['authorization'] = `Bearer ${token}`;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, { method: 'GET', headers, agent: this.agent, signal: options.signal });
      req.setTimeout(options.idleTimeoutMs, () => {
        req.destroy(new Error(`no data from the API server for ${options.idleTimeoutMs} ms`));
      });
      req.once('response', resolve);
      // `on`, not `once`: a socket can fail again after the response, and an 'error' with no
      // listener would crash the process; a reject after the promise settled is a no-op.
      req.on('error', reject);
      req.end();
    });
  }

  /** GET and parse a JSON body; a non-2xx answer rejects with KubeApiError. */
  async getJson(path: string, query: URLSearchParams, options: GetOptions, maxBytes = DEFAULT_MAX_BODY_BYTES): Promise<unknown> {
    const res = await this.get(path, query, options);
    if (!isOk(res)) throw await apiError(res);
    const body = await readBody(res, maxBytes);
    return JSON.parse(body.toString('utf8')) as unknown;
  }

  /** Destroys every socket, idle or in use. */
  close(): void {
    this.agent.destroy();
  }
}

export function isOk(res: IncomingMessage): boolean {
  const status = res.statusCode ?? 0;
  return status >= 200 && status < 300;
}

/** Reads (a bounded part of) an error response into a KubeApiError. */
export async function apiError(res: IncomingMessage): Promise<KubeApiError> {
  const status = res.statusCode ?? 0;
  let reason: string | undefined;
  let message = `HTTP ${status}`;
  try {
    const body = await readBody(res, MAX_ERROR_BODY_BYTES, true);
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    if (parsed !== null && typeof parsed === 'object') {
      const s = parsed as { reason?: unknown; message?: unknown };
      if (typeof s.reason === 'string') reason = s.reason;
      if (typeof s.message === 'string') message = `HTTP ${status}: ${s.message}`;
    }
  } catch {
    // Not a Status object (a proxy's HTML page, a cut body): the HTTP status says enough.
  }
  return new KubeApiError(status, reason, message);
}

/** Collects a body up to maxBytes; past it, rejects, or with `truncate` returns what it has. */
async function readBody(res: IncomingMessage, maxBytes: number, truncate = false): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      res.destroy();
      if (truncate) break;
      throw new Error(`API server response larger than ${maxBytes} bytes`);
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}
