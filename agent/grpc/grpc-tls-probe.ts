// Why a first gRPC connection failed when grpc-js says only "failed to connect": a plaintext
// client at a TLS port, or (TLS 1.3) a server refusing our client certificate after the
// handshake. Dials once by hand (tls-handshake-probe.ts); undefined when TLS is not the problem
// (nothing listening, say), so the caller keeps retrying as for a collector that is down.

import { connected, speaksTls, tlsHandshakeFailure } from '../tls/tls-handshake-probe.js';
import type { GrpcClientTls } from './grpc-tls.js';
import { parseHostPort } from './host-port.js';

const PROBE_TIMEOUT_MS = 3000;

export async function probeGrpcTls(address: string, tls: GrpcClientTls | undefined): Promise<string | undefined> {
  const { host, port } = parseHostPort(address);
  if (!tls) {
    return (await speaksTls(host, port, PROBE_TIMEOUT_MS))
      ? 'it serves TLS and we speak plaintext (give --grpc-ca, and --grpc-cert/--grpc-key if it asks for client certificates)'
      : undefined;
  }
  const socket = await connected(host, port, PROBE_TIMEOUT_MS);
  if (!socket) return undefined;
  // A peer that never answers the ClientHello: the close this causes ends the probe.
  const timer = setTimeout(() => socket.destroy(), PROBE_TIMEOUT_MS);
  timer.unref();
  try {
    const files = { alpn: ['h2'], serverSpeaksFirst: true, ...(tls.ca ? { caFile: tls.ca } : {}), ...(tls.cert && tls.key ? { certFile: tls.cert, keyFile: tls.key } : {}) };
    return await tlsHandshakeFailure(socket, host, tls.serverName ? { ...files, serverName: tls.serverName } : files);
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}
