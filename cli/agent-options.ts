// Flags shared by the commands that sample this host (agent, up): one definition, one parser.

import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { AgentConfig } from '../agent/agent-config.js';
import { DEFAULT_AGENT_CONFIG, validateAgentConfig } from '../agent/agent-config.js';
import type { NetnsMode } from '../agent/netns/discover-namespaces.js';
import { parsePortList } from '../agent/snapshot/http-ports.js';
import { Sampler } from '../agent/sampler/sampler.js';
import { parseDuration } from '../agent/duration.js';

export interface SamplingFlags {
  cluster: string;
  node: string;
  proc: string;
  netns: NetnsMode;
  httpPorts: number[];
  interval: number;
  topK: number;
}

/** Wrap a parser so commander reports its message as a usage error. */
export function argParser<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (error) {
      throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
    }
  };
}

export function addSamplingOptions(command: Command): Command {
  const d = DEFAULT_AGENT_CONFIG;
  return command
    .option('--cluster <name>', 'cluster name', d.cluster)
    .option('--node <name>', 'node name', d.node)
    .option('--proc <dir>', 'proc filesystem root (/host/proc in a container)', d.procRoot)
    .option('--netns <mode>', 'all: every network namespace on the host; self: only this process\'s', argParser(parseNetns), d.netns)
    .option('--http-ports <list>', 'ports that count as HTTP, e.g. 80,443,8000-8010', argParser(parsePortList), [...d.httpPorts])
    .option('--interval <duration>', 'time between samples', argParser(parseDuration), d.intervalMs)
    .option('--top-k <n>', 'remote addresses kept per HTTP port', argParser(parseCount), d.topK);
}

export function agentConfigOf(flags: SamplingFlags): AgentConfig {
  return validateAgentConfig({
    cluster: flags.cluster,
    node: flags.node,
    procRoot: flags.proc,
    netns: flags.netns,
    httpPorts: flags.httpPorts,
    intervalMs: flags.interval,
    topK: flags.topK,
  });
}

export function parseNetns(text: string): NetnsMode {
  if (text !== 'all' && text !== 'self') throw new Error(`"${text}": expected all or self`);
  return text;
}

function parseCount(text: string): number {
  if (!/^\d{1,7}$/.test(text)) throw new Error(`"${text}": expected a whole number`);
  return Number(text);
}

/** The sampling worker for an agent configuration (agent, agent --once, up). */
export function samplerFor(config: AgentConfig): Sampler {
  return new Sampler({
    procRoot: config.procRoot,
    netns: config.netns,
    httpPorts: config.httpPorts,
    topK: config.topK,
    // Pids listed per namespace in a snapshot, for nsenter; all are counted.
    maxPidsListed: 16,
    node: config.node,
  });
}
