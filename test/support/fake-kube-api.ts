// A local HTTP server playing the Kubernetes API server for one collection (/api/v1/pods by
// default; /apis/discovery.k8s.io/v1/endpointslices, say): it records every
// request (path, query, Authorization) and answers lists and watches from queues the test
// fills with recorded responses (test/fixtures/kubernetes). A watch with nothing queued is
// held open, as a quiet real watch is, until the test or close() ends it.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const KUBE_FIXTURES = fileURLToPath(new URL('../fixtures/kubernetes/', import.meta.url));

export function fixtureText(name: string): string {
  return readFileSync(KUBE_FIXTURES + name, 'utf8');
}

export function fixtureJson<T = unknown>(name: string): T {
  return JSON.parse(fixtureText(name)) as T;
}

export interface RecordedRequest {
  path: string;
  query: URLSearchParams;
  watch: boolean;
  authorization: string | undefined;
}

export type Responder = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export class FakeKubeApi {
  readonly requests: RecordedRequest[] = [];
  /** Answers list requests when their queue is empty. */
  listDefault: Responder = json(500, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'no list queued', code: 500 });
  private readonly lists: Responder[] = [];
  private readonly watches: Responder[] = [];
  private readonly openWatches = new Set<ServerResponse>();
  private server: Server | undefined;
  private boundPort = 0;

  /** `tls`: serve HTTPS with this key and certificate (PEM), as a real API server does. */
  constructor(
    private readonly collection = '/api/v1/pods',
    private readonly tls?: { key: string; cert: string },
  ) {}

  /** Listens on 127.0.0.1 (`port` 0: any free one; or a port used before, to come back on it). */
  async start(port = 0): Promise<string> {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((err: unknown) => res.destroy(err as Error));
    };
    const server: Server = this.tls ? createTlsServer(this.tls, handler) : createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    this.server = server;
    this.boundPort = (server.address() as AddressInfo).port;
    return this.url;
  }

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.boundPort}`;
  }

  get port(): number {
    return this.boundPort;
  }

  enqueueList(...responders: Responder[]): void {
    this.lists.push(...responders);
  }

  enqueueWatch(...responders: Responder[]): void {
    this.watches.push(...responders);
  }

  watchRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.watch);
  }

  listRequests(): RecordedRequest[] {
    return this.requests.filter((r) => !r.watch);
  }

  /** Ends every held-open watch cleanly, as the server does at timeoutSeconds. */
  endOpenWatches(): void {
    for (const res of this.openWatches) res.end();
    this.openWatches.clear();
  }

  /** Resolves once `count` requests matching `match` have arrived. */
  async waitForRequests(match: (r: RecordedRequest) => boolean, count = 1, timeoutMs = 5_000): Promise<RecordedRequest[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seen = this.requests.filter(match);
      if (seen.length >= count) return seen;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} requests; saw ${JSON.stringify(this.requests.map(describe))}`);
      await delay(5);
    }
  }

  /** Stops listening and cuts every connection (what a crashed API server looks like). */
  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.openWatches.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    this.requests.push({ path: url.pathname, query: url.searchParams, watch, authorization: req.headers.authorization });
    if (url.pathname !== this.collection) {
      await json(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 })(req, res);
      return;
    }
    if (!watch) {
      await (this.lists.shift() ?? this.listDefault)(req, res);
      return;
    }
    const next = this.watches.shift();
    if (next) {
      await next(req, res);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    this.openWatches.add(res);
    res.once('close', () => this.openWatches.delete(res));
  }
}

export function json(status: number, body: unknown): Responder {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  };
}

/** Serves a list in pages of `pageSize`, honouring `limit`-less requests with the whole list. */
export function pagedList(list: { metadata: { resourceVersion: string }; items: unknown[] }, pageSize: number): Responder {
  return (req, res) => {
    const query = new URL(req.url ?? '/', 'http://fake').searchParams;
    const limit = Number(query.get('limit') ?? 0) || list.items.length;
    const from = Number(query.get('continue') ?? 0);
    const size = Math.min(limit, pageSize);
    const items = list.items.slice(from, from + size);
    const more = from + size < list.items.length;
    const metadata = more ? { resourceVersion: list.metadata.resourceVersion, continue: String(from + size) } : { resourceVersion: list.metadata.resourceVersion };
    void json(200, { kind: 'PodList', apiVersion: 'v1', metadata, items })(req, res);
  };
}

export interface StreamOptions {
  /** Sizes of successive writes, cycled; default: the whole body in one write. */
  chunkSizes?: number[];
  /** Pause between writes so they reach the client as separate reads. Default 2 ms. */
  gapMs?: number;
  /** End the response after the body (a watch the server closed). Default true; false holds it open. */
  end?: boolean;
}

/** A 200 watch response writing `body` in chunks cut wherever `chunkSizes` says (across lines included). */
export function stream(body: string | Buffer, options: StreamOptions = {}): Responder {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const sizes = options.chunkSizes?.length ? options.chunkSizes : [bytes.length || 1];
  return async (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    let at = 0;
    for (let i = 0; at < bytes.length; i++) {
      const size = sizes[i % sizes.length] ?? bytes.length;
      if (res.destroyed) return;
      res.write(bytes.subarray(at, at + size));
      at += size;
      if (at < bytes.length) await delay(options.gapMs ?? 2);
    }
    if (options.end ?? true) res.end();
  };
}

function describe(r: RecordedRequest): string {
  return `${r.path}?${r.query.toString()}`;
}
