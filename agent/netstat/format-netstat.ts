// net-tools netstat's output, byte for byte (netstat.c of net-tools 2.10): headers, the filter
// each of -a/-l applies per table, and the column formats with their truncation and padding.

import type { InetSocketRow } from '../procfs/proc-net-inet.js';
import type { UnixSocketRow } from '../procfs/proc-net-unix.js';
import {
  UNIX_FLAG_ACCEPTCON,
  UNIX_STATE_CONNECTED,
  UNIX_STATE_CONNECTING,
  UNIX_STATE_DISCONNECTING,
  UNIX_STATE_FREE,
  UNIX_STATE_UNCONNECTED,
} from '../procfs/proc-net-unix.js';
import type { Protocol } from '../procfs/net-tables.js';
import { TCP_ESTABLISHED, TCP_CLOSE, tcpStateName } from '../procfs/tcp-states.js';
import type { NameTables } from './name-tables.js';
import { terminalSafe } from './terminal-safe.js';

export interface NetstatOptions {
  all: boolean;
  listening: boolean;
  numericHosts: boolean;
  numericPorts: boolean;
  /** -W: addresses are never cut to fit the 23-character columns. */
  wide: boolean;
}

const SECTION_SCOPE = (o: NetstatOptions): string =>
  o.all ? '(servers and established)' : o.listening ? '(only servers)' : '(w/o servers)';

export function inetHeader(options: NetstatOptions, extraColumn = ''): string[] {
  return [
    `Active Internet connections ${SECTION_SCOPE(options)}`,
    `Proto Recv-Q Send-Q Local Address           Foreign Address         State      ${extraColumn}`,
  ];
}

export function unixHeader(options: NetstatOptions, extraColumn = ''): string[] {
  return [
    `Active UNIX domain sockets ${SECTION_SCOPE(options)}`,
    `Proto RefCnt Flags       Type       State         I-Node   Path${extraColumn ? ` ${extraColumn}` : ''}`,
  ];
}

/** Which rows netstat shows: by remote port for TCP, by remote address for UDP and raw. */
export function showsInet(row: InetSocketRow, protocol: Protocol, options: NetstatOptions): boolean {
  if (options.all) return true;
  const connected = protocol === 'tcp' ? row.remotePort !== 0 : !isAnyAddress(row.remoteAddress);
  return options.listening ? !connected : connected;
}

export function showsUnix(row: UnixSocketRow, options: NetstatOptions): boolean {
  if (options.all) return true;
  const listening = row.state === UNIX_STATE_UNCONNECTED && (row.flags & UNIX_FLAG_ACCEPTCON) !== 0;
  return listening === options.listening;
}

export function formatInetRow(
  row: InetSocketRow,
  protocol: Protocol,
  options: NetstatOptions,
  names: NameTables,
): string {
  const proto = row.family === 6 ? `${protocol}6` : protocol;
  const local = endpoint(row.localAddress, row.localPort, protocol, options, names);
  const remote = endpoint(row.remoteAddress, row.remotePort, protocol, options, names);
  return (
    `${proto.padEnd(5)} ${String(row.rxQueue).padStart(6)} ${String(row.txQueue).padStart(6)} ` +
    `${local.padEnd(23)} ${remote.padEnd(23)} ${stateColumn(row, protocol).padEnd(11)}`
  );
}

function stateColumn(row: InetSocketRow, protocol: Protocol): string {
  if (protocol === 'tcp') return row.state === 0 || row.state > 11 ? '' : tcpStateName(row.state);
  if (protocol === 'raw') return String(row.state);
  return row.state === TCP_ESTABLISHED ? 'ESTABLISHED' : row.state === TCP_CLOSE ? '' : 'UNKNOWN';
}

function endpoint(address: string, port: number, protocol: Protocol, options: NetstatOptions, names: NameTables): string {
  const host = hostText(address, options, names);
  const service = port === 0 ? '*' : ((!options.numericPorts && names.service(port, protocol)) || String(port));
  if (options.wide || host.length + service.length <= 22) return `${host}:${service}`;
  const serviceLength = Math.min(service.length, 18);
  return `${host.slice(0, 22 - serviceLength)}:${service.slice(0, serviceLength)}`;
}

function hostText(address: string, options: NetstatOptions, names: NameTables): string {
  // netstat shows IPv4 clients of dual-stack sockets without the ::ffff: prefix, and never
  // resolves them (getnameinfo finds no /etc/hosts entry for the mapped form).
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  if (options.numericHosts || address === '0.0.0.0') return address;
  if (address === '::') return '[::]';
  return names.host(address) ?? address;
}

function isAnyAddress(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

const UNIX_TYPES: Record<number, string> = { 1: 'STREAM', 2: 'DGRAM', 3: 'RAW', 4: 'RDM', 5: 'SEQPACKET' };

export function formatUnixRow(row: UnixSocketRow, options: NetstatOptions): string {
  let flags = '[ ';
  if (row.flags & UNIX_FLAG_ACCEPTCON) flags += 'ACC ';
  if (row.flags & (1 << 17)) flags += 'W ';
  if (row.flags & (1 << 18)) flags += 'N ';
  flags += ']';
  // netstat reads the path with scanf("%s") and so stops at the first blank; -W shows it whole.
  const path = terminalSafe(options.wide ? row.path : (row.path.split(/\s/, 1)[0] ?? ''));
  return (
    `${'unix'.padEnd(5)} ${String(row.refCount).padEnd(6)} ${flags.padEnd(11)} ` +
    `${(UNIX_TYPES[row.type] ?? 'UNKNOWN').padEnd(10)} ${unixStateName(row).padEnd(13)} ` +
    `${String(row.inode).padEnd(8)} ${path}`
  );
}

function unixStateName(row: UnixSocketRow): string {
  switch (row.state) {
    case UNIX_STATE_FREE:
      return 'FREE';
    case UNIX_STATE_UNCONNECTED:
      return row.flags & UNIX_FLAG_ACCEPTCON ? 'LISTENING' : '';
    case UNIX_STATE_CONNECTING:
      return 'CONNECTING';
    case UNIX_STATE_CONNECTED:
      return 'CONNECTED';
    case UNIX_STATE_DISCONNECTING:
      return 'DISCONNECTING';
    default:
      return 'UNKNOWN';
  }
}
