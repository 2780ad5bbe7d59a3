// NATS credentials from files or the environment, never from flags' values (which show up in
// `ps`): --nats-user names the user, the secrets come from --nats-password-file and
// --nats-token-file, or FLEETSTAT_NATS_USER / FLEETSTAT_NATS_PASSWORD / FLEETSTAT_NATS_TOKEN.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { NatsCredentials } from '../agent/publish/nats-link.js';
import { UsageError } from './usage-error.js';

export interface NatsCredentialFlags {
  natsUser?: string;
  natsPasswordFile?: string;
  natsTokenFile?: string;
}

export function addNatsCredentialOptions(command: Command): Command {
  return command
    .option('--nats-user <name>', 'NATS user (or FLEETSTAT_NATS_USER); the password from --nats-password-file')
    .option('--nats-password-file <file>', 'file holding the NATS password (or FLEETSTAT_NATS_PASSWORD)')
    .option('--nats-token-file <file>', 'file holding a NATS token (or FLEETSTAT_NATS_TOKEN)');
}

export function natsCredentialsOf(flags: NatsCredentialFlags, env: NodeJS.ProcessEnv = process.env): NatsCredentials {
  const user = flags.natsUser ?? env['FLEETSTAT_NATS_USER'];
  const pass = flags.natsPasswordFile ? secretFile(flags.natsPasswordFile) : env['FLEETSTAT_NATS_PASSWORD'];
  const token = flags.natsTokenFile ? secretFile(flags.natsTokenFile) : env['FLEETSTAT_NATS_TOKEN'];
  if (token && (user || pass)) throw new UsageError('give a NATS token or a user and password, not both');
  if (Boolean(user) !== Boolean(pass)) throw new UsageError('a NATS user needs a password and a password needs a user');
  if (token) return { token };
  return user && pass ? { user, pass } : {};
}

export function secretFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const secret = text.trim();
  if (!secret) throw new UsageError(`${path} is empty`);
  return secret;
}
