// The collector process's core: fleet state, its HTTP interface, and the sweep that turns quiet
// nodes stale. Transports (NATS, gRPC, in-memory) are attached by whoever composes it.

import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { fleetMetrics } from './api/prometheus-metrics.js';
import { HttpApi } from './api/http-api.js';
import type { BearerAuth } from './api/bearer-auth.js';
import type { KeyPair } from '../agent/tls/pem-files.js';
import type { DetailClient } from './detail/detail-client.js';
import { FleetState } from './fleet-state.js';
import type { PodDirectory } from './attribution/pod-directory.js';
import type { HistoryThread } from './history/history-thread.js';
import type { AlertChange } from './alerts/alert-types.js';
import type { SurgeDetector } from './alerts/surge-detector.js';
import { liveCountGroups } from './history/live-counts.js';

export interface CollectorOptions {
  cluster: string;
  logger: Logger;
  maxSnapshotBytes?: number;
  detail?: DetailClient;
  /** /api/v1/connections requests per second per client address. */
  detailRate?: number;
  /** How often stale nodes are looked for; queries also sweep first. */
  sweepMs?: number;
  /** Pod metadata for attribution (the Kubernetes watch). */
  pods?: PodDirectory;
  /** Per-pod metric series (opt-in: they churn with pods). */
  podSeries?: boolean;
  /** Where history is kept (on its own thread); none: no history. */
  history?: HistoryThread;
  /** How often live counts are recorded into history. */
  historyEveryMs?: number;
  /** The collector's clock (tests). */
  now?: () => number;
  /** Surge detection, judged every alertsEveryMs; its changes go to the log and onAlert. */
  alerts?: SurgeDetector;
  alertsEveryMs?: number;
  onAlert?: (change: AlertChange) => void;
  /** The HTTP API's bearer token and HTTPS (http-api.ts). */
  auth?: BearerAuth;
  tls?: KeyPair;
}

export class Collector {
  readonly state: FleetState;
  readonly http: HttpApi;
  private sweepTimer: NodeJS.Timeout | undefined;
  private historyTimer: NodeJS.Timeout | undefined;
  private alertTimer: NodeJS.Timeout | undefined;
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
      metrics: fleetMetrics(this.state, {
        podSeries: options.podSeries === true,
        ...(options.alerts ? { alerts: options.alerts } : {}),
        ...(options.history ? { history: options.history } : {}),
      }),
      logger: options.logger,
      ...(options.detail ? { detail: options.detail } : {}),
      ...(options.detailRate ? { detailRate: options.detailRate } : {}),
      ...(options.history ? { history: options.history } : {}),
      ...(options.alerts ? { alerts: options.alerts } : {}),
      ready: () => this.readiness(),
      ...(options.auth ? { auth: options.auth } : {}),
      ...(options.tls ? { tls: options.tls } : {}),
    });
  }

  /** The history store, if this collector keeps one. */
  get history(): HistoryThread | undefined {
    return this.options.history;
  }

  /** The surge detector, if this collector runs one. */
  get alerts(): SurgeDetector | undefined {
    return this.options.alerts;
  }

  /** Ready (for /readyz) once every transport says so. */
  setReadiness(ready: () => boolean): void {
    this.readiness = ready;
  }

  async start(host: string, port: number): Promise<AddressInfo> {
    const address = await this.http.server.listen(host, port);
    const sweepMs = this.options.sweepMs ?? 1000;
    this.sweepTimer = setInterval(() => {
      const nowMs = this.state.now();
      // The beat lets the state tell a paused collector (SIGSTOP, a stalled loop) from quiet nodes.
      this.state.reception.heartbeat(nowMs, sweepMs);
      void this.state.sweepAfterInput();
    }, sweepMs);
    this.sweepTimer.unref();
    const alerts = this.options.alerts;
    if (alerts) {
      this.alertTimer = setInterval(() => this.evaluateAlerts(alerts), this.options.alertsEveryMs ?? 10_000);
      this.alertTimer.unref();
    }
    const history = this.options.history;
    if (history) {
      this.historyTimer = setInterval(() => this.recordHistory(history), this.options.historyEveryMs ?? 10_000);
      this.historyTimer.unref();
    }
    this.options.logger.info({ http: `${address.address}:${address.port}`, cluster: this.options.cluster }, 'collector listening');
    return address;
  }

  /** Hand the live counts to history now (the timer does it every historyEveryMs); false: dropped (history behind or restarting). */
  recordHistory(history: HistoryThread, nowMs = this.state.now()): boolean {
    this.state.sweep(nowMs);
    return history.record(nowMs, liveCountGroups(this.state));
  }

  /** Judge the fleet for surges now (the timer does it every alertsEveryMs). */
  evaluateAlerts(alerts: SurgeDetector): AlertChange[] {
    this.state.sweep();
    const changes = alerts.evaluate(this.state);
    for (const change of changes) {
      const { alert } = change;
      const fields = { alert: alert.id, kind: alert.kind, node: alert.scope.node, port: alert.scope.port, value: alert.value, baseline: alert.baseline, topRemotes: alert.topRemotes };
      if (change.type === 'raised') this.options.logger.warn(fields, 'alert raised');
      else this.options.logger.info({ ...fields, endReason: alert.endReason }, 'alert ended');
      this.options.onAlert?.(change);
    }
    return changes;
  }

  /** Safe to call twice. */
  async stop(): Promise<void> {
    clearInterval(this.alertTimer);
    clearInterval(this.sweepTimer);
    clearInterval(this.historyTimer);
    await this.http.server.close();
    await this.options.history?.close(this.state.now());
  }
}
