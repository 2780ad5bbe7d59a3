// Starting http-peers.mjs (a real HTTP server or keep-alive clients) inside a namespace.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Namespace } from './netns.js';

export const HTTP_PEERS = fileURLToPath(new URL('./http-peers.mjs', import.meta.url));

/** Wait for a process's "ready" line on stdout; rejects with its stderr if it exits first. */
export async function startReady(proc: ChildProcess, what: string): Promise<void> {
  let stderr = '';
  proc.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const lines = createInterface({ input: proc.stdout! });
  const ready = new Promise<void>((resolve) => lines.on('line', (l) => l === 'ready' && resolve()));
  const exited = once(proc, 'exit').then(([code]) => {
    throw new Error(`${what} exited (${String(code)}): ${stderr}`);
  });
  await Promise.race([ready, exited]);
}

/** `http-peers.mjs server PORT` or `client HOST PORT N` in `ns`, once it is ready. */
export async function startPeer(ns: Namespace, args: string[]): Promise<ChildProcess> {
  const proc = ns.spawn(process.execPath, [HTTP_PEERS, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  await startReady(proc, `http-peers ${args.join(' ')} in ${ns.name}`);
  return proc;
}
