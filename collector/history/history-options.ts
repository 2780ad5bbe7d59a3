// The history store's options: defaults and checks, applied once at open so a bad value fails
// start-up instead of misbehaving later.

import { HistoryStoreError } from './history-errors.js';
import type { WarnLogger } from './throttled-warning.js';
import type { Retention } from './retention.js';
import { DEFAULT_RETENTION } from './retention.js';

export interface HistoryStoreOptions {
  /** Data directory; the database is `<dir>/history.db`. Without it the store is in memory. */
  dir?: string;
  /** Retention per resolution in ms; defaults 14 days of minutes, 730 days of hours. */
  retention?: Partial<Retention>;
  now?: () => number;
  /** Write the minutes that are over this often; 0 turns the timer off (the caller flushes). Default 5 s. */
  flushEveryMs?: number;
  /** Flush everything as soon as this many samples are pending. Default 1,000,000 (12 samples of 10,000 nodes x 8 series). */
  flushPoints?: number;
  /** Bound on pending (series, minute) cells; samples needing more are dropped. Default 250,000. */
  maxPendingCells?: number;
  /** Prune by retention this often; 0 turns the timer off. Default 5 min. */
  pruneEveryMs?: number;
  /** How long a series that vanished from the samples keeps getting zeros. Default 5 min. */
  zeroFillMs?: number;
  logger?: WarnLogger;
}

export type HistorySettings = Required<Omit<HistoryStoreOptions, 'dir' | 'retention' | 'now' | 'logger'>>;

const DEFAULTS: HistorySettings = {
  flushEveryMs: 5_000,
  flushPoints: 1_000_000,
  maxPendingCells: 250_000,
  pruneEveryMs: 300_000,
  zeroFillMs: 300_000,
};

export function resolveOptions(options: HistoryStoreOptions): { settings: HistorySettings; retention: Retention } {
  const settings: HistorySettings = {
    flushEveryMs: options.flushEveryMs ?? DEFAULTS.flushEveryMs,
    flushPoints: options.flushPoints ?? DEFAULTS.flushPoints,
    maxPendingCells: options.maxPendingCells ?? DEFAULTS.maxPendingCells,
    pruneEveryMs: options.pruneEveryMs ?? DEFAULTS.pruneEveryMs,
    zeroFillMs: options.zeroFillMs ?? DEFAULTS.zeroFillMs,
  };
  const retention: Retention = {
    minutes: options.retention?.minutes ?? DEFAULT_RETENTION.minutes,
    hours: options.retention?.hours ?? DEFAULT_RETENTION.hours,
  };
  for (const [name, value] of Object.entries({ ...settings, retentionMinutes: retention.minutes, retentionHours: retention.hours })) {
    if (!(Number.isFinite(value) && value >= 0)) throw new HistoryStoreError(`history option ${name} must be a number >= 0, got ${value}`);
  }
  if (retention.minutes <= 0 || retention.hours <= 0) throw new HistoryStoreError('history retention must be positive');
  if (settings.flushPoints < 1 || settings.maxPendingCells < 1) throw new HistoryStoreError('history flushPoints and maxPendingCells must be at least 1');
  return { settings, retention };
}
