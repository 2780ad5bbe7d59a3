// Section 1: whole commands run inside the namespace with `ip netns exec NS sh -c CMD`,
// timed from spawn to exit in this process. Rounds interleave the commands (rotating the
// start), so drift in machine load spreads over all of them instead of one.
//
// NODE_EXTRA_CA_CERTS makes every node start read and parse that certificate file (tens of
// ms, set on some CI machines and sandboxes); it is unset for the commands, and when it was
// set, one extra row shows `node -e 0` with it.

import { spawnSync } from 'node:child_process';
import type { Timing } from './stats.js';
import { nowMs, ratio, timingOf } from './stats.js';

export interface CommandSpec {
  id: string;
  command: string;
  /** What the row shows besides the command itself. */
  note?: string;
  /** Run with this process's environment unchanged (NODE_EXTRA_CA_CERTS included). */
  inheritEnv?: boolean;
}

export const BASELINE_ID = 'netstat';

export const COMMANDS: readonly CommandSpec[] = [
  { id: 'floor', command: 'true', note: 'spawn floor: ip netns exec + sh' },
  { id: 'node0', command: 'node -e 0', note: "node's bare startup" },
  { id: 'fleetstat-version', command: 'node bin/fleetstat.js --version > /dev/null', note: 'node + loading the CLI' },
  { id: 'seed', command: 'netstat -tan | grep :80 | wc -l', note: 'the seed workflow' },
  { id: 'netstat', command: 'netstat -tan > /dev/null', note: 'baseline' },
  { id: 'ss', command: 'ss -tan > /dev/null' },
  { id: 'cat', command: 'cat /proc/net/tcp /proc/net/tcp6 > /dev/null', note: 'the kernel alone' },
  { id: 'fleetstat-netstat', command: 'node bin/fleetstat.js netstat -tan > /dev/null' },
  { id: 'fleetstat-http', command: 'node bin/fleetstat.js netstat --http --netns self' },
  { id: 'fleetstat-agent', command: 'node bin/fleetstat.js agent --once --netns self --format proto > /dev/null' },
];

/** The commands of this run: COMMANDS, plus `node -e 0` as the environment has it when that differs. */
export function commandsFor(env: NodeJS.ProcessEnv): CommandSpec[] {
  const list = [...COMMANDS];
  if (env.NODE_EXTRA_CA_CERTS !== undefined) {
    list.splice(2, 0, { id: 'node0-ca-certs', command: 'node -e 0', note: 'with NODE_EXTRA_CA_CERTS as set here', inheritEnv: true });
  }
  return list;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

export interface CommandResult {
  id: string;
  command: string;
  note?: string;
  timing: Timing;
  ratioToNetstat: number;
  /** stdout of the last run, when the command prints to it (trimmed, first lines). */
  output?: string;
}

export interface CommandSection {
  rounds: number;
  warmupRounds: number;
  /** Environment variables unset for the commands (except rows marked inheritEnv). */
  unsetEnv: string[];
  results: CommandResult[];
}

function runOnce(ns: string, cwd: string, spec: CommandSpec): { ms: number; stdout: string } {
  const t0 = nowMs();
  const out = spawnSync('ip', ['netns', 'exec', ns, 'sh', '-c', spec.command], {
    cwd,
    env: spec.inheritEnv ? process.env : cleanEnv(),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const ms = nowMs() - t0;
  if (out.error) throw new Error(`${spec.command}: ${out.error.message}`);
  if (out.status !== 0) throw new Error(`${spec.command}: exit ${out.status} ${out.signal ?? ''}: ${out.stderr.trim()}`);
  return { ms, stdout: out.stdout };
}

export function benchCommands(
  ns: string,
  cwd: string,
  rounds: number,
  warmupRounds: number,
  progress: (text: string) => void,
): CommandSection {
  const commands = commandsFor(process.env);
  const runs = new Map<string, number[]>(commands.map((c) => [c.id, []]));
  const outputs = new Map<string, string>();
  for (let round = 0; round < warmupRounds + rounds; round++) {
    const t0 = nowMs();
    for (let i = 0; i < commands.length; i++) {
      const spec = commands[(i + round) % commands.length]!;
      const { ms, stdout } = runOnce(ns, cwd, spec);
      if (round >= warmupRounds) runs.get(spec.id)!.push(ms);
      if (stdout.trim() !== '') outputs.set(spec.id, stdout.trim().split('\n').slice(0, 40).join('\n'));
    }
    const label = round < warmupRounds ? `warm-up round ${round + 1}` : `round ${round - warmupRounds + 1}/${rounds}`;
    progress(`  commands: ${label} in ${(nowMs() - t0).toFixed(0)} ms`);
  }
  const baseline = timingOf(runs.get(BASELINE_ID)!).median;
  const results = commands.map((spec): CommandResult => {
    const timing = timingOf(runs.get(spec.id)!);
    const result: CommandResult = { id: spec.id, command: spec.command, timing, ratioToNetstat: ratio(timing.median, baseline) };
    if (spec.note) result.note = spec.note;
    const output = outputs.get(spec.id);
    if (output !== undefined) result.output = output;
    return result;
  });
  return { rounds, warmupRounds, unsetEnv: ['NODE_EXTRA_CA_CERTS'], results };
}
