// History flags shared by `collector` and `up`: where it lives, how long it is kept, or none.

import type { Command } from 'commander';
import type { Logger } from 'pino';
import { parseDuration } from '../agent/duration.js';
import type { HistoryStore } from '../collector/history/history-store.js';
import { argParser } from './agent-options.js';

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
    .option('--retain-minutes <duration>', 'how long per-minute rollups are kept', argParser(parseDuration), parseDuration('14d'))
    .option('--retain-hours <duration>', 'how long per-hour rollups are kept', argParser(parseDuration), parseDuration('730d'));
}

/** Opens the store (loaded only when history is on: better-sqlite3 is a native module). */
export async function openHistory(flags: HistoryFlags, logger: Logger): Promise<HistoryStore | undefined> {
  if (!flags.history) return undefined;
  const { HistoryStore } = await import('../collector/history/history-store.js');
  return HistoryStore.open({
    ...(flags.data ? { dir: flags.data } : {}),
    retention: { minutes: flags.retainMinutes, hours: flags.retainHours },
    logger,
  });
}
