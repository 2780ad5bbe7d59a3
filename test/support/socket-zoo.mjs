#!/usr/bin/env node
// socket-zoo: fills the network namespace it runs in with sockets in as many kernel
// states as possible, so parsers of /proc/<pid>/net/* can be tested against real tables.
//
//   ip netns exec NS node test/support/socket-zoo.mjs [--count N]
//   ip netns exec NS2 node test/support/socket-zoo.mjs --no-local --remote4 ADDR --remote6 ADDR6
//
// Options
//   --count N        ESTABLISHED pairs per target (6 targets, see below); default 2.
//                    Each pair costs 2 fds; RLIMIT_NOFILE bounds N.
//   --remote4 ADDR   another zoo listens at ADDR (IPv4, e.g. a veth peer 198.18.0.1):
//   --remote6 ADDR   connect N times to its :80 and :443 (ESTABLISHED), once to its
//                    :8080 (SYN_SENT here: its accept queue is full) and once to its
//                    :8000 (ESTABLISHED here, SYN_RECV there: it defers accept).
//   --no-local       make only the --remote connections (the "peer" side).
//   --python PATH    python3 for socket_zoo_helper.py (default $FLEETSTAT_PYTHON or python3).
//
// Run it in a namespace of its own: it binds fixed ports (80, 443, 8080, 8443, 8000,
// 5432, 6379, udp 443/5353) and its self-check expects the namespace to hold nothing else.
//
// When every socket is in place (checked against /proc/self/net/{tcp,tcp6,udp,udp6}) it
// prints ONE JSON line to stdout:
//   { pid, helperPid, count, timeWaitUntil, httpPorts, unixDir,
//     tcp:  [{ file: 'tcp'|'tcp6', state, localPort | remotePort, count, why }],
//     udp:  [{ file: 'udp'|'udp6', state: 'CLOSE'|'ESTABLISHED', localPort | remotePort, count, why }],
//     raw:  [{ file: 'raw'|'raw6', protocol, state: 'CLOSE', count }],
//     unix: [{ path: string|null ('@name' = abstract), type: 'stream'|'dgram'|'seqpacket',
//              state: 'LISTEN'|'CONNECTED'|'UNCONNECTED', count, exact, why }],
//     remoteTcp: [...like tcp: what the --remote namespace must now show because of us] }
// State names are the kernel's (include/net/tcp_states.h). Rows with the same
// (file, state, port) are merged. Counts are exact, except unix rows with exact=false:
// child_process stdio pipes are unnamed unix socketpairs too. TIME_WAIT sockets belong
// to the kernel and vanish 60 s after they are made: trust them until timeWaitUntil
// (epoch ms; null when the zoo made none).
//
// It holds everything until stdin closes or SIGTERM/SIGINT arrives, then exits 0.
// Keep stdin open (a pipe): with </dev/null it exits at once.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const STATE = ['', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT',
  'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING'];
const HTTP_PORTS = [80, 443, 8080, 8443];

function parseArgs(argv) {
  const opts = { count: 2, remotes: [], local: true, python: process.env.FLEETSTAT_PYTHON || 'python3' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--count') {
      opts.count = Number(val());
      if (!Number.isInteger(opts.count) || opts.count < 0) throw new Error('--count wants an integer >= 0');
    } else if (a === '--remote4') opts.remotes.push({ family: 4, addr: val() });
    else if (a === '--remote6') opts.remotes.push({ family: 6, addr: val() });
    else if (a === '--no-local') opts.local = false;
    else if (a === '--python') opts.python = val();
    else throw new Error(`unknown option ${a}`);
  }
  return opts;
}

const held = []; // every socket and server: closed on exit, never garbage collected
const tcpRows = [];
const udpRows = [];
const remoteRows = [];

function row(rows, file, state, port, count, why) {
  rows.push({ file, state, ...port, count, why });
}

// Server side of every Node listener. The client's first byte says how to end:
// 'T' server closes first (server TIME_WAIT), 'C' server answers the client's FIN
// (client TIME_WAIT), 'H' server never answers the FIN (CLOSE_WAIT / FIN_WAIT2),
// anything else: stay ESTABLISHED.
function onConnection(sock) {
  held.push(sock);
  sock.on('error', () => {});
  let tag = '';
  sock.once('data', (b) => {
    tag = b.toString('latin1', 0, 1);
    if (tag === 'T') sock.end();
  });
  sock.on('end', () => {
    if (tag !== 'H') sock.end();
  });
}

async function serve(port, host, ipv6Only = false) {
  const srv = net.createServer({ allowHalfOpen: true }, onConnection);
  held.push(srv);
  srv.listen({ port, host, ipv6Only });
  await once(srv, 'listening');
  return srv;
}

async function dial(host, port, tag = 'E') {
  const s = net.connect({ host, port, allowHalfOpen: tag === 'H' });
  held.push(s);
  s.on('error', () => {});
  await once(s, 'connect');
  s.write(tag);
  if (tag === 'H' || tag === 'C') s.end(); // shutdown(SHUT_WR); with 'H' the fd stays open
  if (tag === 'T' || tag === 'C') await once(s, 'close');
  return s;
}

async function dialMany(n, host, port, tag) {
  for (let done = 0; done < n; done += 200) {
    // Batches keep us under the listen backlog, so no SYN is dropped and retried.
    await Promise.all(Array.from({ length: Math.min(200, n - done) }, () => dial(host, port, tag)));
  }
}

async function localTcp(n) {
  await serve(80, '0.0.0.0');
  await serve(80, '::', true);
  await serve(443, '::'); // dual-stack: IPv4 clients appear in tcp6 as ::ffff:127.0.0.1
  await serve(5432, '0.0.0.0');
  await serve(6379, '::1', true);
  row(tcpRows, 'tcp', 'LISTEN', { localPort: 80 }, 1, 'IPv4 wildcard listener');
  row(tcpRows, 'tcp6', 'LISTEN', { localPort: 80 }, 1, 'IPv6-only wildcard listener');
  row(tcpRows, 'tcp6', 'LISTEN', { localPort: 443 }, 1, 'dual-stack [::] listener');
  row(tcpRows, 'tcp', 'LISTEN', { localPort: 5432 }, 1, 'non-HTTP listener');
  row(tcpRows, 'tcp6', 'LISTEN', { localPort: 6379 }, 1, 'non-HTTP listener on ::1');

  // [client host, port, file of the server side, file of the client side]
  const targets = [['127.0.0.1', 80, 'tcp', 'tcp'], ['::1', 80, 'tcp6', 'tcp6'],
    ['127.0.0.1', 443, 'tcp6', 'tcp'], ['::1', 443, 'tcp6', 'tcp6'],
    ['127.0.0.1', 5432, 'tcp', 'tcp'], ['::1', 6379, 'tcp6', 'tcp6']];
  for (const [host, port, srvFile, cliFile] of targets) {
    await dialMany(n, host, port, 'E');
    const mapped = srvFile !== cliFile ? ' (IPv4 client, ::ffff: address)' : '';
    row(tcpRows, srvFile, 'ESTABLISHED', { localPort: port }, n, `accepted from ${host}${mapped}`);
    row(tcpRows, cliFile, 'ESTABLISHED', { remotePort: port }, n, `client to ${host}`);
  }

  timeWaitUntil = Date.now() + 60_000; // TCP_TIMEWAIT_LEN; taken before they exist: a safe bound
  await dialMany(2, '127.0.0.1', 80, 'T');
  await dialMany(1, '::1', 443, 'T');
  await dialMany(1, '127.0.0.1', 80, 'C');
  await dialMany(1, '127.0.0.1', 5432, 'C');
  row(tcpRows, 'tcp', 'TIME_WAIT', { localPort: 80 }, 2, 'server closed first');
  row(tcpRows, 'tcp6', 'TIME_WAIT', { localPort: 443 }, 1, 'server closed first');
  row(tcpRows, 'tcp', 'TIME_WAIT', { remotePort: 80 }, 1, 'client closed first');
  row(tcpRows, 'tcp', 'TIME_WAIT', { remotePort: 5432 }, 1, 'client closed first');

  await dialMany(2, '127.0.0.1', 80, 'H');
  await dialMany(1, '127.0.0.1', 443, 'H');
  row(tcpRows, 'tcp', 'CLOSE_WAIT', { localPort: 80 }, 2, 'server never answers the FIN');
  row(tcpRows, 'tcp6', 'CLOSE_WAIT', { localPort: 443 }, 1, 'server never answers the FIN (IPv4 client)');
  row(tcpRows, 'tcp', 'FIN_WAIT2', { remotePort: 80 }, 2, 'client half-closed, fd kept');
  row(tcpRows, 'tcp', 'FIN_WAIT2', { remotePort: 443 }, 1, 'client half-closed, fd kept');
}

async function remoteTcp(n, { family, addr }) {
  const file = family === 4 ? 'tcp' : 'tcp6';
  await dialMany(n, addr, 80, 'E');
  await dialMany(n, addr, 443, 'E');
  row(tcpRows, file, 'ESTABLISHED', { remotePort: 80 }, n, `client to ${addr}`);
  row(tcpRows, file, 'ESTABLISHED', { remotePort: 443 }, n, `client to ${addr}`);
  row(remoteRows, file, 'ESTABLISHED', { localPort: 80 }, n, `accepted from the peer namespace`);
  row(remoteRows, 'tcp6', 'ESTABLISHED', { localPort: 443 }, n, `accepted from the peer namespace (dual-stack)`);
}

async function udp() {
  const bound = async (type, port, host, ipv6Only = false) => {
    const s = dgram.createSocket({ type, ipv6Only });
    held.push(s);
    s.bind(port, host);
    await once(s, 'listening');
  };
  const connected = async (type, port, host) => {
    const s = dgram.createSocket(type);
    held.push(s);
    s.connect(port, host);
    await once(s, 'connect');
  };
  await bound('udp4', 443, '0.0.0.0'); // QUIC-style HTTP/3 port
  await bound('udp6', 5353, '::', true);
  await connected('udp4', 443, '127.0.0.1');
  await connected('udp6', 5353, '::1');
  // /proc/net/udp: unconnected sockets show st 07 (CLOSE), connected ones 01.
  row(udpRows, 'udp', 'CLOSE', { localPort: 443 }, 1, 'bound, unconnected');
  row(udpRows, 'udp6', 'CLOSE', { localPort: 5353 }, 1, 'bound, unconnected, IPv6-only');
  row(udpRows, 'udp', 'ESTABLISHED', { remotePort: 443 }, 1, 'connected');
  row(udpRows, 'udp6', 'ESTABLISHED', { remotePort: 5353 }, 1, 'connected');
}

async function unixStream(dir) {
  const p = path.join(dir, 'http api.sock');
  const srv = net.createServer((s) => held.push(s));
  held.push(srv);
  srv.listen(p);
  await once(srv, 'listening');
  const c = net.connect(p);
  held.push(c);
  await once(c, 'connect');
  return [
    { path: p, type: 'stream', state: 'LISTEN', count: 1, exact: true, why: 'path with spaces' },
    { path: p, type: 'stream', state: 'CONNECTED', count: 1, exact: true, why: 'accepted: shares the listener path' },
    { path: null, type: 'stream', state: 'CONNECTED', count: 1, exact: false, why: 'client end (no path)' },
  ];
}

// Rows with the same key add up, so a consumer can compare one count per key.
function merge(rows) {
  const out = new Map();
  for (const r of rows) {
    const key = [r.file, r.path, r.type, r.state, r.localPort, r.remotePort, r.protocol].join('|');
    const prev = out.get(key);
    if (prev) {
      prev.count += r.count;
      prev.why += `; ${r.why}`;
      prev.exact = prev.exact && r.exact;
    } else out.set(key, { ...r });
  }
  return [...out.values()];
}

function readTable(file) {
  const rows = [];
  for (const line of fs.readFileSync(`/proc/self/net/${file}`, 'latin1').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    rows.push({ file, localPort: parseInt(f[1].split(':')[1], 16),
      remotePort: parseInt(f[2].split(':')[1], 16), state: STATE[parseInt(f[3], 16)] });
  }
  return rows;
}

function mismatches(expected, files) {
  const table = files.flatMap(readTable);
  const bad = [];
  for (const e of expected) {
    const got = table.filter((r) => r.file === e.file && r.state === e.state &&
      (e.localPort !== undefined ? r.localPort === e.localPort : r.remotePort === e.remotePort)).length;
    if (got !== e.count) bad.push(`${e.file} ${e.state} ${JSON.stringify(e.localPort ?? `->${e.remotePort}`)}: ${got}, want ${e.count}`);
  }
  return bad;
}

// Kernel transitions (FIN handling, TIME_WAIT entry) finish just after Node's events,
// so wait until /proc agrees with every claim instead of sleeping a guessed time.
async function settle(expected, files) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const bad = mismatches(expected, files);
    if (bad.length === 0) return;
    if (Date.now() > deadline) throw new Error(`sockets did not reach their states:\n  ${bad.join('\n  ')}`);
    await sleep(20);
  }
}

let helper;
let unixDir;
let timeWaitUntil = null;
let stopping = false;

async function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const h of held) (h.destroy ?? h.close).call(h);
  if (helper && helper.exitCode === null && helper.signalCode === null) {
    helper.stdin.end(); // the helper holds its sockets until stdin EOF
    await Promise.race([once(helper, 'exit'), sleep(3000)]);
    if (helper.exitCode === null && helper.signalCode === null) process.kill(helper.pid, 'SIGKILL');
  }
  if (unixDir) fs.rmSync(unixDir, { recursive: true, force: true });
  process.exit(code);
}

async function startHelper(opts) {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'socket_zoo_helper.py');
  const cfg = { local: opts.local, unixDir, abstractName: `fleetstat-zoo-${process.pid}`, remotes: opts.remotes };
  helper = spawn(opts.python, [script, JSON.stringify(cfg)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = once(helper, 'exit').then(([code, sig]) => {
    throw new Error(`socket_zoo_helper.py exited early (code ${code}, signal ${sig})`);
  });
  const firstLine = once(createInterface({ input: helper.stdout }), 'line').then(([l]) => JSON.parse(l));
  const out = await Promise.race([firstLine, exited]);
  exited.catch(() => {});
  helper.on('exit', (code) => {
    if (!stopping) {
      process.stderr.write(`socket-zoo: helper died (code ${code})\n`);
      void stop(1);
    }
  });
  return out;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));
  process.stdin.on('end', () => void stop(0));
  process.stdin.on('close', () => void stop(0));
  process.stdin.resume();

  unixDir = fs.mkdtempSync(path.join(os.tmpdir(), 'fleetstat zoo-'));
  const py = await startHelper(opts);
  tcpRows.push(...py.tcp);
  remoteRows.push(...py.remoteTcp);
  let unix = [];
  if (opts.local) {
    await localTcp(opts.count);
    await udp();
    unix = [...await unixStream(unixDir), ...py.unix];
  }
  for (const r of opts.remotes) await remoteTcp(opts.count, r);

  const tcp = merge(tcpRows);
  const udpOut = merge(udpRows);
  await settle(tcp, ['tcp', 'tcp6']);
  await settle(udpOut, ['udp', 'udp6']);
  process.stdout.write(JSON.stringify({
    pid: process.pid, helperPid: py.pid, count: opts.count, timeWaitUntil,
    httpPorts: HTTP_PORTS, unixDir, tcp, udp: udpOut, raw: py.raw, unix: merge(unix), remoteTcp: merge(remoteRows),
  }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`socket-zoo: ${err instanceof Error ? err.stack : String(err)}\n`);
  void stop(1);
});
