// A small GET-only HTTP(S) server for the agent's and the collector's endpoints: the handler maps
// a URL to a body; errors become JSON with their status, never a crash.

import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { KeyPair } from '../tls/pem-files.js';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    /** Extra response headers (WWW-Authenticate on a 401). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Who is asking: the client's address (for per-client limits). */
export interface RequestClient {
  address: string;
}

/** A string is sent as Prometheus/plain text, a RawResponse as it is (files), anything else as JSON. */
export type RouteHandler = (url: URL, client: RequestClient) => Promise<unknown>;

/** A body sent byte for byte with its own type and headers (the dashboard's files). */
export interface RawResponse {
  status: number;
  contentType: string;
  body: Buffer;
  headers?: Record<string, string>;
}

// No JSON view holds a Buffer, so this shape cannot be mistaken for one.
function isRawResponse(value: unknown): value is RawResponse {
  const r = value as Partial<RawResponse> | null;
  return typeof r === 'object' && r !== null && Buffer.isBuffer(r.body) && typeof r.contentType === 'string' && typeof r.status === 'number';
}

export interface RouteServerOptions {
  /** Serve HTTPS with this certificate and key. */
  tls?: KeyPair;
  /** Runs before the route; throws HttpError to refuse the request (authentication). */
  guard?: (url: URL, headers: IncomingHttpHeaders) => void;
}

export class RouteServer {
  private readonly server: Server;

  constructor(
    private readonly route: RouteHandler,
    private readonly logger: Logger,
    private readonly options: RouteServerOptions = {},
  ) {
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.handle(req, res);
    this.server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handler) : createServer(handler);
    // A client that fails the TLS handshake (plain HTTP to the HTTPS port, say) must cost nothing but its socket.
    this.server.on('tlsClientError', (error: Error) => this.logger.debug({ err: error }, 'TLS handshake failed'));
  }

  /** "https" when serving TLS. */
  get scheme(): 'http' | 'https' {
    return this.options.tls ? 'https' : 'http';
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  /** Safe to call twice. */
  async close(): Promise<void> {
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'only GET');
      const url = new URL(req.url ?? '/', 'http://localhost');
      this.options.guard?.(url, req.headers);
      const body = await this.route(url, { address: req.socket.remoteAddress ?? '' });
      if (isRawResponse(body)) {
        res.writeHead(body.status, { ...body.headers, 'content-type': body.contentType, 'content-length': body.body.length });
        res.end(body.body);
      } else if (typeof body === 'string') send(res, 200, body, 'text/plain; version=0.0.4; charset=utf-8');
      else send(res, 200, `${JSON.stringify(body)}\n`, 'application/json');
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      if (status === 500) this.logger.error({ err: error, url: req.url }, 'request failed');
      const message = error instanceof Error ? error.message : String(error);
      send(res, status, `${JSON.stringify({ error: message })}\n`, 'application/json', error instanceof HttpError ? error.headers : {});
    }
  }
}

function send(res: ServerResponse, status: number, body: string, type: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
