// Starts test/support/socket-zoo.mjs inside a namespace and returns its JSON report.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Namespace } from './netns.js';

export const ZOO_SCRIPT = fileURLToPath(new URL('./socket-zoo.mjs', import.meta.url));

export type TcpState = 'ESTABLISHED' | 'SYN_SENT' | 'SYN_RECV' | 'FIN_WAIT1' | 'FIN_WAIT2' | 'TIME_WAIT'
  | 'CLOSE' | 'CLOSE_WAIT' | 'LAST_ACK' | 'LISTEN' | 'CLOSING';

/** Sockets in one state, keyed by the local port (server side) or the remote port (client side). */
export interface InetRow {
  file: 'tcp' | 'tcp6' | 'udp' | 'udp6';
  state: TcpState;
  localPort?: number;
  remotePort?: number;
  count: number;
  why: string;
}

export interface ZooReport {
  pid: number;
  helperPid: number;
  count: number;
  /** Epoch ms; TIME_WAIT rows are only true before it. null: the zoo made no TIME_WAIT. */
  timeWaitUntil: number | null;
  httpPorts: number[];
  unixDir: string;
  tcp: InetRow[];
  udp: InetRow[];
  raw: { file: 'raw' | 'raw6'; protocol: number; state: 'CLOSE'; count: number }[];
  unix: { path: string | null; type: 'stream' | 'dgram' | 'seqpacket'; state: 'LISTEN' | 'CONNECTED' | 'UNCONNECTED';
    count: number; exact: boolean; why: string }[];
  /** What the --remote4/--remote6 namespace shows because of this zoo. */
  remoteTcp: InetRow[];
}

export interface RunningZoo {
  report: ZooReport;
  proc: ChildProcess;
  /** Closes the zoo's stdin and waits for it to exit (SIGKILL by pid after 5 s). */
  stop(): Promise<void>;
}

export async function startZoo(ns: Namespace, args: readonly string[] = [], timeoutMs = 60_000): Promise<RunningZoo> {
  const proc = ns.spawn(process.execPath, [ZOO_SCRIPT, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = once(proc, 'exit');
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.stdin?.end();
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const line = once(createInterface({ input: proc.stdout! }), 'line').then(([l]) => JSON.parse(String(l)) as ZooReport);
  let timer: NodeJS.Timeout | undefined;
  const failure = new Promise<never>((_, reject) => {
    void exited.then(([code]) => reject(new Error(`socket-zoo exited (${String(code)}) before reporting:\n${stderr}`)));
    timer = setTimeout(() => reject(new Error(`socket-zoo gave no report in ${timeoutMs} ms:\n${stderr}`)), timeoutMs);
  });
  failure.catch(() => {}); // it also rejects when the zoo exits normally, long after the race
  try {
    return { report: await Promise.race([line, failure]), proc, stop };
  } catch (err) {
    await stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
