// Surge-detection flags shared by `collector` and `up`: how often, how sure, how big.

import type { Command } from 'commander';
import { durationBetween } from '../agent/duration.js';
import { DEFAULT_THRESHOLDS } from '../collector/alerts/alert-types.js';
import type { ThresholdOverrides } from '../collector/alerts/surge-detector.js';
import { argParser } from './agent-options.js';

export interface AlertFlags {
  alerts: boolean;
  alertEvery?: number;
  alertWarmup: number;
  alertK: number;
  alertMinRise: number;
  alertSynMinRise: number;
  acceptQueueLimit: number;
}

export function addAlertOptions(command: Command): Command {
  const d = DEFAULT_THRESHOLDS;
  return command
    .option('--no-alerts', 'run no surge detection')
    .option('--alert-every <duration>', 'how often surges are judged (default 10s; up: its interval)', argParser(durationBetween(100, 3_600_000, '100ms', '1h')))
    .option('--alert-warmup <n>', 'evaluations learnt before any surge is judged', argParser(whole(1, 100_000)), d.baseline.warmup)
    .option('--alert-k <n>', 'deviations above the baseline that make a surge', argParser(positive), d.connections.k)
    .option('--alert-min-rise <n>', 'fewest extra inbound connections that make a surge', argParser(whole(1, 10_000_000)), d.connections.minRise)
    .option('--alert-syn-min-rise <n>', 'fewest extra SYN_RECV sockets that make a SYN surge', argParser(whole(1, 10_000_000)), d.syn.minRise)
    .option('--accept-queue-limit <n>', 'queued, unaccepted connections per port that alert (0: off)', argParser(whole(0, 10_000_000)), d.acceptQueue.absolute);
}

export function thresholdsOf(flags: AlertFlags): ThresholdOverrides {
  return {
    baseline: { warmup: flags.alertWarmup },
    connections: { k: flags.alertK, minRise: flags.alertMinRise },
    syn: { k: flags.alertK, minRise: flags.alertSynMinRise },
    acceptQueue: { absolute: flags.acceptQueueLimit },
  };
}

function whole(min: number, max: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^\d{1,9}$/.test(text) || n < min || n > max) throw new Error(`"${text}": expected a whole number from ${min} to ${max}`);
    return n;
  };
}

function positive(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || n > 1000) throw new Error(`"${text}": expected a number above 0, at most 1000`);
  return n;
}
