// Service and host names as net-tools netstat finds them without -n, read from files only:
// /etc/services and /etc/protocols for ports, /etc/hosts for addresses (no DNS: a reverse
// lookup per row stalls for seconds on a busy host, and netstat -n users never see it).

import { isIPv6 } from 'node:net';

export type ServiceProtocol = 'tcp' | 'udp' | 'raw';

export interface NameTables {
  service(port: number, protocol: ServiceProtocol): string | undefined;
  host(address: string): string | undefined;
}

/**
 * netstat keeps the last entry of a port in /etc/services (its list is built by prepending),
 * and for raw sockets the protocol names of /etc/protocols win over "raw" services.
 */
export function parseNameTables(services: string, protocols: string, hosts: string): NameTables {
  const byService = new Map<string, string>();
  for (const fields of entries(services)) {
    const match = /^(\d+)\/(\w+)$/.exec(fields[1] ?? '');
    if (match && fields[0]) byService.set(`${match[2]}:${Number(match[1])}`, fields[0]);
  }
  for (const fields of entries(protocols)) {
    const number = Number(fields[1]);
    if (fields[0] && Number.isInteger(number)) byService.set(`raw:${number}`, fields[0]);
  }
  const byAddress = new Map<string, string>();
  for (const fields of entries(hosts)) {
    const [address, name] = fields;
    // The first line naming an address gives its canonical name.
    if (address && name && !byAddress.has(canonicalAddress(address))) byAddress.set(canonicalAddress(address), name);
  }
  return {
    service: (port, protocol) => byService.get(`${protocol}:${port}`),
    host: (address) => byAddress.get(canonicalAddress(address)),
  };
}

export const NO_NAMES: NameTables = { service: () => undefined, host: () => undefined };

function* entries(text: string): Generator<string[]> {
  for (const line of text.split('\n')) {
    const fields = line.replace(/#.*/, '').trim().split(/\s+/);
    if (fields.length >= 2) yield fields;
  }
}

function canonicalAddress(address: string): string {
  if (!isIPv6(address)) return address;
  try {
    return new URL(`http://[${address}]/`).hostname;
  } catch {
    return address;
  }
}
