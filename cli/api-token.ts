// The query API's bearer token, for the collector (checking it) and the CLI's clients (sending
// it): from --api-token-file, else FLEETSTAT_API_TOKEN_FILE, else FLEETSTAT_API_TOKEN; never a
// flag's value (which `ps` shows).

import type { Command } from 'commander';
import { secretFile } from './nats-credentials.js';
import { UsageError } from './usage-error.js';

export interface ApiTokenFlags {
  apiTokenFile?: string;
}

export function addApiTokenOption(command: Command, purpose: string): Command {
  return command.option('--api-token-file <file>', `${purpose} (or FLEETSTAT_API_TOKEN_FILE, FLEETSTAT_API_TOKEN)`);
}

/** The token, or undefined when none is configured. */
export function apiTokenOf(flags: ApiTokenFlags, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = flags.apiTokenFile ?? (env['FLEETSTAT_API_TOKEN_FILE'] || undefined);
  const token = file ? secretFile(file) : env['FLEETSTAT_API_TOKEN']?.trim() || undefined;
  if (token !== undefined && /\s/.test(token)) throw new UsageError(`the API token${file ? ` in ${file}` : ''} holds whitespace`);
  return token;
}
