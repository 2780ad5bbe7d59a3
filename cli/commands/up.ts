// `fleetstat up` (behind `npm start`): the whole pipeline on this machine with no server to
// install. The definition only: the collector and agent load when the command runs (up-run.ts).

import type { Command } from 'commander';
import type { SamplingFlags } from '../agent-options.js';
import { addSamplingOptions, argParser } from '../agent-options.js';
import type { HostPort } from '../../agent/grpc/host-port.js';
import { parseListenAddress } from '../address-options.js';
import type { HistoryFlags } from '../history-options.js';
import { addHistoryOptions } from '../history-options.js';
import type { AlertFlags } from '../alert-options.js';
import { addAlertOptions } from '../alert-options.js';
import type { ApiTokenFlags } from '../api-token.js';
import { addApiTokenOption } from '../api-token.js';
import type { HttpTlsFlags } from '../tls-options.js';
import { addHttpTlsOptions } from '../tls-options.js';

export interface UpFlags extends SamplingFlags, HistoryFlags, AlertFlags, HttpTlsFlags, ApiTokenFlags {
  listen: HostPort;
  count?: number;
}

export function registerUp(program: Command): void {
  const up = addAlertOptions(addHistoryOptions(addSamplingOptions(program.command('up').description("run a collector and this machine's agent together, no server needed"))));
  addApiTokenOption(addHttpTlsOptions(up), 'file holding the bearer token for /api/v1/* and /metrics')
    .option('--listen <host:port>', 'collector HTTP API and /metrics', argParser(parseListenAddress), parseListenAddress('127.0.0.1:7470'))
    .option('--count <n>', 'stop after this many intervals', argParser(parsePositive))
    .action(async (flags: UpFlags) => (await import('./up-run.js')).runUp(flags));
}

export function parsePositive(text: string): number {
  if (!/^[1-9]\d{0,8}$/.test(text)) throw new Error(`"${text}": expected a positive whole number`);
  return Number(text);
}
