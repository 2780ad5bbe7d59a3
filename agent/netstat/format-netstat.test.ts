import { describe, expect, it } from 'vitest';
import type { InetSocketRow } from '../procfs/proc-net-inet.js';
import type { NetstatOptions } from './format-netstat.js';
import { formatInetRow, formatUnixRow, showsInet, showsUnix } from './format-netstat.js';
import { NO_NAMES, parseNameTables } from './name-tables.js';

const numeric: NetstatOptions = { all: true, listening: false, numericHosts: true, numericPorts: true, wide: false };
const named: NetstatOptions = { ...numeric, numericHosts: false, numericPorts: false };
const names = parseNameTables(
  'http\t\t80/tcp\t\twww\npostgresql\t5432/tcp\nfirst 7778/tcp\nsecondname 7778/tcp\n' +
    'a-very-long-service-name 9999/tcp\ndomain 53/udp\n',
  'icmp\t1\tICMP\nipv6-icmp 58 IPv6-ICMP\n',
  '127.0.0.1 localhost\n127.0.0.1 other\n10.11.12.13 a-really-long-hostname\n::1 ip6-localhost\n',
);

const row = (over: Partial<InetSocketRow>): InetSocketRow => ({
  family: 4,
  localAddress: '0.0.0.0',
  localPort: 0,
  remoteAddress: '0.0.0.0',
  remotePort: 0,
  state: 10,
  txQueue: 0,
  rxQueue: 0,
  uid: 0,
  inode: 1,
  ...over,
});

describe('netstat rows (lines captured from net-tools 2.10)', () => {
  it('formats TCP with padded state and queues', () => {
    expect(formatInetRow(row({ localPort: 22 }), 'tcp', numeric, NO_NAMES)).toBe(
      'tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN     ',
    );
    expect(
      formatInetRow(
        row({ localAddress: '127.0.0.1', localPort: 8080, remoteAddress: '127.0.0.1', remotePort: 59080, state: 1, rxQueue: 5 }),
        'tcp',
        numeric,
        NO_NAMES,
      ),
    ).toBe('tcp        5      0 127.0.0.1:8080          127.0.0.1:59080         ESTABLISHED');
  });

  it('cuts long IPv6 endpoints to 23 columns, except with -W', () => {
    const v6 = row({
      family: 6,
      localAddress: '2001:db8:1234:5678::',
      localPort: 443,
      remoteAddress: '2001:db8:1234:5678:9abc:def0:1234:5678',
      remotePort: 44400,
      state: 1,
    });
    expect(formatInetRow(v6, 'tcp', numeric, NO_NAMES)).toBe(
      'tcp6       0      0 2001:db8:1234:5678::443 2001:db8:1234:567:44400 ESTABLISHED',
    );
    expect(formatInetRow(v6, 'tcp', { ...numeric, wide: true }, NO_NAMES)).toBe(
      'tcp6       0      0 2001:db8:1234:5678:::443 2001:db8:1234:5678:9abc:def0:1234:5678:44400 ESTABLISHED',
    );
  });

  it('shows IPv4-mapped addresses as IPv4, and UDP and raw states as netstat does', () => {
    expect(
      formatInetRow(row({ family: 6, localAddress: '::ffff:127.0.0.1', localPort: 80, remoteAddress: '::ffff:127.0.0.1', remotePort: 35282, state: 1, rxQueue: 100 }), 'tcp', numeric, NO_NAMES),
    ).toBe('tcp6     100      0 127.0.0.1:80            127.0.0.1:35282         ESTABLISHED');
    expect(formatInetRow(row({ localPort: 53, state: 7, rxQueue: 832 }), 'udp', numeric, NO_NAMES)).toBe(
      'udp      832      0 0.0.0.0:53              0.0.0.0:*                          ',
    );
    expect(formatInetRow(row({ family: 6, localAddress: '::', localPort: 58, remoteAddress: '::', state: 7 }), 'raw', numeric, NO_NAMES)).toBe(
      'raw6       0      0 :::58                   :::*                    7          ',
    );
  });

  it('resolves names from the files, last service entry winning, cut to fit', () => {
    expect(formatInetRow(row({ family: 6, localAddress: '::', localPort: 80, remoteAddress: '::' }), 'tcp', named, names)).toBe(
      'tcp6       0      0 [::]:http               [::]:*                  LISTEN     ',
    );
    expect(formatInetRow(row({ localAddress: '10.11.12.13', localPort: 5432 }), 'tcp', named, names)).toBe(
      'tcp        0      0 a-really-lon:postgresql 0.0.0.0:*               LISTEN     ',
    );
    expect(formatInetRow(row({ localAddress: '127.0.0.1', localPort: 7778 }), 'tcp', named, names)).toContain(
      'localhost:secondname',
    );
    expect(formatInetRow(row({ localAddress: '127.0.0.1', localPort: 9999 }), 'tcp', named, names)).toContain(
      'loca:a-very-long-servic ',
    );
    expect(formatInetRow(row({ localPort: 1, state: 7 }), 'raw', named, names)).toContain('0.0.0.0:icmp ');
    expect(formatInetRow(row({ family: 6, localAddress: '::1', localPort: 8 }), 'tcp', named, names)).toContain(
      'ip6-localhost:8 ',
    );
  });

  it('filters like netstat: TCP by remote port, UDP by remote address', () => {
    const listener = row({ localPort: 80 });
    const established = row({ localPort: 80, remoteAddress: '127.0.0.1', remotePort: 4000, state: 1 });
    const none = { ...numeric, all: false };
    expect([showsInet(listener, 'tcp', none), showsInet(established, 'tcp', none)]).toEqual([false, true]);
    expect([showsInet(listener, 'tcp', { ...none, listening: true }), showsInet(established, 'tcp', { ...none, listening: true })]).toEqual([true, false]);
    expect(showsInet(row({ remoteAddress: '127.0.0.1', remotePort: 0, state: 1 }), 'udp', none)).toBe(true);
  });
});

describe('netstat unix rows', () => {
  const unix = { refCount: 2, protocol: 0, flags: 0x10000, type: 1, state: 1, inode: 9717, path: '/tmp/with space.sock' };
  it('formats flags, type, state and cuts the path at a blank like netstat (whole with -W)', () => {
    expect(formatUnixRow(unix, numeric)).toBe('unix  2      [ ACC ]     STREAM     LISTENING     9717     /tmp/with');
    expect(formatUnixRow(unix, { ...numeric, wide: true })).toContain('/tmp/with space.sock');
    expect(formatUnixRow({ ...unix, flags: 0, type: 2, state: 1, inode: 9721, path: '' }, numeric)).toBe(
      'unix  2      [ ]         DGRAM                    9721     ',
    );
    expect(formatUnixRow({ ...unix, refCount: 3, flags: 0, state: 2, inode: 0, path: '@abstract' }, numeric)).toBe(
      'unix  3      [ ]         STREAM     CONNECTING    0        @abstract',
    );
  });

  it('shows listeners only with -l, everything else without', () => {
    const none = { ...numeric, all: false };
    expect(showsUnix(unix, none)).toBe(false);
    expect(showsUnix(unix, { ...none, listening: true })).toBe(true);
    expect(showsUnix({ ...unix, flags: 0, state: 3 }, none)).toBe(true);
  });
});
