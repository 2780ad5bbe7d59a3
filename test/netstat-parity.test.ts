// Live parity: in namespaces full of sockets in every state, `fleetstat netstat` prints the
// rows net-tools `netstat` prints, read at the same moment, and the agent's per-(port, state)
// counts equal `ss`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, deleteAll, linkNamespaces, netnsSupportProblem } from './support/netns.js';
import type { Namespace } from './support/netns.js';
import { startZoo } from './support/zoo.js';
import type { RunningZoo } from './support/zoo.js';
import { FLEETSTAT_BIN } from './support/fleetstat-cli.js';
import { expectedCounts, parseSsTcp } from './support/ss.js';


/** Both tools, one after the other in one shell, inside the namespace. */
async function bothNetstats(ns: Namespace, flags: string): Promise<{ netstat: string[]; fleetstat: string[] }> {
  const { stdout } = await ns.exec('sh', ['-c', `netstat ${flags} && echo @@@ && "${process.execPath}" "${FLEETSTAT_BIN}" netstat ${flags}`]);
  const [netstat = '', ours = ''] = stdout.split('@@@\n');
  return { netstat: netstat.split('\n'), fleetstat: ours.split('\n') };
}

describe('fleetstat netstat equals net-tools netstat on live sockets', () => {
  const namespaces: Namespace[] = [];
  const zoos: RunningZoo[] = [];
  let server: Namespace;
  let client: Namespace;

  beforeAll(async () => {
    const problem = netnsSupportProblem();
    if (problem) throw new Error(`parity tests need network namespaces: ${problem}`);
    await deleteAll();
    server = await createNamespace('parity-srv');
    client = await createNamespace('parity-cli');
    namespaces.push(server, client);
    const link = await linkNamespaces(server, client, {
      v4: ['198.18.9.1/24', '198.18.9.2/24'],
      v6: ['fd00:f1ee:9::1/64', 'fd00:f1ee:9::2/64'],
    });
    zoos.push(await startZoo(server, ['--count', '5']));
    zoos.push(
      await startZoo(client, ['--no-local', '--count', '3', '--remote4', link.a.v4 ?? '', '--remote6', link.a.v6 ?? '']),
    );
  });

  afterAll(async () => {
    for (const zoo of zoos) await zoo.stop();
    for (const ns of namespaces) await ns.delete();
  });

  for (const flags of ['-tan', '-tln', '-uan', '-xa', '-an', '-wan', '-tn', '-ln', '-tuwn', '-taW', '-a', '-x']) {
    it(`${flags}: same rows in the same order`, async () => {
      for (const ns of [server, client]) {
        // The two reads are moments apart: a queue can grow in between (the raw ICMPv6 socket
        // receives neighbour discovery on the veth). A true difference repeats; a race does not.
        let both = await bothNetstats(ns, flags);
        for (let retry = 0; retry < 3 && JSON.stringify(both.fleetstat) !== JSON.stringify(both.netstat); retry++) {
          both = await bothNetstats(ns, flags);
        }
        expect(both.netstat.length).toBeGreaterThan(2);
        expect(both.fleetstat).toEqual(both.netstat);
      }
    });
  }

  it('covers every TCP state the kernel shows, in the compared output', async () => {
    const { netstat: server_ } = await bothNetstats(server, '-tan');
    const { netstat: client_ } = await bothNetstats(client, '-tan');
    const states = new Set([...server_, ...client_].map((l) => l.trim().split(/\s+/)[5]));
    for (const s of ['LISTEN', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSING']) {
      expect(states, s).toContain(s);
    }
  });

  it("agent counts per (port, direction, state) and per state equal ss -Htan's", async () => {
    for (const ns of [server, client]) {
      const { stdout } = await ns.exec('sh', [
        '-c',
        `ss -Htan && echo @@@ && "${process.execPath}" "${FLEETSTAT_BIN}" agent --once --netns self --format json`,
      ]);
      const [ssText = '', json = ''] = stdout.split('@@@\n');
      const rows = parseSsTcp(ssText);
      const snapshot = JSON.parse(json) as {
        namespaces: { ports?: { port: number; direction: string; state: string; count: number; http?: boolean }[]; totals?: { table: string; state?: string; count: number }[] }[];
      };
      const [own] = snapshot.namespaces;
      if (!own) throw new Error('no namespace in the snapshot');

      const expected = expectedCounts(rows, new Set([80, 443, 8080, 8443]), false);
      const direction = (d: string): string => d.replace('DIRECTION_', '').toLowerCase();
      const got = new Map((own.ports ?? []).map((p) => [`${p.port}/${direction(p.direction)}/${p.state.replace('TCP_STATE_', '')}`, p.count]));
      expect(Object.fromEntries(got)).toEqual(Object.fromEntries(expected));
      expect([...expected.keys()].some((k) => k.startsWith('80/'))).toBe(true);

      // Totals per state over tcp + tcp6 equal ss's per-state counts.
      const perState = new Map<string, number>();
      for (const r of rows) perState.set(r.state, (perState.get(r.state) ?? 0) + 1);
      const totals = new Map<string, number>();
      for (const t of own.totals ?? []) {
        if (t.table !== 'TABLE_TCP' && t.table !== 'TABLE_TCP6') continue;
        const state = (t.state ?? '').replace('TCP_STATE_', '');
        totals.set(state, (totals.get(state) ?? 0) + t.count);
      }
      expect(Object.fromEntries(totals)).toEqual(Object.fromEntries(perState));
    }
  });
});
