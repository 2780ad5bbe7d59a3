// The collector process's core: fleet state, its HTTP interface, and the sweep that turns quiet
// nodes stale. Transports (NATS, gRPC, in-memory) are attached by whoever composes it.

import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { fleetMetrics } from './api/prometheus-metrics.js';
import { HttpApi } from './api/http-api.js';
import type { DetailClient } from './detail/detail-client.js';
import { FleetState } from './fleet-state.js';
import type { PodDirectory } from './attribution/pod-directory.js';

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
}

export class Collector {
  readonly state: FleetState;
  readonly http: HttpApi;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readiness: () => boolean = () => true;

  constructor(private readonly options: CollectorOptions) {
    this.state = new FleetState({
      cluster: options.cluster,
      logger: options.logger,
      ...(options.maxSnapshotBytes ? { maxSnapshotBytes: options.maxSnapshotBytes } : {}),
      ...(options.pods ? { pods: options.pods } : {}),
    });
    this.http = new HttpApi({
      state: this.state,
      metrics: fleetMetrics(this.state, { podSeries: options.podSeries === true }),
      logger: options.logger,
      ...(options.detail ? { detail: options.detail } : {}),
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
    this.options.logger.info({ http: `${address.address}:${address.port}`, cluster: this.options.cluster }, 'collector listening');
    return address;
  }

  /** Safe to call twice. */
  async stop(): Promise<void> {
    clearInterval(this.sweepTimer);
    await this.http.server.close();
  }
}
