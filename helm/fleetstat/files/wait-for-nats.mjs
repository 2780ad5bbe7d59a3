// Init container of the collector when the chart runs its own NATS: wait until the server
// answers with its INFO line. The collector fails fast when NATS is down at start (right for
// an external NATS), which on a fresh install would cost crash-loop back-offs while the
// embedded server's image is still being pulled. Settings come from the env: NATS_HOST, NATS_PORT, WAIT_SECONDS.
import { connect } from 'node:net';

const { NATS_HOST: host = '127.0.0.1', NATS_PORT: port = '4222', WAIT_SECONDS: seconds = '300' } = process.env;
const deadline = Date.now() + Number(seconds) * 1000;

const answers = () =>
  new Promise((resolve) => {
    const socket = connect({ host, port: Number(port) });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(3000, () => done(false));
    socket.once('data', (b) => done(b.toString('latin1').startsWith('INFO ')));
    socket.once('error', () => done(false));
  });

while (!(await answers())) {
  if (Date.now() > deadline) {
    console.error(`NATS at ${host}:${port} did not answer within ${seconds} s`);
    process.exit(1);
  }
  await new Promise((r) => setTimeout(r, 1000));
}
console.log(`NATS at ${host}:${port} answers`);
