// The agent's loop: sample every interval (first tick at a random point of the first
// interval, so a fleet restarted together does not sample in step), never two samples at
// once, each publish under a time limit, and a goodbye on clean shutdown.

import type { Logger } from 'pino';
import type { ParseStats, Snapshot } from '../proto/gen/fleetstat/v1/snapshot.js';
import type { AgentConfig } from './agent-config.js';
import type { PublishResult, SnapshotPublisher } from './publish/snapshot-publisher.js';
import type { NodeSample } from './sampler/sample-node.js';
import type { AgentIdentity } from './snapshot/build-snapshot.js';
import { buildSnapshot, newEpoch } from './snapshot/build-snapshot.js';

export interface SampleSource {
  sample(timeoutMs: number): Promise<NodeSample>;
}

export interface AgentRunnerOptions {
  config: AgentConfig;
  sampler: SampleSource;
  publisher: SnapshotPublisher;
  logger: Logger;
  version: string;
  detailAddress?: string;
  /** Defaults to the interval, at most 10 s. */
  publishTimeoutMs?: number;
  random?: () => number;
  now?: () => number;
}

export interface AgentCounters {
  samples: number;
  sampleErrors: number;
  /** Ticks skipped because the previous sample or publish was still running. */
  skippedTicks: number;
  sent: number;
  pending: number;
  publishErrors: number;
  lastParse?: ParseStats;
  lastSampleMs?: number;
}

export class AgentRunner {
  readonly identity: AgentIdentity;
  readonly counters: AgentCounters = { samples: 0, sampleErrors: 0, skippedTicks: 0, sent: 0, pending: 0, publishErrors: 0 };
  private seq = 0;
  private running: Promise<void> | undefined;
  private startTimer: NodeJS.Timeout | undefined;
  private intervalTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly now: () => number;
  private readonly publishTimeoutMs: number;

  constructor(private readonly options: AgentRunnerOptions) {
    const { config } = options;
    this.identity = {
      cluster: config.cluster,
      node: config.node,
      epoch: newEpoch(),
      intervalMs: config.intervalMs,
      httpPorts: config.httpPorts,
      version: options.version,
      ...(options.detailAddress ? { detailAddress: options.detailAddress } : {}),
    };
    this.now = options.now ?? Date.now;
    this.publishTimeoutMs = options.publishTimeoutMs ?? Math.min(config.intervalMs, 10_000);
  }

  async start(): Promise<void> {
    await this.options.publisher.start();
    const interval = this.options.config.intervalMs;
    const delay = Math.floor((this.options.random ?? Math.random)() * interval);
    this.options.logger.info({ node: this.identity.node, epoch: this.identity.epoch, firstSampleInMs: delay }, 'agent started');
    this.startTimer = setTimeout(() => {
      this.tick();
      this.intervalTimer = setInterval(() => this.tick(), interval);
    }, delay);
  }

  /** Take and publish one sample now, unless one is still running. */
  tick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.counters.skippedTicks++;
      return;
    }
    this.running = this.sampleAndPublish().finally(() => (this.running = undefined));
  }

  /** Stop sampling, send a goodbye, disconnect. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.startTimer);
    clearInterval(this.intervalTimer);
    await this.running;
    const goodbye: Snapshot = {
      ...buildSnapshot(this.identity, ++this.seq, this.now(), { namespaces: [], parse: undefined }),
      goodbye: true,
    };
    await this.publish(goodbye).catch(() => undefined);
    await this.options.publisher.shutdown(this.publishTimeoutMs);
    this.options.logger.info({ node: this.identity.node, sent: this.counters.sent }, 'agent stopped');
  }

  private async sampleAndPublish(): Promise<void> {
    let sample: NodeSample;
    try {
      sample = await this.options.sampler.sample(this.options.config.intervalMs * 3);
    } catch (error) {
      this.counters.sampleErrors++;
      this.options.logger.error({ err: error }, 'sample failed');
      return;
    }
    this.counters.samples++;
    this.counters.lastParse = sample.parse;
    this.counters.lastSampleMs = this.now();
    if (this.stopped) return;
    await this.publish(buildSnapshot(this.identity, ++this.seq, this.now(), sample)).catch(() => undefined);
  }

  private async publish(snapshot: Snapshot): Promise<PublishResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`publish took longer than ${this.publishTimeoutMs} ms`)), this.publishTimeoutMs);
    });
    try {
      const result = await Promise.race([this.options.publisher.publish(snapshot), timeout]);
      if (result === 'sent') this.counters.sent++;
      else this.counters.pending++;
      return result;
    } catch (error) {
      this.counters.publishErrors++;
      // The message, not the stack: this repeats every interval while a transport is down.
      this.options.logger.warn({ reason: error instanceof Error ? error.message : String(error), seq: snapshot.seq }, 'publish failed');
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}
