// Why a TLS connection to NATS timed out. With TLS 1.3 a server that refuses our client
// certificate (none, or signed by a CA it does not trust) says so with an alert after the
// handshake has completed on our side; the NATS client never reads it and reports only a
// time-out, which looks like a slow network and would be retried forever. So when a first
// connect with TLS times out, this dials once more by hand: plain TCP, the server's INFO
// line, the TLS upgrade with the same files, then a short wait for the alert. The reason
// it returns is the one a person needs ("tlsv13 alert certificate required").
import { readFileSync } from 'node:fs';
import { connect as tcpConnect, isIP } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { NatsTls } from './nats-connect-options.js';

/** The TLS failure seen talking to `server`, or undefined when none showed within the wait. */
export async function probeNatsTls(server: string, tls: NatsTls, timeoutMs = 3000): Promise<string | undefined> {
  const url = new URL(server.includes('://') ? server : `nats://${server}`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 4222);
  const socket = tcpConnect({ host, port });
  const timer = setTimeout(() => socket.destroy(), timeoutMs);
  timer.unref();
  try {
    await infoLine(socket);
    return await tlsFailure(socket, host, tls);
  } catch {
    return undefined; // not even the INFO line: not a TLS problem
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}

function infoLine(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (b: Buffer) => {
      seen += b.toString('latin1');
      if (!seen.includes('\r\n')) return;
      socket.off('data', onData);
      socket.pause();
      resolve();
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before INFO')));
  });
}

function tlsFailure(socket: Socket, host: string, tls: NatsTls): Promise<string | undefined> {
  return new Promise((resolve) => {
    const secure = tlsConnect({
      socket,
      ...(isIP(host) ? {} : { servername: host }),
      ...(tls.caFile ? { ca: readFileSync(tls.caFile) } : {}),
      ...(tls.certFile && tls.keyFile ? { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) } : {}),
    });
    secure.once('error', (err: NodeJS.ErrnoException) => resolve(describe(err)));
    // Handshake done on our side: the server's verdict on our certificate comes next, if at all.
    secure.once('secureConnect', () => {
      const wait = setTimeout(() => resolve(undefined), 1000);
      wait.unref();
    });
    secure.once('close', () => resolve(undefined));
  });
}

function describe(err: NodeJS.ErrnoException): string {
  if (/ALERT_(BAD_CERTIFICATE|CERTIFICATE_REQUIRED|UNKNOWN_CA|CERTIFICATE_UNKNOWN)/.test(err.code ?? '')) {
    return `it refused our client certificate (none given, or one not signed by a CA it trusts): ${err.code}`;
  }
  // OpenSSL's text runs over several lines with source paths; the first says what happened.
  return `${(err.message.split('\n')[0] ?? '').replace(/^[0-9A-F]+:error:[0-9A-F]+:/, '')}${err.code ? ` (${err.code})` : ''}`;
}
