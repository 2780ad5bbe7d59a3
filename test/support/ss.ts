// `ss` output as tests compare it with fleetstat's: state names in netstat spelling, and the
// agent's HTTP rule applied to ss's rows (the independent side of every count comparison).

export const SS_STATE: Record<string, string> = {
  ESTAB: 'ESTABLISHED', 'SYN-SENT': 'SYN_SENT', 'SYN-RECV': 'SYN_RECV', 'FIN-WAIT-1': 'FIN_WAIT1',
  'FIN-WAIT-2': 'FIN_WAIT2', 'TIME-WAIT': 'TIME_WAIT', 'CLOSE-WAIT': 'CLOSE_WAIT', 'LAST-ACK': 'LAST_ACK',
  LISTEN: 'LISTEN', CLOSING: 'CLOSING', UNCONN: 'CLOSE',
};

export interface SsTcpRow {
  state: string;
  localPort: number;
  remotePort: number;
}

/** Rows of `ss -Htan` (State Recv-Q Send-Q Local Peer). */
export function parseSsTcp(text: string): SsTcpRow[] {
  const port = (endpoint: string): number => Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [st = '', , , local = '', peer = ''] = line.trim().split(/\s+/);
      return { state: SS_STATE[st] ?? st, localPort: port(local), remotePort: port(peer) };
    });
}

/**
 * Counts keyed `port/direction/state` by the agent's rule: inbound when the local port is
 * listened on here (for every listening port, HTTP or not, unless the remote port is HTTP),
 * outbound when the remote port is HTTP. `httpOnly` keeps HTTP ports only.
 */
export function expectedCounts(rows: readonly SsTcpRow[], httpPorts: ReadonlySet<number>, httpOnly: boolean): Map<string, number> {
  const listening = new Set(rows.filter((r) => r.state === 'LISTEN').map((r) => r.localPort));
  const counts = new Map<string, number>();
  for (const r of rows) {
    if (r.state === 'LISTEN') continue;
    let key: string | undefined;
    if (listening.has(r.localPort) && (httpPorts.has(r.localPort) || !httpPorts.has(r.remotePort))) {
      if (!httpOnly || httpPorts.has(r.localPort)) key = `${r.localPort}/inbound/${r.state}`;
    } else if (httpPorts.has(r.remotePort)) key = `${r.remotePort}/outbound/${r.state}`;
    if (key) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}
