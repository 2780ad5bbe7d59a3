// A test LAN: a bridge in this (root) namespace with an address of its own, and one veth port
// per namespace. Hosts in namespaces reach each other and servers bound to the bridge address;
// the bridge has no uplink, so nothing leaves the machine.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { Namespace } from './netns.js';

const run = promisify(execFile);

export interface TestLan {
  /** The bridge's own address (root namespace), e.g. 198.18.40.1. */
  gateway: string;
  /** Give `ns` the next address on the LAN and return it. */
  attach(ns: Namespace): Promise<string>;
  delete(): Promise<void>;
}

/** `subnet` picks 198.18.<subnet>.0/24; use a different one per concurrent test file. */
export async function createLan(subnet: number): Promise<TestLan> {
  const id = randomBytes(3).toString('hex');
  const bridge = `fsbr${id}`;
  const prefix = `198.18.${subnet}`;
  await removeLeftovers(`${prefix}.1`);
  await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
  await run('ip', ['addr', 'add', `${prefix}.1/24`, 'dev', bridge]);
  await run('ip', ['link', 'set', bridge, 'up']);
  let next = 2;
  const ports: string[] = [];
  return {
    gateway: `${prefix}.1`,
    async attach(ns) {
      const host = next++;
      const outside = `fsv${id}${host}`;
      await run('ip', ['link', 'add', outside, 'type', 'veth', 'peer', 'name', 'lan0', 'netns', ns.name]);
      ports.push(outside);
      await run('ip', ['link', 'set', outside, 'master', bridge, 'up']);
      await run('ip', ['-n', ns.name, 'addr', 'add', `${prefix}.${host}/24`, 'dev', 'lan0']);
      await run('ip', ['-n', ns.name, 'link', 'set', 'lan0', 'up']);
      return `${prefix}.${host}`;
    },
    async delete() {
      for (const port of ports) await run('ip', ['link', 'del', port]).catch(() => undefined);
      await run('ip', ['link', 'del', bridge]).catch(() => undefined);
    },
  };
}

/** A crashed run's bridge still holding the gateway address would swallow the new LAN's traffic. */
async function removeLeftovers(gateway: string): Promise<void> {
  const { stdout } = await run('ip', ['-o', '-4', 'addr', 'show']);
  for (const line of stdout.split('\n')) {
    const match = /^\d+:\s+(fsbr[0-9a-f]+)\s+inet\s+([\d.]+)\//.exec(line);
    if (match?.[1] && match[2] === gateway) await run('ip', ['link', 'del', match[1]]).catch(() => undefined);
  }
}
