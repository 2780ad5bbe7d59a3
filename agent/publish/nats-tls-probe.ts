// Why a TLS connection to NATS timed out (see tls-handshake-probe.ts): when a first connect
// with TLS times out, this dials once more by hand: plain TCP, the server's INFO line, then
// the TLS upgrade with the same files and a short wait for the server's alert.
import { connect as tcpConnect } from 'node:net';
import type { Socket } from 'node:net';
import { tlsHandshakeFailure } from '../tls/tls-handshake-probe.js';
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
    return await tlsHandshakeFailure(socket, host, tls);
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
