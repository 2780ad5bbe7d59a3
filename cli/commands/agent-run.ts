// The long-running agent: the sampling worker, a publisher for the chosen transport, detail
// requests answered the same way, optional /healthz and /metrics, and a goodbye on SIGTERM.

import { once } from 'node:events';
import type { AgentConfig } from '../../agent/agent-config.js';
import { agentMetrics, agentRoutes } from '../../agent/agent-metrics.js';
import { AgentRunner } from '../../agent/agent-runner.js';
import { formatHostPort } from '../../agent/grpc/host-port.js';
import { RouteServer } from '../../agent/http/route-server.js';
import type { SnapshotPublisher } from '../../agent/publish/snapshot-publisher.js';
import { samplerFor } from '../agent-options.js';
import type { Logger } from 'pino';
import type { Sampler } from '../../agent/sampler/sampler.js';
import { cliLogger } from '../logger.js';
import type { NatsSecurity } from '../../agent/publish/nats-connect-options.js';
import { VERSION } from '../version.js';
import { agentDetailTlsOf, agentGrpcTlsOf, usableTls } from '../tls-options.js';
import type { AgentFlags } from './agent.js';

interface Stoppable {
  stop(): Promise<void>;
}

export async function runAgent(config: AgentConfig, flags: AgentFlags, natsSecurity: NatsSecurity): Promise<void> {
  const logger = cliLogger('fleetstat-agent');
  const sampler = samplerFor(config);
  const extras: Stoppable[] = [];
  let runner: AgentRunner | undefined;
  let http: RouteServer | undefined;
  try {
    const publisher = await publisherFor(config, flags, natsSecurity, sampler, logger, extras);
    runner = new AgentRunner({ config, sampler, publisher: publisher.publisher, logger, version: VERSION, ...(publisher.detailAddress ? { detailAddress: publisher.detailAddress } : {}) });
    http = flags.listen ? new RouteServer(agentRoutes(runner, agentMetrics(runner, publisher.publisher), Date.now()), logger) : undefined;
    await runner.start();
    await publisher.startDetail();
    if (http && flags.listen) await http.listen(flags.listen.host, flags.listen.port);
    await Promise.race([once(process, 'SIGTERM'), once(process, 'SIGINT')]);
    logger.info('stopping');
  } finally {
    await runner?.stop();
    for (const extra of extras) await extra.stop();
    await http?.close();
    await sampler.close();
  }
}

/** The publisher for the chosen transport, and detail requests answered the same way. */
async function publisherFor(
  config: AgentConfig,
  flags: AgentFlags,
  natsSecurity: NatsSecurity,
  sampler: Sampler,
  logger: Logger,
  extras: Stoppable[],
): Promise<{ publisher: SnapshotPublisher; startDetail: () => Promise<void>; detailAddress?: string }> {
  let publisher: SnapshotPublisher;
  let startDetail: () => Promise<void> = async () => undefined;
  let detailAddress: string | undefined;
  if (flags.nats) {
    const { NatsPublisher } = await import('../../agent/publish/nats-publisher.js');
    const { NatsDetailResponder } = await import('../../agent/detail/nats-detail-responder.js');
    const nats = new NatsPublisher({
      cluster: config.cluster,
      node: config.node,
      servers: flags.nats,
      jetstream: flags.jetstream === true,
      // A JetStream ack not back within an interval is superseded by the next snapshot; waiting
      // longer (a server that lost its stream) would hold every later snapshot back with it.
      publishTimeoutMs: Math.min(5000, Math.max(1000, config.intervalMs)),
      name: `fleetstat-agent/${config.node}`,
      ...natsSecurity,
      logger,
    });
    const responder = new NatsDetailResponder({
      link: nats.link, cluster: config.cluster, node: config.node, source: sampler, rateLimit: { perSecond: flags.detailRate }, logger,
    });
    startDetail = () => responder.start();
    extras.push(responder);
    publisher = nats;
  } else {
    const { GrpcPublisher } = await import('../../agent/publish/grpc-publisher.js');
    const { grpcChannelCredentials, grpcServerCredentials } = await import('../../agent/grpc/grpc-tls.js');
    // Certificate files are read now: one that cannot be used stops the agent before it starts.
    const channelCredentials = usableTls(() => grpcChannelCredentials(agentGrpcTlsOf(flags)));
    const detailCredentials = flags.detailListen ? usableTls(() => grpcServerCredentials(agentDetailTlsOf(flags))) : undefined;
    const { probeGrpcTls } = await import('../../agent/grpc/grpc-tls-probe.js');
    const address = flags.grpc ?? '';
    const tls = agentGrpcTlsOf(flags);
    publisher = new GrpcPublisher({ address, credentials: channelCredentials, probeTls: () => probeGrpcTls(address, tls), logger });
    if (flags.detailListen) {
      const { GrpcDetailServer } = await import('../../agent/detail/grpc-detail-server.js');
      const listen = flags.detailListen;
      const server = new GrpcDetailServer({ address: formatHostPort(listen.host, listen.port), source: sampler, node: config.node, ...(detailCredentials ? { credentials: detailCredentials } : {}), rateLimit: { perSecond: flags.detailRate }, logger });
      detailAddress = flags.detailAddress ?? formatHostPort(listen.host, listen.port);
      startDetail = async () => void (await server.start());
      extras.push({ stop: () => server.shutdown(5000) });
    }
  }
  return detailAddress ? { publisher, startDetail, detailAddress } : { publisher, startDetail };
}
