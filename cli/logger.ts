// Structured logs on stderr (stdout stays for command output); FLEETSTAT_LOG_LEVEL overrides the level.

import type { Logger } from 'pino';
import { pino } from 'pino';

export function cliLogger(name: string, defaultLevel = 'info'): Logger {
  return pino({ name, level: process.env.FLEETSTAT_LOG_LEVEL ?? defaultLevel }, pino.destination(2));
}
