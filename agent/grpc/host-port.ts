// host:port for gRPC listeners and targets, checked up front: grpc-js accepts almost any
// string as a target and only fails (and retries forever) when it resolves it, so a typo in
// --grpc would otherwise look like a collector that is down.

import { isIPv4, isIPv6 } from 'node:net';

export class AddressError extends Error {
  override readonly name = 'AddressError';
}

export interface HostPort {
  host: string;
  port: number;
}

/** DNS names as Kubernetes and /etc/hosts spell them (labels of letters, digits, '-', '_'). */
const HOST_NAME = /^(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

/**
 * Parses `host:port` or `[ipv6]:port`. Port 0 (any free port) only when `forListening`.
 * Throws AddressError naming what is wrong.
 */
export function parseHostPort(address: string, options: { forListening?: boolean } = {}): HostPort {
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(address);
  if (!match) {
    const hint = (address.match(/:/g)?.length ?? 0) > 1 ? ' (put an IPv6 address in brackets: [::1]:7070)' : '';
    throw new AddressError(`"${address}" is not host:port${hint}`);
  }
  const [, v6, name, portText] = match;
  const host = v6 ?? name ?? '';
  if (v6 !== undefined ? !isIPv6(host) : !(isIPv4(host) || HOST_NAME.test(host))) {
    throw new AddressError(`"${address}": "${host}" is not a host name or IP address`);
  }
  const port = Number(portText);
  const lowest = options.forListening ? 0 : 1;
  if (port < lowest || port > 65535) {
    throw new AddressError(`"${address}": port ${port} is outside ${lowest}..65535`);
  }
  return { host, port };
}

/** The inverse of parseHostPort: brackets around IPv6 addresses. */
export function formatHostPort(host: string, port: number): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}
