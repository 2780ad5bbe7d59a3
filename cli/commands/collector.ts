// `fleetstat collector`: receive snapshots over NATS and/or gRPC and serve the fleet view
// (collector-run.ts, loaded only when the command runs).

import type { Command } from 'commander';
import type { HostPort } from '../../agent/grpc/host-port.js';
import { DEFAULT_MAX_SNAPSHOT_BYTES } from '../../collector/ingest/decode-snapshot.js';
import { argParser } from '../agent-options.js';
import { parseListenAddress, parseNatsUrls } from '../address-options.js';
import { UsageError } from '../usage-error.js';
import { DEFAULT_DETAIL_RATE, parseRate } from '../rate-options.js';
import type { HistoryFlags } from '../history-options.js';
import { addHistoryOptions } from '../history-options.js';
import type { AlertFlags } from '../alert-options.js';
import { addAlertOptions } from '../alert-options.js';
import type { ApiTokenFlags } from '../api-token.js';
import { addApiTokenOption } from '../api-token.js';
import type { CollectorGrpcTlsFlags, HttpTlsFlags } from '../tls-options.js';
import { addCollectorGrpcTlsOptions, addHttpTlsOptions, collectorGrpcTlsOf } from '../tls-options.js';
import type { NatsCredentialFlags } from '../nats-credentials.js';
import { addNatsCredentialOptions, natsCredentialsOf } from '../nats-credentials.js';

export interface CollectorFlags extends NatsCredentialFlags, HistoryFlags, AlertFlags, CollectorGrpcTlsFlags, HttpTlsFlags, ApiTokenFlags {
  cluster: string;
  nats?: string;
  jetstream?: boolean;
  grpc?: HostPort;
  listen: HostPort;
  maxSnapshotBytes: number;
  detailRate: number;
  kubernetes?: boolean;
  kubeApi?: string;
  kubeTokenFile?: string;
  kubeCa?: string;
  kubeInsecure?: boolean;
  kubeEndpointslices: boolean;
  podMetrics?: boolean;
}

const NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,252}$/;

export function registerCollector(program: Command): void {
  const api = 'file holding the bearer token for /api/v1/*, /metrics and QueryService';
  addApiTokenOption(addHttpTlsOptions(addCollectorGrpcTlsOptions(addAlertOptions(addHistoryOptions(addNatsCredentialOptions(program.command('collector')))))), api)
    .description('aggregate agents\' snapshots and serve the cluster view (HTTP API, /metrics, gRPC)')
    .option('--cluster <name>', 'cluster name (NATS subjects fleetstat.v1.<cluster>.*)', argParser(parseName), 'default')
    .option('--nats <urls>', 'subscribe to snapshots on NATS, e.g. nats://nats:4222', argParser(parseNatsUrls))
    .option('--jetstream', "with --nats: recover every node's last snapshot from JetStream at start")
    .option('--grpc <host:port>', 'serve IngestService and QueryService here', argParser(parseListenAddress))
    .option('--listen <host:port>', 'HTTP API, /metrics, /healthz, /readyz', argParser(parseListenAddress), parseListenAddress('0.0.0.0:7470'))
    .option('--max-snapshot-bytes <n>', 'larger snapshots are rejected', argParser(parseBytes), DEFAULT_MAX_SNAPSHOT_BYTES)
    .option('--detail-rate <n>', '/api/v1/connections requests per second one client address may make (burst: twice that)', argParser(parseRate), DEFAULT_DETAIL_RATE)
    .option('--kubernetes', 'attribute counts to pods and workloads by watching pods (in-cluster service account)')
    .option('--kube-api <url>', 'with --kubernetes: API server URL instead of the in-cluster one')
    .option('--kube-token-file <file>', 'with --kube-api: bearer token file')
    .option('--kube-ca <file>', 'with --kube-api: CA certificate file')
    .option('--kube-insecure', 'with --kube-api: skip TLS verification (tests only)')
    .option('--no-kube-endpointslices', "don't watch EndpointSlices for Service appProtocol HTTP ports")
    .option('--pod-metrics', 'also export per-pod series (fleetstat_pod_http_connections); they churn with pods')
    .action(async (flags: CollectorFlags) => {
      if ((flags.kubeApi || flags.podMetrics) && !flags.kubernetes) throw new UsageError('--kube-api and --pod-metrics need --kubernetes');
      if (!flags.nats && !flags.grpc) throw new UsageError('give --nats URL and/or --grpc HOST:PORT: the collector needs a way to receive snapshots');
      if (flags.jetstream && !flags.nats) throw new UsageError('--jetstream needs --nats');
      if (collectorGrpcTlsOf(flags) && !flags.grpc) throw new UsageError('--grpc-tls-cert and --grpc-tls-key are for --grpc');
      const credentials = natsCredentialsOf(flags);
      return (await import('./collector-run.js')).runCollector(flags, credentials);
    });
}

function parseName(text: string): string {
  if (!NAME.test(text) || text.includes('..')) throw new Error(`"${text}": use letters, digits, '-', '_' and single dots`);
  return text;
}

function parseBytes(text: string): number {
  const n = Number(text);
  if (!/^\d{1,10}$/.test(text) || n < 1024 || n > 64 * 1024 * 1024) throw new Error(`"${text}": expected 1024 to 67108864 bytes`);
  return n;
}
