// host:port flags: listening addresses may use port 0 (any free port); targets may not.

import type { HostPort } from '../agent/grpc/host-port.js';
import { parseHostPort } from '../agent/grpc/host-port.js';

export function parseListenAddress(text: string): HostPort {
  return parseHostPort(text, { forListening: true });
}

/** Checked, but kept as text: the transports take "host:port". */
export function parseTargetAddress(text: string): string {
  parseHostPort(text);
  return text;
}

/** nats://host:port[,nats://...]; the NATS client takes the list as given. */
export function parseNatsUrls(text: string): string {
  for (const url of text.split(',')) {
    const parsed = /^(nats|tls|ws|wss):\/\/[^\s/]+$/.exec(url.trim());
    if (!parsed) throw new Error(`"${url}": expected nats://HOST:PORT (comma-separated for several)`);
  }
  return text;
}
