// Kernel TCP state codes (include/net/tcp_states.h) and their netstat spellings.

export const TCP_ESTABLISHED = 0x01;
export const TCP_SYN_RECV = 0x03;
export const TCP_CLOSE = 0x07;
export const TCP_LISTEN = 0x0a;
export const TCP_NEW_SYN_RECV = 0x0c;
export const TCP_MAX_STATE = 0x0c;

/** netstat's names, indexed by state code; 0 is unused by the kernel. */
const NAMES = [
  'UNKNOWN',
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
  'NEW_SYN_RECV',
] as const;

export type TcpStateName = (typeof NAMES)[number];

export function tcpStateName(code: number): TcpStateName {
  return NAMES[code] ?? 'UNKNOWN';
}

export function tcpStateCode(name: string): number {
  const code = (NAMES as readonly string[]).indexOf(name.toUpperCase());
  return code <= 0 ? -1 : code;
}
