// The socket tables under <proc>/<pid>/net that fleetstat reads.

import type { InetFamily } from './proc-net-inet.js';

export type InetTableName = 'tcp' | 'tcp6' | 'udp' | 'udp6' | 'raw' | 'raw6';
export type TableName = InetTableName | 'unix';
export type Protocol = 'tcp' | 'udp' | 'raw';

export interface InetTable {
  name: InetTableName;
  protocol: Protocol;
  family: InetFamily;
}

/** In netstat's print order. */
export const INET_TABLES: readonly InetTable[] = [
  { name: 'tcp', protocol: 'tcp', family: 4 },
  { name: 'tcp6', protocol: 'tcp', family: 6 },
  { name: 'udp', protocol: 'udp', family: 4 },
  { name: 'udp6', protocol: 'udp', family: 6 },
  { name: 'raw', protocol: 'raw', family: 4 },
  { name: 'raw6', protocol: 'raw', family: 6 },
];

export const TABLE_NAMES: readonly TableName[] = [...INET_TABLES.map((t) => t.name), 'unix'];
