#!/usr/bin/env node
// Real HTTP peers for end-to-end tests, run inside a namespace:
//   node http-peers.mjs server PORT              an HTTP/1.1 server that keeps connections open
//   node http-peers.mjs client HOST PORT N       N keep-alive connections, each after one request
// Prints "ready" once everything is up, then holds until stdin closes or SIGTERM.
import http from 'node:http';
import net from 'node:net';

const [mode, ...args] = process.argv.slice(2);
const held = [];

function hold() {
  console.log('ready');
  process.stdin.on('end', () => process.exit(0)).resume();
  process.on('SIGTERM', () => process.exit(0));
}

if (mode === 'server') {
  const server = http.createServer((req, res) => res.end('ok\n'));
  server.keepAliveTimeout = 600_000;
  server.headersTimeout = 0;
  server.requestTimeout = 0;
  server.listen(Number(args[0]), '0.0.0.0', hold);
} else if (mode === 'client') {
  const [host, port, count] = [args[0], Number(args[1]), Number(args[2])];
  let done = 0;
  for (let i = 0; i < count; i++) {
    const socket = net.connect(port, host, () => socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n\r\n`));
    socket.once('data', () => {
      if (++done === count) hold();
    });
    socket.on('error', (error) => {
      console.error(`connection ${i} to ${host}:${port}: ${error.message}`);
      process.exit(1);
    });
    held.push(socket);
  }
} else {
  console.error('usage: http-peers.mjs server PORT | client HOST PORT N');
  process.exit(2);
}
