// The collector process's core: fleet state, its HTTP interface, and the sweep that turns quiet
// nodes stale. Transports (NATS, gRPC, in-memory) are attached by whoever composes it.

import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { fleetMetrics } from './api/prometheus-metrics.js';
import { HttpApi } from './api/http-api.js';
import type { DetailClient } from './detail/detail-client.js';
import { FleetState } from './fleet-state.js';
import type { PodDirectory } from './attribution/pod-directory.js';
import type { HistoryStore } from './history/history-store.js';
import { livePoints } from './history/live-points.js';

export interface CollectorOptions {
  cluster: string;
  logger: Logger;
  maxSnapshotBytes?: number;
  detail?: DetailClient;
  /** How often stale nodes are looked for; queries also sweep first. */
  sweepMs?: number;
  /** Pod metadata for attribution (the Kubernetes watch). */
  pods?: PodDirectory;
  /** Per-pod metric series (opt-in: they churn with pods). */
  podSeries?: boolean;
  /** Where history is kept; none: no history. */
  history?: HistoryStore;
  /** How often live counts are recorded into history. */
  historyEveryMs?: number;
  /** The collector's clock (tests). */
  now?: () => number;
}

export class Collector {
  readonly state: FleetState;
  readonly http: HttpApi;
  private sweepTimer: NodeJS.Timeout | undefined;
  private historyTimer: NodeJS.Timeout | undefined;
  private readiness: () => boolean = () => true;

  constructor(private readonly options: CollectorOptions) {
    this.state = new FleetState({
      cluster: options.cluster,
      logger: options.logger,
      ...(options.maxSnapshotBytes ? { maxSnapshotBytes: options.maxSnapshotBytes } : {}),
      ...(options.pods ? { pods: options.pods } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    this.http = new HttpApi({
      state: this.state,
      metrics: fleetMetrics(this.state, { podSeries: options.podSeries === true }),
      logger: options.logger,
      ...(options.detail ? { detail: options.detail } : {}),
      ...(options.history ? { history: options.history } : {}),
      ready: () => this.readiness(),
    });
  }

  /** Ready (for /readyz) once every transport says so. */
  setReadiness(ready: () => boolean): void {
    this.readiness = ready;
  }

  async start(host: string, port: number): Promise<AddressInfo> {
    const address = await this.http.server.listen(host, port);
    this.sweepTimer = setInterval(() => this.state.sweep(), this.options.sweepMs ?? 1000);
    this.sweepTimer.unref();
    const history = this.options.history;
    if (history) {
      this.historyTimer = setInterval(() => this.recordHistory(history), this.options.historyEveryMs ?? 10_000);
      this.historyTimer.unref();
    }
    this.options.logger.info({ http: `${address.address}:${address.port}`, cluster: this.options.cluster }, 'collector listening');
    return address;
  }

  /** Record the live counts into history now (the timer does it every historyEveryMs). */
  recordHistory(history: HistoryStore, nowMs = this.state.now()): void {
    this.state.sweep(nowMs);
    history.recordSample(nowMs, livePoints(this.state));
  }

  /** Safe to call twice. */
  async stop(): Promise<void> {
    clearInterval(this.sweepTimer);
    clearInterval(this.historyTimer);
    await this.http.server.close();
    this.options.history?.close();
  }
}
