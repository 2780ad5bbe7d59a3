// The long-running collector: fleet state and HTTP API, NATS ingest (with JetStream recovery)
// and/or the gRPC server (IngestService + QueryService), detail routed per node's transport.

import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { formatHostPort } from '../../agent/grpc/host-port.js';
import { Collector } from '../../collector/collector.js';
import type { AlertChange } from '../../collector/alerts/alert-types.js';
import { SurgeDetector } from '../../collector/alerts/surge-detector.js';
import type { DetailClient } from '../../collector/detail/detail-client.js';
import type { IngestTransport } from '../../collector/ingest/snapshot-ingest.js';
import { RouteDetailClient } from '../../collector/detail/route-detail-client.js';
import type { PodDirectory } from '../../collector/attribution/pod-directory.js';
import { cliLogger } from '../logger.js';
import { openHistory } from '../history-options.js';
import { thresholdsOf } from '../alert-options.js';
import type { NatsSecurity } from '../../agent/publish/nats-connect-options.js';
import { BearerAuth } from '../../collector/api/bearer-auth.js';
import { apiTokenOf } from '../api-token.js';
import { collectorDetailTlsOf, collectorGrpcTlsOf, httpTlsOf, usableTls } from '../tls-options.js';
import type { CollectorFlags } from './collector.js';

interface Stoppable {
  stop(): Promise<void>;
}

export async function runCollector(flags: CollectorFlags, natsSecurity: NatsSecurity): Promise<void> {
  const logger = cliLogger('fleetstat-collector');
  // Every secret and certificate is read before anything starts: a bad one exits 2, naming its file.
  const token = apiTokenOf(flags);
  const auth = token ? new BearerAuth(token) : undefined;
  const httpTls = httpTlsOf(flags);
  const grpcSecurity = flags.grpc ? await grpcSecurityOf(flags, auth) : undefined;
  const routes: { nats?: DetailClient; grpc?: DetailClient } = {};
  const stops: Stoppable[] = [];
  const readiness: (() => boolean)[] = [];
  const pods = flags.kubernetes ? await watchKubernetes(flags, logger, stops, readiness) : undefined;
  const history = await openHistory(flags, logger);
  // Alerts also go to fleetstat.v1.<cluster>.alert once NATS is connected.
  let publishAlert: ((change: AlertChange) => void) | undefined;
  const collector: Collector = new Collector({
    ...(history ? { history } : {}),
    ...(flags.alerts
      ? {
          alerts: new SurgeDetector({ thresholds: thresholdsOf(flags) }),
          ...(flags.alertEvery ? { alertsEveryMs: flags.alertEvery } : {}),
          onAlert: (change: AlertChange) => publishAlert?.(change),
        }
      : {}),
    ...(pods ? { pods, podSeries: flags.podMetrics === true } : {}),
    cluster: flags.cluster,
    logger,
    maxSnapshotBytes: flags.maxSnapshotBytes,
    detailRate: flags.detailRate,
    ...(auth ? { auth } : {}),
    ...(httpTls ? { tls: httpTls } : {}),
    detail: new RouteDetailClient((node): IngestTransport | undefined => collector.state.registry.get(node)?.transport, routes),
  });
  let started = false;
  // HTTP first, so liveness answers while JetStream recovery runs; /readyz says 503 until then.
  collector.setReadiness(() => started && readiness.every((ready) => ready()));
  try {
    await collector.start(flags.listen.host, flags.listen.port);
    if (flags.nats) {
      const { connectCollectorNats } = await import('../../collector/ingest/nats-connect.js');
      const { NatsIngest } = await import('../../collector/ingest/nats-ingest.js');
      const { NatsDetailClient } = await import('../../collector/detail/nats-detail-client.js');
      const connection = await connectCollectorNats({ servers: flags.nats, name: 'fleetstat-collector', ...natsSecurity, logger });
      // drain() waits for the server; if NATS is already gone (helm uninstall stops both) it
      // would wait forever, so give it a moment and then close.
      stops.push({
        stop: async () => {
          const drained = connection.drain().catch(() => undefined);
          await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
          await connection.close().catch(() => undefined);
        },
      });
      const ingest = new NatsIngest({ connection, cluster: flags.cluster, ingest: collector.state, jetstream: flags.jetstream === true, logger });
      stops.unshift(ingest);
      readiness.push(() => ingest.isReady());
      routes.nats = new NatsDetailClient({ connection, cluster: flags.cluster });
      const alertSubject = `fleetstat.v1.${flags.cluster}.alert`;
      publishAlert = (change) => connection.publish(alertSubject, JSON.stringify({ type: change.type, ...change.alert }));
      await ingest.start();
    }
    if (flags.grpc && grpcSecurity) {
      const { GrpcIngestServer } = await import('../../collector/ingest/grpc-ingest.js');
      const { GrpcDetailClient } = await import('../../collector/detail/grpc-detail-client.js');
      const { addQueryService } = await import('../../collector/api/grpc-query.js');
      const server = new GrpcIngestServer({
        address: formatHostPort(flags.grpc.host, flags.grpc.port),
        ingest: collector.state,
        // Above ingest's own limit, so a snapshot just over it is counted as too_large there.
        maxMessageBytes: 2 * flags.maxSnapshotBytes + 16,
        credentials: grpcSecurity.server,
        serverOptions: grpcSecurity.serverOptions,
        logger,
      });
      addQueryService(server.server, collector);
      const port = await server.start();
      logger.info({ grpc: formatHostPort(flags.grpc.host, port), tls: grpcSecurity.tls }, 'gRPC IngestService and QueryService listening');
      stops.unshift({ stop: () => server.shutdown(5000) });
      const detail = new GrpcDetailClient({
        resolveAddress: (node) => collector.state.registry.get(node)?.snapshot.detailAddress || undefined,
        credentials: grpcSecurity.detail,
        channelOptions: grpcSecurity.detailOptions,
        logger,
      });
      stops.push({ stop: async () => detail.close() });
      routes.grpc = detail;
    }
    started = true;
    logger.info({ nats: Boolean(flags.nats), jetstream: Boolean(flags.jetstream), grpc: Boolean(flags.grpc) }, 'collector ready');
    await Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
    logger.info('stopping');
  } finally {
    for (const s of stops) await s.stop().catch(() => undefined);
    await collector.stop();
  }
}

/** TLS for the gRPC server and the calls to agents' DetailService, and the token QueryService asks for. */
async function grpcSecurityOf(flags: CollectorFlags, auth: BearerAuth | undefined) {
  const { grpcChannelCredentials, grpcChannelOptions, grpcServerCredentials } = await import('../../agent/grpc/grpc-tls.js');
  const { bearerInterceptor } = await import('../../collector/api/grpc-bearer-auth.js');
  const serverTls = collectorGrpcTlsOf(flags);
  const detailTls = collectorDetailTlsOf(flags);
  return {
    tls: serverTls ? (serverTls.clientCa ? 'mutual' : 'server') : 'off',
    server: usableTls(() => grpcServerCredentials(serverTls)),
    // IngestService is guarded by (mutual) TLS; QueryService answers only with the API token.
    serverOptions: auth ? { interceptors: [bearerInterceptor(auth, '/fleetstat.v1.QueryService/')] } : {},
    detail: usableTls(() => grpcChannelCredentials(detailTls)),
    detailOptions: grpcChannelOptions(detailTls),
  };
}

/** One watch of pods (and EndpointSlices) for the whole cluster; fails fast without RBAC. */
async function watchKubernetes(
  flags: CollectorFlags,
  logger: Logger,
  stops: Stoppable[],
  readiness: (() => boolean)[],
): Promise<PodDirectory> {
  const { explicitConfig, inClusterConfig } = await import('../../collector/kubernetes/kube-config.js');
  const { PodWatcher } = await import('../../collector/kubernetes/pod-watcher.js');
  const { EndpointSliceWatcher } = await import('../../collector/kubernetes/endpoint-slice-watcher.js');
  const { kubernetesDirectory } = await import('../../collector/attribution/pod-directory.js');
  const config = flags.kubeApi
    ? explicitConfig({
        server: flags.kubeApi,
        ...(flags.kubeTokenFile ? { token: readFileSync(flags.kubeTokenFile, 'utf8').trim() } : {}),
        ...(flags.kubeCa ? { ca: readFileSync(flags.kubeCa) } : {}),
        ...(flags.kubeInsecure ? { insecureSkipTlsVerify: true } : {}),
      })
    : inClusterConfig();
  const podWatcher = new PodWatcher({ config, logger });
  stops.push(podWatcher);
  readiness.push(() => podWatcher.ready());
  await podWatcher.start();
  let slices: InstanceType<typeof EndpointSliceWatcher> | undefined;
  if (flags.kubeEndpointslices) {
    slices = new EndpointSliceWatcher({ config, logger });
    stops.push(slices);
    readiness.push(() => slices?.ready() ?? true);
    await slices.start();
  }
  logger.info({ pods: podWatcher.index.size, endpointSlices: Boolean(slices) }, 'watching Kubernetes pods');
  return kubernetesDirectory(podWatcher.index, slices?.index);
}
