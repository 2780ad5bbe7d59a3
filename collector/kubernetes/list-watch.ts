// The list+watch protocol of client-go's Reflector, reduced to what fleetstat needs, for one
// collection (pods; any other later) feeding a sink that keeps a reduced copy of each object:
// - list (paginated) → replace the sink's content in one step → watch from the list's resourceVersion;
// - each event and bookmark advances the resourceVersion; a watch the server ends (it does,
//   after timeoutSeconds) is renewed from the last one seen, so nothing is missed or replayed;
// - 410 Gone (the version left etcd's history window), as HTTP 410 or as an ERROR event,
//   means relist, and the relist drops objects deleted while we were not watching;
// - anything else: jittered backoff, then watch again (or list again if no list is in yet).

import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { BackoffOptions } from '../../agent/publish/jittered-backoff.js';
import { JitteredBackoff, validateBackoff } from '../../agent/publish/jittered-backoff.js';
import { apiError, isOk, KubeApiError, KubeClient } from './kube-client.js';
import type { KubeConfig } from './kube-config.js';
import { NdjsonLines, DEFAULT_MAX_LINE_BYTES } from './ndjson-lines.js';
import { asObject, resourceVersionOf } from './kube-object.js';
import { ProblemLog } from './problem-log.js';
import type { WatchEventType } from './watch-event.js';
import { parseWatchLine } from './watch-event.js';

export class ListWatchError extends Error {
  override readonly name = 'ListWatchError';
}

/** Where listed and watched objects go, each reduced by `fromObject` to what is kept. */
export interface ListWatchSink<T> {
  /** An object from a list page or an ADDED/MODIFIED event; undefined when unusable. */
  fromObject(raw: unknown): T | undefined;
  /** After a (re)list: the whole new content, in one synchronous step. */
  replaceAll(items: T[]): { removed: number; added: number };
  upsert(item: T): void;
  /** A DELETED event's object (its last state); false when it has no usable key. */
  removeObject(raw: unknown): boolean;
  size(): number;
}

export interface ListWatchTuning {
  /** Problems are logged once each, not per retry (ProblemLog). Default: silent. */
  logger?: Logger;
  /**
   * Each watch asks the server to end it after this many seconds times 1 to 2 (client-go's
   * spread, so watches opened together do not all renew together). Default 300.
   */
  watchTimeoutSeconds?: number;
  /** Objects per list page (`limit`); 0 lists in one response. Default 500. */
  listPageSize?: number;
  backoff?: BackoffOptions;
  maxLineBytes?: number;
  /** For the watch spread and the backoff jitter; injectable for tests. */
  random?: () => number;
}

export interface ListWatchOptions<T> extends ListWatchTuning {
  config: KubeConfig;
  /** The collection, e.g. `/api/v1/pods`. */
  path: string;
  /** Plural name for log lines, e.g. `pods`. */
  resource: string;
  sink: ListWatchSink<T>;
}

export interface ListWatchStats {
  ready: boolean;
  /** Objects the sink holds. */
  objects: number;
  /** The version the next watch starts from; undefined before the first list. */
  resourceVersion: string | undefined;
  /** List operations, initial and relists (a paginated list counts once). */
  lists: number;
  /** Lists after a 410 Gone. */
  relists: number;
  /** Watch requests sent. */
  watches: number;
  events: Record<WatchEventType, number>;
  /** Failed lists and watches (each followed by a backoff). */
  errors: number;
  /** Watch lines that were not JSON or not a usable event, and listed objects that were unusable; skipped, the watch goes on. */
  badLines: number;
}

export const DEFAULT_LIST_WATCH_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 30_000, multiplier: 2 };
const DEFAULT_WATCH_TIMEOUT_S = 300;
const DEFAULT_PAGE_SIZE = 500;
/** A list page must make progress within this long. */
const LIST_IDLE_TIMEOUT_MS = 60_000;
/** Beyond the server-side timeout, how long a silent watch connection is trusted. */
const WATCH_IDLE_GRACE_MS = 30_000;
/** A watch that ends this fast with no event is backed off, so a broken proxy is not hammered. */
const MIN_USEFUL_WATCH_MS = 1_000;

/** How a watch ended, and how many events it applied before that. */
type WatchOutcome = { kind: 'ended' | 'expired'; events: number };

export class ListWatch<T> {
  private readonly client: KubeClient;
  private readonly logger: Logger;
  private readonly problems: ProblemLog;
  private readonly backoff: JitteredBackoff;
  private readonly random: () => number;
  private readonly abort = new AbortController();
  private resourceVersion: string | undefined;
  private isReady = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private firstList: { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } | undefined;
  private readonly counters = {
    lists: 0,
    relists: 0,
    watches: 0,
    errors: 0,
    badLines: 0,
    events: { ADDED: 0, MODIFIED: 0, DELETED: 0, BOOKMARK: 0, ERROR: 0 } satisfies Record<WatchEventType, number>,
  };

  constructor(private readonly options: ListWatchOptions<T>) {
    const timeout = options.watchTimeoutSeconds ?? DEFAULT_WATCH_TIMEOUT_S;
    if (!(Number.isInteger(timeout) && timeout > 0)) throw new ListWatchError(`watchTimeoutSeconds ${timeout}: need a positive integer`);
    const page = options.listPageSize ?? DEFAULT_PAGE_SIZE;
    if (!(Number.isInteger(page) && page >= 0)) throw new ListWatchError(`listPageSize ${page}: need an integer >= 0`);
    this.client = new KubeClient(options.config);
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.problems = new ProblemLog(this.logger);
    this.random = options.random ?? Math.random;
    this.backoff = new JitteredBackoff(validateBackoff(options.backoff ?? DEFAULT_LIST_WATCH_BACKOFF), this.random);
  }

  /**
   * Starts listing and watching; resolves once the first list is in the sink. Transient
   * failures are retried with backoff meanwhile; 401, 403 and 404 on that first list reject
   * (missing RBAC or a wrong server will not fix themselves: fail at start-up, not silently).
   * Calling it again returns the same promise.
   */
  start(): Promise<void> {
    if (this.stopped) return Promise.reject(new ListWatchError(`the ${this.options.resource} list+watch was stopped`));
    if (!this.firstList) {
      let resolve!: () => void;
      let reject!: (err: Error) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // The caller awaits `promise`; this handler only keeps an ignored start() from becoming an unhandled rejection.
      promise.catch(() => undefined);
      this.firstList = { promise, resolve, reject };
      this.loop = this.run();
    }
    return this.firstList.promise;
  }

  /** True once the first list is in (for /readyz); stays true through later relists. */
  ready(): boolean {
    return this.isReady;
  }

  stats(): ListWatchStats {
    const { events, ...rest } = this.counters;
    return { ready: this.isReady, objects: this.options.sink.size(), resourceVersion: this.resourceVersion, ...rest, events: { ...events } };
  }

  /** Ends the watch, any backoff wait and every socket; safe to call twice. */
  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.abort.abort();
      this.client.close();
      if (!this.isReady) this.firstList?.reject(new ListWatchError(`the ${this.options.resource} list+watch was stopped before the first list`));
    }
    await this.loop;
  }

  private async run(): Promise<void> {
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.list();
          if (this.stopped) break;
          needList = false;
          this.markReady();
        }
        const started = Date.now();
        const outcome = await this.watch();
        if (outcome.kind === 'expired') {
          needList = true;
          this.counters.relists++;
          this.logger.debug({ resource: this.options.resource, resourceVersion: this.resourceVersion }, 'watch expired (410 Gone); relisting');
          // A watch that expires before applying anything may be a server that expires every
          // fresh list's version: back off, or a full list of the cluster would repeat at once.
          if (outcome.events === 0) await this.sleep(this.backoff.next());
        } else if (outcome.events === 0 && Date.now() - started < MIN_USEFUL_WATCH_MS) {
          await this.sleep(this.backoff.next());
        }
      } catch (err) {
        if (this.stopped) break;
        this.counters.errors++;
        if (!this.isReady && err instanceof KubeApiError && [401, 403, 404].includes(err.status)) {
          this.logger.error({ resource: this.options.resource, err: describe(err) }, 'cannot list; giving up');
          this.firstList?.reject(err);
          this.stopped = true;
          this.client.close();
          break;
        }
        this.problems.report(problemKey(needList ? 'list' : 'watch', err), `${needList ? 'list' : 'watch'} failed; retrying with backoff`, {
          resource: this.options.resource,
          err: describe(err),
        });
        await this.sleep(this.backoff.next());
      }
    }
  }

  /**
   * The backoff is not reset here but by the first event a watch applies: a list that works
   * followed by a watch that fails at once is a failing cycle, and its retries must slow down.
   */
  private markReady(): void {
    this.problems.resolve(`${this.options.resource} list working again`);
    if (this.isReady) return;
    this.isReady = true;
    this.logger.info({ resource: this.options.resource, objects: this.options.sink.size(), resourceVersion: this.resourceVersion }, 'first list in; watching');
    this.firstList?.resolve();
  }

  /** A full (paginated) list, then one synchronous replace of the sink's content. */
  private async list(): Promise<void> {
    this.counters.lists++;
    const items: T[] = [];
    const pageSize = this.options.listPageSize ?? DEFAULT_PAGE_SIZE;
    let continueToken: string | undefined;
    let listVersion: string | undefined;
    do {
      const query = this.baseQuery();
      if (pageSize > 0) query.set('limit', String(pageSize));
      if (continueToken) query.set('continue', continueToken);
      const page = asObject(await this.client.getJson(this.options.path, query, { signal: this.abort.signal, idleTimeoutMs: LIST_IDLE_TIMEOUT_MS }));
      const raw = page?.['items'];
      if (!Array.isArray(raw)) throw new ListWatchError(`the ${this.options.resource} list answer has no items array`);
      for (const object of raw) {
        const item = this.options.sink.fromObject(object);
        if (item) items.push(item);
        else this.counters.badLines++;
      }
      listVersion = resourceVersionOf(page);
      const next = asObject(page?.['metadata'])?.['continue'];
      continueToken = typeof next === 'string' && next ? next : undefined;
    } while (continueToken);
    if (!listVersion) throw new ListWatchError(`the ${this.options.resource} list answer has no metadata.resourceVersion`);
    if (this.stopped) return;
    const { removed, added } = this.options.sink.replaceAll(items);
    this.resourceVersion = listVersion;
    this.logger.debug({ resource: this.options.resource, objects: items.length, added, removed, resourceVersion: listVersion }, 'listed');
  }

  /** One watch request, streamed until the server ends it, it fails, or it expires. */
  private async watch(): Promise<WatchOutcome> {
    const timeoutSeconds = Math.round((this.options.watchTimeoutSeconds ?? DEFAULT_WATCH_TIMEOUT_S) * (1 + this.random()));
    const query = this.baseQuery();
    query.set('watch', 'true');
    query.set('resourceVersion', this.resourceVersion ?? '');
    query.set('allowWatchBookmarks', 'true');
    query.set('timeoutSeconds', String(timeoutSeconds));
    this.counters.watches++;
    const signal = this.abort.signal;
    const res = await this.client.get(this.options.path, query, { signal, idleTimeoutMs: timeoutSeconds * 1000 + WATCH_IDLE_GRACE_MS });
    if (res.statusCode === 410) {
      res.resume();
      return { kind: 'expired', events: 0 };
    }
    if (!isOk(res)) throw await apiError(res);
    this.problems.resolve(`${this.options.resource} watch working again`);
    const onAbort = (): void => {
      res.destroy();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const lines = new NdjsonLines(this.options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    let events = 0;
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        for (const line of lines.push(chunk)) {
          const applied = this.handleLine(line);
          if (applied === 'expired') return { kind: 'expired', events };
          // Reset only once the watch delivers: a server that accepts watches and then fails
          // them at once must still see the retries slow down.
          if (applied === 'applied' && events++ === 0) this.backoff.reset();
        }
      }
      const last = lines.end();
      if (last && this.handleLine(last) === 'expired') return { kind: 'expired', events };
    } finally {
      signal.removeEventListener('abort', onAbort);
      res.destroy();
    }
    return { kind: 'ended', events };
  }

  /** Applies one watch line; 'expired' on a 410 ERROR event; throws on any other ERROR event. */
  private handleLine(raw: Buffer): 'applied' | 'skipped' | 'expired' {
    const line = parseWatchLine(raw);
    switch (line.kind) {
      case 'blank':
        return 'skipped';
      case 'bad':
        return this.badLine(raw, line.why);
      case 'error':
        this.counters.events.ERROR++;
        if (line.expired) return 'expired';
        throw new KubeApiError(line.code, line.reason, line.message);
      case 'bookmark':
        this.counters.events.BOOKMARK++;
        break;
      case 'item':
        if (line.type === 'DELETED') {
          if (!this.options.sink.removeObject(line.object)) return this.badLine(raw, 'unusable object in a DELETED event');
        } else {
          const item = this.options.sink.fromObject(line.object);
          if (!item) return this.badLine(raw, `unusable object in a ${line.type} event`);
          this.options.sink.upsert(item);
        }
        this.counters.events[line.type]++;
        break;
    }
    // Every event but ERROR carries the version it brings the watch to; bookmarks exist only for this.
    if (line.resourceVersion) this.resourceVersion = line.resourceVersion;
    return 'applied';
  }

  private badLine(line: Buffer, why: string): 'skipped' {
    this.counters.badLines++;
    this.problems.report(`bad-line:${why}`, 'skipped a watch line that is not a usable event', {
      resource: this.options.resource,
      why,
      sample: line.subarray(0, 120).toString('utf8'),
    });
    return 'skipped';
  }

  private baseQuery(): URLSearchParams {
    const query = new URLSearchParams();
    return query;
  }

  /** Waits (timer unref'd) unless stop() cuts it short. */
  private async sleep(ms: number): Promise<void> {
    await delay(ms, undefined, { signal: this.abort.signal, ref: false }).catch(() => undefined);
  }
}

function problemKey(phase: 'list' | 'watch', err: unknown): string {
  if (err instanceof KubeApiError) return `${phase}:http-${err.status}`;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return `${phase}:${code}`;
  return `${phase}:${err instanceof Error ? err.name : 'error'}`;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // A refused dual-stack connect is an AggregateError with an empty message; its code says it.
  const code = (err as { code?: unknown }).code;
  return err.message || (typeof code === 'string' ? code : err.name);
}
