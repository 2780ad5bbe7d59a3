// TLS flags: file paths only (certificates and keys are read at start-up, never passed as
// values). gRPC for agent and collector, HTTPS for the collector's --listen. A file that cannot
// be used is a UsageError naming it (exit 2).

import type { Command } from 'commander';
import type { GrpcClientTls, GrpcServerTls } from '../agent/grpc/grpc-tls.js';
import type { KeyPair } from '../agent/tls/pem-files.js';
import { readKeyPair, TlsFileError } from '../agent/tls/pem-files.js';
import { UsageError } from './usage-error.js';

export interface AgentTlsFlags {
  grpcCa?: string;
  grpcCert?: string;
  grpcKey?: string;
}

export interface CollectorGrpcTlsFlags {
  grpcTlsCert?: string;
  grpcTlsKey?: string;
  grpcClientCa?: string;
  detailServerName?: string;
}

export interface HttpTlsFlags {
  tlsCert?: string;
  tlsKey?: string;
}

export function addAgentTlsOptions(command: Command): Command {
  return command
    .option('--grpc-ca <file>', "with --grpc: TLS, trusting this CA for the collector's certificate")
    .option('--grpc-cert <file>', "with --grpc: this agent's certificate (mutual TLS; also DetailService's server certificate)")
    .option('--grpc-key <file>', 'the private key of --grpc-cert');
}

export function addCollectorGrpcTlsOptions(command: Command): Command {
  return command
    .option('--grpc-tls-cert <file>', 'with --grpc: serve TLS with this certificate (also the client certificate for DetailService calls)')
    .option('--grpc-tls-key <file>', 'the private key of --grpc-tls-cert')
    .option('--grpc-client-ca <file>', "require agents' client certificates signed by this CA (mutual TLS); also trusted for their DetailService")
    .option('--detail-server-name <name>', "the name checked in agents' DetailService certificates (they are dialled by IP)");
}

export function addHttpTlsOptions(command: Command): Command {
  return command
    .option('--tls-cert <file>', 'serve HTTPS on --listen with this certificate')
    .option('--tls-key <file>', 'the private key of --tls-cert');
}

function pairOf(cert: string | undefined, key: string | undefined, certFlag: string, keyFlag: string): { cert: string; key: string } | undefined {
  if (Boolean(cert) !== Boolean(key)) throw new UsageError(`${certFlag} and ${keyFlag} go together`);
  return cert && key ? { cert, key } : undefined;
}

/** The agent's side of IngestService; undefined: plaintext. */
export function agentGrpcTlsOf(flags: AgentTlsFlags): GrpcClientTls | undefined {
  const pair = pairOf(flags.grpcCert, flags.grpcKey, '--grpc-cert', '--grpc-key');
  if (!flags.grpcCa && !pair) return undefined;
  return { ...(flags.grpcCa ? { ca: flags.grpcCa } : {}), ...pair };
}

/**
 * The agent's DetailService: TLS with the agent's own certificate whenever its stream is TLS
 * (socket rows must not travel in the clear when snapshots do not), and client certificates
 * required and checked against --grpc-ca when given.
 */
export function agentDetailTlsOf(flags: AgentTlsFlags): GrpcServerTls | undefined {
  const client = agentGrpcTlsOf(flags);
  if (!client) return undefined;
  if (!client.cert || !client.key) throw new UsageError('--detail-listen over TLS needs --grpc-cert and --grpc-key (DetailService serves with them)');
  return { cert: client.cert, key: client.key, ...(client.ca ? { clientCa: client.ca } : {}) };
}

/** The collector's gRPC server; undefined: plaintext. */
export function collectorGrpcTlsOf(flags: CollectorGrpcTlsFlags): GrpcServerTls | undefined {
  const pair = pairOf(flags.grpcTlsCert, flags.grpcTlsKey, '--grpc-tls-cert', '--grpc-tls-key');
  if (!pair) {
    if (flags.grpcClientCa || flags.detailServerName) throw new UsageError('--grpc-client-ca and --detail-server-name need --grpc-tls-cert and --grpc-tls-key');
    return undefined;
  }
  return { ...pair, ...(flags.grpcClientCa ? { clientCa: flags.grpcClientCa } : {}) };
}

/** The collector's calls to agents' DetailService: TLS when its own server is, presenting its certificate. */
export function collectorDetailTlsOf(flags: CollectorGrpcTlsFlags): GrpcClientTls | undefined {
  const server = collectorGrpcTlsOf(flags);
  if (!server) return undefined;
  return {
    cert: server.cert,
    key: server.key,
    ...(server.clientCa ? { ca: server.clientCa } : {}),
    ...(flags.detailServerName ? { serverName: flags.detailServerName } : {}),
  };
}

/** HTTPS for --listen, read now; undefined: plain HTTP. */
export function httpTlsOf(flags: HttpTlsFlags): KeyPair | undefined {
  const pair = pairOf(flags.tlsCert, flags.tlsKey, '--tls-cert', '--tls-key');
  return pair ? usableTls(() => readKeyPair(pair.cert, pair.key)) : undefined;
}

/** Runs a step that reads TLS files; a file that cannot be used becomes a UsageError (exit 2). */
export function usableTls<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof TlsFileError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}
