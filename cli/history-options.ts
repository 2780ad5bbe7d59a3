// History flags shared by `collector` and `up`: where it lives, how long it is kept, or none.

import type { Command } from 'commander';
import type { Logger } from 'pino';
import { durationBetween, parseDuration } from '../agent/duration.js';
import type { HistoryThread } from '../collector/history/history-thread.js';
import { argParser } from './agent-options.js';
import { UsageError } from './usage-error.js';

const DAY_MS = 86_400_000;
// Minutes kept under an hour would leave reports nothing to read; past 10 years SQLite is not the tool.
const retainMinutes = durationBetween(3_600_000, 90 * DAY_MS, '1h', '90d');
const retainHours = durationBetween(DAY_MS, 3650 * DAY_MS, '1d', '3650d');

export interface HistoryFlags {
  data?: string;
  history: boolean;
  retainMinutes: number;
  retainHours: number;
}

export function addHistoryOptions(command: Command): Command {
  return command
    .option('--data <dir>', 'keep history in <dir>/history.db (in memory without it)')
    .option('--no-history', 'keep no history (no /api/v1/series, /api/v1/report)')
    .option('--retain-minutes <duration>', 'how long per-minute rollups are kept', argParser(retainMinutes), parseDuration('14d'))
    .option('--retain-hours <duration>', 'how long per-hour rollups are kept', argParser(retainHours), parseDuration('730d'));
}

/** Opens the store on its worker thread (loaded only when history is on: better-sqlite3 is a native module). */
export async function openHistory(flags: HistoryFlags, logger: Logger): Promise<HistoryThread | undefined> {
  if (!flags.history) return undefined;
  if (flags.retainHours < flags.retainMinutes) throw new UsageError('--retain-hours must be at least --retain-minutes (hours are the longer record)');
  const { HistoryThread } = await import('../collector/history/history-thread.js');
  return HistoryThread.open({
    ...(flags.data ? { dir: flags.data } : {}),
    retention: { minutes: flags.retainMinutes, hours: flags.retainHours },
    logger,
  });
}
