// A process owned by root in a network namespace of its own, holding a known set of sockets:
// one listener on 127.0.0.1:8080 (an HTTP port by default) with one accepted connection and
// two completed but not yet accepted (accept queue 2). Tests read it from another uid.
// Needs root, unshare (util-linux), ip (iproute2) and python3.
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface RootNamespaceListener {
  pid: number;
  port: number;
  /** Inode of /proc/<pid>/net/tcp: how fleetstat identifies the namespace. */
  netnsInode: number;
  established: number;
  unaccepted: number;
  stop(): Promise<void>;
}

const SCRIPT = `
import socket, sys
server = socket.socket()
server.bind(('127.0.0.1', 8080))
server.listen(16)
clients = [socket.create_connection(('127.0.0.1', 8080)) for _ in range(3)]
accepted, _ = server.accept()
print('ready', flush=True)
sys.stdin.read()  # hold the sockets until the test closes stdin
`;

export async function startRootNamespaceListener(): Promise<RootNamespaceListener> {
  // unshare --net without --fork execs in place, and so does sh: the child's pid is python's.
  const child = spawn('unshare', ['--net', 'sh', '-c', 'ip link set lo up && exec python3 -c "$0"', SCRIPT], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<boolean>((resolve) => {
    createInterface({ input: child.stdout }).once('line', (line) => resolve(line === 'ready'));
    child.once('exit', () => resolve(false));
  });
  if (!ready || child.pid === undefined) throw new Error(`the root-owned namespace listener did not start: ${stderr}`);
  return {
    pid: child.pid,
    port: 8080,
    netnsInode: statSync(`/proc/${child.pid}/net/tcp`).ino,
    established: 1,
    unaccepted: 2,
    async stop() {
      child.stdin.end();
      await exited;
    },
  };
}
