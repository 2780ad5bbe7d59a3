// TLS for every fleetstat gRPC connection (IngestService, QueryService, DetailService), from
// PEM files read once at start-up (pem-files.ts). No TLS settings: plaintext, as before.

import type { ChannelCredentials, ChannelOptions, ServerCredentials } from '@grpc/grpc-js';
import { credentials as channelCredentials, ServerCredentials as Server } from '@grpc/grpc-js';
import { readCertificates, readKeyPair } from '../tls/pem-files.js';

/** A gRPC server's side: its certificate, and the CA its clients' certificates must chain to (mutual TLS). */
export interface GrpcServerTls {
  cert: string;
  key: string;
  /** Require a client certificate signed by this CA. Without it any client may connect. */
  clientCa?: string;
}

/** A gRPC client's side: whom it trusts and, for mutual TLS, its own certificate. */
export interface GrpcClientTls {
  /** CA(s) the server's certificate must chain to; without it the system's roots. */
  ca?: string;
  cert?: string;
  key?: string;
  /** The name checked in the server's certificate instead of the dialled host (agents are dialled by pod IP). */
  serverName?: string;
}

/** Insecure without settings; throws TlsFileError for a file that cannot be used. */
export function grpcServerCredentials(tls: GrpcServerTls | undefined): ServerCredentials {
  if (!tls) return Server.createInsecure();
  const { cert, key } = readKeyPair(tls.cert, tls.key);
  const clientCa = tls.clientCa ? readCertificates(tls.clientCa, 'client CA') : null;
  return Server.createSsl(clientCa, [{ cert_chain: cert, private_key: key }], clientCa !== null);
}

/** Insecure without settings; throws TlsFileError for a file that cannot be used. */
export function grpcChannelCredentials(tls: GrpcClientTls | undefined): ChannelCredentials {
  if (!tls) return channelCredentials.createInsecure();
  const ca = tls.ca ? readCertificates(tls.ca, 'CA') : null;
  const pair = tls.cert && tls.key ? readKeyPair(tls.cert, tls.key) : undefined;
  return channelCredentials.createSsl(ca, pair?.key ?? null, pair?.cert ?? null);
}

export function grpcChannelOptions(tls: GrpcClientTls | undefined): ChannelOptions {
  return tls?.serverName ? { 'grpc.ssl_target_name_override': tls.serverName } : {};
}

// OpenSSL's and Node's wording for a handshake that failed: an unknown CA, a name that does not
// match, a certificate the peer wanted and did not get, TLS spoken to a plaintext port.
const TLS_FAILURE = /certificate|SSL routines|self[- ]signed|unable to (?:verify|get)|handshake|tlsv1\d? alert|Hostname\/IP does not match|ERR_TLS|wrong version number|packet length too long/i;

/** Whether a connection failure's text says the TLS handshake failed (rather than the peer being down). */
export function isTlsFailure(details: string): boolean {
  return TLS_FAILURE.test(details);
}

/** What a person should check for a TLS failure, in the flags' words; undefined when it says nothing more. */
export function tlsFailureHint(details: string): string | undefined {
  if (/certificate required|peer did not return a certificate/i.test(details)) {
    return 'the server requires a client certificate (--grpc-cert/--grpc-key)';
  }
  if (/alert (?:unknown ca|bad certificate|certificate unknown)/i.test(details)) {
    return 'the server does not accept our certificate (--grpc-cert is not signed by a CA it trusts)';
  }
  if (/self[- ]signed|unable to (?:verify|get)|certificate chain/i.test(details)) {
    return "the server's certificate is not signed by the CA given (--grpc-ca)";
  }
  if (/Hostname\/IP does not match/i.test(details)) return "the server's certificate does not name the address dialled";
  if (/wrong version number|packet length too long/i.test(details)) return 'one side speaks TLS and the other plaintext';
  return undefined;
}

/** grpc-js's "No connection established. Last error: ... (timestamp). Resolution note: " down to the error. */
export function connectionFailureText(details: string): string {
  return details
    .replace(/^No connection established\. Last error: (?:Error: )?/, '')
    .replace(/\s*\(\d{4}-\d\d-\d\dT[^)]*\)/, '')
    .replace(/\.?\s*Resolution note:\s*$/, '')
    .replace(/^[0-9A-F]+:error:[0-9A-F]+:SSL routines:[^:]*:([^:]+):.*$/s, 'TLS alert: $1')
    .trim();
}
