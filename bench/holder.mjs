#!/usr/bin/env node
// holder: fills the network namespace it runs in with idle loopback TCP connections, for the
// benchmark (bench/run.ts). Run it in a namespace of its own, with a raised fd limit:
//
//   ip netns exec NS sh -c 'ulimit -n 300000; exec node bench/holder.mjs --pairs 50000'
//
// Each connection costs this process 2 fds (both ends live here), so where RLIMIT_NOFILE
// cannot be raised (no CAP_SYS_RESOURCE) run several holders, each on its own addresses:
//   --v4 127.0.0.2 --v6 fdfb::2   (any 127/8 address works on lo; add the v6 one first)
// It listens on V4:{80,8080,443,9000} and [V6]:{80,8080} (defaults 127.0.0.1 and ::1) and
// opens --pairs connections to them round robin (--v6-every N: every Nth goes over IPv6),
// in batches of --batch, so the namespace holds 2 * pairs ESTABLISHED sockets plus the
// listeners. Several destination ports keep each (source, destination) pair well inside the
// ephemeral range. When done (or when connecting fails, e.g. out of ports or fds) it prints
// ONE JSON line:
//   { pid, pairs, accepted, listeners, failed, error, ms }
// and then holds everything until stdin closes or SIGTERM/SIGINT arrives. Keep stdin a pipe.
import net from 'node:net';
import { once } from 'node:events';

function parseArgs(argv) {
  const opts = { pairs: 50_000, batch: 1000, v6Every: 10, v4: '127.0.0.1', v6: '::1' };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--v4' || argv[i] === '--v6') {
      if (net.isIP(argv[i + 1] ?? '') !== (argv[i] === '--v4' ? 4 : 6)) throw new Error(`${argv[i]} needs an address`);
      opts[argv[i].slice(2)] = argv[i + 1];
      continue;
    }
    const value = Number(argv[i + 1]);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${argv[i]} needs a whole number`);
    if (argv[i] === '--pairs') opts.pairs = value;
    else if (argv[i] === '--batch') opts.batch = Math.max(1, value);
    else if (argv[i] === '--v6-every') opts.v6Every = value;
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return opts;
}

const V4_PORTS = [80, 8080, 443, 9000];
const V6_PORTS = [80, 8080];

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const held = [];
  let accepted = 0;
  const servers = [];
  const listen = async (host, port) => {
    const server = net.createServer({ pauseOnConnect: true }, (socket) => {
      accepted++;
      socket.on('error', () => {});
      held.push(socket);
    });
    server.listen({ host, port, backlog: 4096 });
    await once(server, 'listening');
    servers.push(server);
  };
  for (const port of V4_PORTS) await listen(opts.v4, port);
  for (const port of V6_PORTS) await listen(opts.v6, port);

  const targets = [];
  for (let i = 0; i < opts.pairs; i++) {
    if (opts.v6Every > 0 && i % opts.v6Every === opts.v6Every - 1) {
      targets.push({ host: opts.v6, port: V6_PORTS[Math.floor(i / opts.v6Every) % V6_PORTS.length] });
    } else {
      targets.push({ host: opts.v4, port: V4_PORTS[i % V4_PORTS.length] });
    }
  }

  let connected = 0;
  let failed = 0;
  let error = null;
  for (let at = 0; at < targets.length && error === null; at += opts.batch) {
    const batch = targets.slice(at, at + opts.batch);
    const results = await Promise.allSettled(
      batch.map(
        (target) =>
          new Promise((resolve, reject) => {
            const socket = net.connect(target);
            socket.once('connect', () => {
              socket.pause();
              socket.on('error', () => {});
              held.push(socket);
              resolve();
            });
            socket.once('error', reject);
          }),
      ),
    );
    for (const r of results) {
      if (r.status === 'fulfilled') connected++;
      else {
        failed++;
        error ??= String(r.reason?.code ?? r.reason);
      }
    }
  }
  // Accepts trail connects by a little; wait for them, bounded.
  for (let i = 0; i < 200 && accepted < connected; i++) await new Promise((r) => setTimeout(r, 25));

  process.stdout.write(
    `${JSON.stringify({
      pid: process.pid,
      pairs: connected,
      accepted,
      listeners: servers.length,
      failed,
      error,
      ms: Date.now() - started,
    })}\n`,
  );

  const stop = () => process.exit(0);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
}

main().catch((err) => {
  process.stderr.write(`holder: ${err?.stack ?? err}\n`);
  process.exit(1);
});
