// `fleetstat agent`: sample this node's network namespaces and publish snapshots over NATS or
// gRPC (agent-run.ts, loaded only then), or print one snapshot with --once.

import type { Command } from 'commander';
import type { HostPort } from '../../agent/grpc/host-port.js';
import { Snapshot } from '../../proto/gen/fleetstat/v1/snapshot.js';
import { buildSnapshot, newEpoch } from '../../agent/snapshot/build-snapshot.js';
import type { SamplingFlags } from '../agent-options.js';
import { addSamplingOptions, agentConfigOf, argParser, samplerFor } from '../agent-options.js';
import { parseListenAddress, parseNatsUrls, parseTargetAddress } from '../address-options.js';
import { UsageError } from '../usage-error.js';
import { DEFAULT_DETAIL_RATE, parseRate } from '../rate-options.js';
import type { NatsCredentialFlags } from '../nats-credentials.js';
import { addNatsCredentialOptions, natsCredentialsOf } from '../nats-credentials.js';
import type { AgentTlsFlags } from '../tls-options.js';
import { addAgentTlsOptions, agentGrpcTlsOf } from '../tls-options.js';
import { VERSION } from '../version.js';
import { writeOut } from '../write-out.js';

type Format = 'json' | 'proto';

export interface AgentFlags extends SamplingFlags, NatsCredentialFlags, AgentTlsFlags {
  once?: boolean;
  format: Format;
  nats?: string;
  jetstream?: boolean;
  grpc?: string;
  listen?: HostPort;
  detailListen?: HostPort;
  detailAddress?: string;
  detailRate: number;
}

export function registerAgent(program: Command): void {
  addAgentTlsOptions(addNatsCredentialOptions(addSamplingOptions(program.command('agent').description('sample this node and publish snapshots'))))
    .option('--nats <urls>', 'publish to NATS, e.g. nats://nats:4222', argParser(parseNatsUrls))
    .option('--jetstream', 'with --nats: publish through JetStream (de-duplicated, kept for collector restarts)')
    .option('--grpc <host:port>', "publish to a collector's gRPC IngestService", argParser(parseTargetAddress))
    .option('--detail-listen <host:port>', 'with --grpc: serve detail requests (DetailService) here', argParser(parseListenAddress))
    .option('--detail-address <host:port>', 'with --detail-listen: the address collectors dial (default: --detail-listen)', argParser(parseTargetAddress))
    .option('--detail-rate <n>', 'detail requests per second one requester may make (burst: twice that)', argParser(parseRate), DEFAULT_DETAIL_RATE)
    .option('--listen <host:port>', 'serve /healthz and /metrics here', argParser(parseListenAddress))
    .option('--once', 'take one sample, print the snapshot it would publish, and exit')
    .option('--format <format>', 'with --once: json or proto (binary protobuf)', argParser(parseFormat), 'json')
    .action(async (flags: AgentFlags) => {
      const config = agentConfigOf(flags);
      if (flags.once) return printOnce(flags);
      if ((flags.nats === undefined) === (flags.grpc === undefined)) {
        throw new UsageError('give exactly one of --nats URL or --grpc HOST:PORT (or --once to print a snapshot)');
      }
      if (flags.jetstream && !flags.nats) throw new UsageError('--jetstream needs --nats');
      if (flags.detailListen && !flags.grpc) throw new UsageError('--detail-listen is for --grpc (over NATS, detail requests use NATS)');
      if (flags.detailAddress && !flags.detailListen) throw new UsageError('--detail-address needs --detail-listen');
      if (agentGrpcTlsOf(flags) && !flags.grpc) throw new UsageError('--grpc-ca, --grpc-cert and --grpc-key are for --grpc');
      const credentials = natsCredentialsOf(flags);
      return (await import('./agent-run.js')).runAgent(config, flags, credentials);
    });
}

async function printOnce(flags: AgentFlags): Promise<void> {
  const config = agentConfigOf(flags);
  const sampler = samplerFor(config);
  try {
    const sample = await sampler.sample(Math.max(config.intervalMs, 30_000));
    const snapshot = buildSnapshot({ ...config, epoch: newEpoch(), version: VERSION }, 1, Date.now(), sample);
    await writeOut(
      flags.format === 'proto' ? Snapshot.encode(snapshot).finish() : `${JSON.stringify(Snapshot.toJSON(snapshot), null, 2)}\n`,
    );
  } finally {
    await sampler.close();
  }
}

function parseFormat(text: string): Format {
  if (text !== 'json' && text !== 'proto') throw new Error(`"${text}": expected json or proto`);
  return text;
}
