import { describe, expect, it } from 'vitest';
import { Direction, Table } from '../../proto/gen/fleetstat/v1/snapshot.js';
import { encodeKernelAddress } from '../procfs/inet-address.js';
import { countNamespace } from './count-namespace.js';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

function v4(address: string): string {
  return encodeKernelAddress(Uint8Array.from(address.split('.').map(Number)));
}
function mapped(address: string): string {
  return encodeKernelAddress(Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...address.split('.').map(Number)]));
}
const ANY6 = '0'.repeat(32);
const hex4 = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');
let sl = 0;
function line(local: string, lport: number, remote: string, rport: number, state: number, rx = 0, tx = 0): string {
  return `${String(sl++).padStart(4)}: ${local}:${hex4(lport)} ${remote}:${hex4(rport)} ${state.toString(16).toUpperCase().padStart(2, '0')} ${tx.toString(16).padStart(8, '0')}:${rx.toString(16).padStart(8, '0')} 00:00000000 00000000     0        0 ${1000 + sl} 1 0000000000000000\n`;
}

describe('countNamespace', () => {
  const tcp = Buffer.from(
    HEADER +
      line(v4('0.0.0.0'), 80, v4('0.0.0.0'), 0, 0x0a, 2, 511) +
      line(v4('0.0.0.0'), 9000, v4('0.0.0.0'), 0, 0x0a) +
      line(v4('10.1.0.5'), 80, v4('198.18.0.7'), 40001, 0x01) +
      line(v4('10.1.0.5'), 80, v4('198.18.0.7'), 40002, 0x01) +
      line(v4('10.1.0.5'), 80, v4('198.18.0.8'), 40003, 0x06) +
      line(v4('10.1.0.5'), 80, v4('198.18.0.9'), 40004, 0x03) +
      line(v4('10.1.0.5'), 9000, v4('198.18.0.9'), 40005, 0x01) +
      line(v4('10.1.0.5'), 50000, v4('198.18.0.20'), 8080, 0x01) +
      line(v4('10.1.0.5'), 50001, v4('198.18.0.20'), 8080, 0x08) +
      line(v4('10.1.0.5'), 50002, v4('198.18.0.21'), 5432, 0x01),
  );
  const tcp6 = Buffer.from(
    HEADER +
      line(ANY6, 8443, ANY6, 0, 0x0a) +
      // An IPv4 client of the dual-stack listener: counted with port 8443, shown as IPv4.
      line(mapped('10.1.0.5'), 8443, mapped('198.18.0.7'), 40010, 0x01),
  );
  const counts = countNamespace({ tcp, tcp6 }, { httpPorts: new Set([80, 443, 8080, 8443]), topK: 5 });

  it('classifies inbound by listened HTTP port and outbound by remote HTTP port, per state', () => {
    const http = counts.ports.filter((p) => p.http).map((p) => [p.port, p.direction, p.state, p.count]);
    expect(http).toEqual([
      [80, Direction.DIRECTION_INBOUND, 1, 2],
      [80, Direction.DIRECTION_INBOUND, 3, 1],
      [80, Direction.DIRECTION_INBOUND, 6, 1],
      [8080, Direction.DIRECTION_OUTBOUND, 1, 1],
      [8080, Direction.DIRECTION_OUTBOUND, 8, 1],
      [8443, Direction.DIRECTION_INBOUND, 1, 1],
    ]);
  });

  it('keeps inbound counts of non-HTTP listening ports for the collector, marked not HTTP', () => {
    expect(counts.ports.filter((p) => !p.http)).toEqual([
      { port: 9000, direction: Direction.DIRECTION_INBOUND, state: 1, count: 1, http: false },
    ]);
  });

  it('lists listeners with their accept queue', () => {
    expect(counts.listeners).toEqual([
      { address: '0.0.0.0', port: 80, acceptQueue: 2, http: true },
      { address: '::', port: 8443, acceptQueue: 0, http: true },
      { address: '0.0.0.0', port: 9000, acceptQueue: 0, http: false },
    ]);
  });

  it('ranks remote addresses per HTTP port and direction', () => {
    const port80 = counts.topRemotes.find((r) => r.port === 80);
    expect(port80?.remotes[0]).toEqual({ address: '198.18.0.7', count: 2 });
    expect(port80?.remotes).toHaveLength(3);
    expect(counts.topRemotes.find((r) => r.port === 8443)?.remotes).toEqual([{ address: '198.18.0.7', count: 1 }]);
  });

  it('totals every table by state', () => {
    expect(counts.totals).toContainEqual({ table: Table.TABLE_TCP, state: 0x0a, count: 2 });
    expect(counts.totals).toContainEqual({ table: Table.TABLE_TCP, state: 0x01, count: 5 });
    expect(counts.totals).toContainEqual({ table: Table.TABLE_TCP6, state: 0x01, count: 1 });
    expect(counts.stats).toMatchObject({ lines: 12, badLines: 0 });
  });

  it('bounds the top list and reports the rest as other', () => {
    const many = Buffer.from(
      HEADER +
        line(v4('0.0.0.0'), 80, v4('0.0.0.0'), 0, 0x0a) +
        Array.from({ length: 50 }, (_, i) => line(v4('10.1.0.5'), 80, v4(`198.18.1.${i}`), 30000 + i, 1)).join(''),
    );
    const [remotes] = countNamespace({ tcp: many }, { httpPorts: new Set([80]), topK: 3 }).topRemotes;
    expect(remotes?.remotes).toHaveLength(3);
    expect(remotes?.other).toBe(47);
  });
});
