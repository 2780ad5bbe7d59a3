// Bind and stop a grpc.Server with the failure rules every fleetstat server follows: a bind
// failure is a named error at start-up, and shutdown is bounded in time even when clients
// hold streams open (tryShutdown alone waits for every call to finish).

import type { Server, ServerCredentials } from '@grpc/grpc-js';
import { parseHostPort } from './host-port.js';

export class GrpcServerError extends Error {
  override readonly name = 'GrpcServerError';
}

/** Binds `host:port` (port 0: any free port) and resolves the port actually bound. */
export async function bindServer(server: Server, address: string, credentials: ServerCredentials): Promise<number> {
  try {
    parseHostPort(address, { forListening: true });
  } catch (error) {
    throw new GrpcServerError(`cannot listen on ${address}`, { cause: error });
  }
  return new Promise<number>((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) => {
      if (error) reject(new GrpcServerError(`cannot listen on ${address}: ${error.message}`, { cause: error }));
      else resolve(port);
    });
  });
}

/**
 * Stops accepting calls and waits up to `timeoutMs` for calls in progress to finish, then
 * cancels whatever is left. Resolves either way; never rejects.
 */
export function shutdownServer(server: Server, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      server.forceShutdown();
      finish();
    }, timeoutMs);
    timer.unref();
    server.tryShutdown(() => finish());
  });
}
