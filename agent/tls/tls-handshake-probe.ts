// Why a TLS connection failed, found by dialling once more by hand. With TLS 1.3 a server that
// refuses our client certificate (none, or signed by a CA it does not trust) says so with an
// alert after the handshake has completed on our side, and a client speaking plaintext to a TLS
// port just sees the connection close: the NATS and gRPC clients report a time-out or "failed
// to connect", which looks like a peer that is down and would be retried forever. The reasons
// these return are the ones a person needs ("tlsv13 alert certificate required").

import { readFileSync } from 'node:fs';
import { connect as tcpConnect, isIP } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface TlsProbeFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  /** The name to check instead of the host dialled. */
  serverName?: string;
  /** ALPN, as the real client offers it (gRPC: h2). */
  alpn?: string[];
  /**
   * The server speaks first once TLS is up (HTTP/2's SETTINGS). A Node server that refuses a
   * client certificate closes the connection without an alert, so a close before any byte means
   * it refused us.
   */
  serverSpeaksFirst?: boolean;
}

/** TLS as a client on a connected socket with these files; the failure, or undefined when none shows within a second of the handshake. */
export function tlsHandshakeFailure(socket: Socket, host: string, files: TlsProbeFiles): Promise<string | undefined> {
  return new Promise((resolve) => {
    const servername = files.serverName ?? (isIP(host) ? undefined : host);
    const secure = tlsConnect({
      socket,
      ...(servername ? { servername } : {}),
      ...(files.alpn ? { ALPNProtocols: files.alpn } : {}),
      ...(files.caFile ? { ca: readFileSync(files.caFile) } : {}),
      ...(files.certFile && files.keyFile ? { cert: readFileSync(files.certFile), key: readFileSync(files.keyFile) } : {}),
    });
    secure.once('error', (err: NodeJS.ErrnoException) => resolve(describeTlsError(err)));
    // Handshake done on our side: the server's verdict on our certificate comes next, if at all.
    let handshaken = false;
    let spoke = false;
    secure.once('secureConnect', () => {
      handshaken = true;
      const wait = setTimeout(() => resolve(undefined), 1000);
      wait.unref();
    });
    // Read (and drop) what comes: an alert is only seen when the socket reads.
    secure.on('data', () => (spoke = true));
    secure.once('close', () => {
      const silent = handshaken && !spoke && files.serverSpeaksFirst;
      resolve(silent ? `it closed the connection right after the TLS handshake${files.certFile ? ': it does not accept our client certificate (not signed by a CA it trusts)' : ''}` : undefined);
    });
  });
}

/** Whether host:port completes a TLS handshake (any certificate): a TLS server, to a client about to speak plaintext. */
export async function speaksTls(host: string, port: number, timeoutMs = 3000): Promise<boolean> {
  const socket = await connected(host, port, timeoutMs);
  if (!socket) return false;
  try {
    return await new Promise<boolean>((resolve) => {
      const secure = tlsConnect({ socket, rejectUnauthorized: false, ALPNProtocols: ['h2'], ...(isIP(host) ? {} : { servername: host }) });
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      secure.once('secureConnect', () => resolve(true));
      secure.once('error', () => resolve(false));
      secure.once('close', () => resolve(false));
    });
  } finally {
    socket.destroy();
  }
}

/** A TCP connection to host:port, or undefined when none is made within timeoutMs. */
export function connected(host: string, port: number, timeoutMs: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, timeoutMs);
    timer.unref();
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

function describeTlsError(err: NodeJS.ErrnoException): string {
  if (/ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|CERTIFICATE_UNKNOWN)/.test(err.code ?? '')) {
    return `it refused our client certificate (none given, or one not signed by a CA it trusts): ${err.code}`;
  }
  // OpenSSL's text runs over several lines with source paths; the first says what happened.
  return `${(err.message.split('\n')[0] ?? '').replace(/^[0-9A-F]+:error:[0-9A-F]+:/, '')}${err.code ? ` (${err.code})` : ''}`;
}
