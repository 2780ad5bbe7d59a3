// The test server helper itself: real process, same port and store across restart, SIGKILL, clean stop.
import { existsSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseNatsServerSource, startNatsServer } from './nats-server.js';
import type { NatsServer } from './nats-server.js';

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(true));
  });
}

describe('startNatsServer', () => {
  let server: NatsServer | undefined;
  afterAll(async () => server?.stop());

  it('runs a real JetStream server that keeps its port and store across SIGKILL and restart', async () => {
    server = await startNatsServer({ jetstream: true });
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
    expect(existsSync(server.storeDir)).toBe(true);
    const firstPid = server.pid;

    const nc = await connect({ servers: server.url });
    expect(nc.info?.jetstream).toBe(true);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'HELPER', subjects: ['helper.>'] });
    nc.publish('helper.a', 'x');
    await nc.flush();
    await nc.close();

    await server.kill('SIGKILL');
    expect(await refused(server.port)).toBe(true);
    await server.restart();
    expect(server.pid).not.toBe(firstPid);

    const nc2 = await connect({ servers: server.url });
    const info = await (await jetstreamManager(nc2)).streams.info('HELPER');
    expect(info.state.messages).toBe(1);
    await nc2.close();

    const dir = server.storeDir;
    await server.stop();
    await server.stop();
    expect(existsSync(dir)).toBe(false);
    expect(await refused(server.port)).toBe(true);
  });

  it('names the fix when no server can be had', () => {
    expect(chooseNatsServerSource({ onPath: true, isRoot: false, docker: false })).toBe('path');
    expect(chooseNatsServerSource({ onPath: false, isRoot: true, docker: true })).toBe('apt');
    expect(chooseNatsServerSource({ onPath: false, isRoot: false, docker: true })).toBe('container');
    expect(() => chooseNatsServerSource({ onPath: false, isRoot: false, docker: false })).toThrow(/apt-get install -y nats-server/);
  });
});
