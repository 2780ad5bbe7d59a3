// The NATS image through testcontainers: the fallback when no nats-server binary can be had.
// The host port is fixed at start so that restart() keeps it, as the process path does.
// Untested here (no Docker engine on this machine); kept small for that reason.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { GenericContainer, Wait } from 'testcontainers';
import type { StartedTestContainer } from 'testcontainers';
import type { NatsServer, NatsServerOptions } from './nats-server.js';

const execFileP = promisify(execFile);
// Same line as Debian's package, so tests see the same server features either way.
const IMAGE = 'nats:2.9.10';
const STORE = '/data';

export async function startNatsContainer(opts: NatsServerOptions, port: number): Promise<NatsServer> {
  const jetstream = opts.jetstream ?? true;
  const container: StartedTestContainer = await new GenericContainer(IMAGE)
    .withCommand([...(jetstream ? ['-js', '-sd', STORE] : []), ...(opts.args ?? [])])
    .withExposedPorts({ container: 4222, host: port })
    .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
    .start();
  let stopped = false;
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir: jetstream ? `${STORE} (inside container ${container.getId().slice(0, 12)})` : '',
    pid: undefined,
    async stop() {
      if (stopped) return;
      stopped = true;
      await container.stop();
    },
    async restart() {
      await container.restart();
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      await execFileP('docker', ['kill', `--signal=${signal}`, container.getId()]);
    },
  };
}
