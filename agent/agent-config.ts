// The agent's settings: defaults, and validation that fails fast at start-up with a clear message.

import { hostname } from 'node:os';
import { existsSync } from 'node:fs';
import type { NetnsMode } from './netns/discover-namespaces.js';
import { DEFAULT_HTTP_PORTS } from './snapshot/http-ports.js';

export interface AgentConfig {
  cluster: string;
  node: string;
  procRoot: string;
  netns: NetnsMode;
  httpPorts: readonly number[];
  intervalMs: number;
  topK: number;
}

export const DEFAULT_AGENT_CONFIG: AgentConfig = {
  cluster: 'default',
  node: hostname(),
  procRoot: '/proc',
  netns: 'all',
  httpPorts: DEFAULT_HTTP_PORTS,
  intervalMs: 10_000,
  topK: 10,
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** NATS subject tokens cannot hold these, and names appear in subjects. */
const NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,252}$/;

export function validateAgentConfig(config: AgentConfig): AgentConfig {
  for (const [field, value] of [
    ['cluster', config.cluster],
    ['node', config.node],
  ] as const) {
    if (!NAME.test(value) || value.includes('..') || value.endsWith('.')) {
      throw new ConfigError(`--${field} "${value}": use letters, digits, '-', '_' and single dots, at most 253`);
    }
  }
  if (config.netns !== 'all' && config.netns !== 'self') {
    throw new ConfigError(`--netns "${String(config.netns)}": expected all or self`);
  }
  assertProcRoot(config.procRoot);
  if (config.intervalMs < 100 || config.intervalMs > 3_600_000) {
    throw new ConfigError(`--interval ${config.intervalMs}ms: expected between 100ms and 1h`);
  }
  if (!Number.isInteger(config.topK) || config.topK < 0 || config.topK > 1000) {
    throw new ConfigError(`--top-k ${config.topK}: expected 0 to 1000`);
  }
  return config;
}

export function assertProcRoot(procRoot: string): void {
  if (!existsSync(`${procRoot}/self`) && !existsSync(`${procRoot}/1`)) {
    throw new ConfigError(`--proc ${procRoot}: not a proc filesystem (no self or 1 inside)`);
  }
}
