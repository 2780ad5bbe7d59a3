// NATS credentials and TLS from files or the environment, never from flags' values (which
// show up in `ps`). One kind of credentials at a time:
//   user and password  --nats-user + --nats-password-file   FLEETSTAT_NATS_USER + FLEETSTAT_NATS_PASSWORD
//   token              --nats-token-file                     FLEETSTAT_NATS_TOKEN
//   nkey seed (SU...)  --nats-nkey-file                      FLEETSTAT_NATS_NKEY_FILE
//   creds (JWT+seed)   --nats-creds-file                     FLEETSTAT_NATS_CREDS_FILE
// TLS: --nats-ca-file (FLEETSTAT_NATS_CA_FILE), and a client certificate for servers that
// verify clients: --nats-cert-file + --nats-key-file (FLEETSTAT_NATS_CERT_FILE/_KEY_FILE).
// Password and token variables hold the secret; the others name a file, as a Kubernetes
// Secret mounted as a volume gives it. A flag wins over its variable. Every file is checked
// here, so a wrong path or a file of the wrong kind is a usage error (exit 2), not a
// connection that fails later for a reason nobody sees.

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { NatsCredentials, NatsSecurity, NatsTls } from '../agent/publish/nats-connect-options.js';
import { credentialKinds } from '../agent/publish/nats-connect-options.js';
import { readCertificates, readKeyPair } from '../agent/tls/pem-files.js';
import { usableTls } from './tls-options.js';
import { UsageError } from './usage-error.js';

export interface NatsCredentialFlags {
  natsUser?: string;
  natsPasswordFile?: string;
  natsTokenFile?: string;
  natsNkeyFile?: string;
  natsCredsFile?: string;
  natsCaFile?: string;
  natsCertFile?: string;
  natsKeyFile?: string;
}

const NKEY_USER_SEED = /^SU[A-Z2-7]{56}$/;

export function addNatsCredentialOptions(command: Command): Command {
  return command
    .option('--nats-user <name>', 'NATS user (or FLEETSTAT_NATS_USER); the password from --nats-password-file')
    .option('--nats-password-file <file>', 'file holding the NATS password (or FLEETSTAT_NATS_PASSWORD)')
    .option('--nats-token-file <file>', 'file holding a NATS token (or FLEETSTAT_NATS_TOKEN)')
    .option('--nats-nkey-file <file>', 'file holding a NATS nkey user seed, SU... (or FLEETSTAT_NATS_NKEY_FILE)')
    .option('--nats-creds-file <file>', 'NATS .creds file: user JWT and seed (or FLEETSTAT_NATS_CREDS_FILE)')
    .option('--nats-ca-file <file>', "TLS to NATS, trusting this CA for the server's certificate (or FLEETSTAT_NATS_CA_FILE)")
    .option('--nats-cert-file <file>', 'client certificate for NATS servers that verify clients (or FLEETSTAT_NATS_CERT_FILE)')
    .option('--nats-key-file <file>', 'the private key of --nats-cert-file (or FLEETSTAT_NATS_KEY_FILE)');
}

/** Credentials and TLS for NATS, checked; flags without --nats are a usage error. */
export function natsCredentialsOf(flags: NatsCredentialFlags & { nats?: string }, env: NodeJS.ProcessEnv = process.env): NatsSecurity {
  if (!flags.nats) {
    const given = Object.entries(flags).filter(([name, value]) => name.startsWith('nats') && name !== 'nats' && value !== undefined);
    if (given.length > 0) throw new UsageError(`--${given.map(([name]) => kebab(name)).join(', --')} need --nats`);
    return {};
  }
  const credentials = credentialsOf(flags, env);
  const tls = tlsOf(flags, env);
  return { ...(Object.keys(credentials).length ? { credentials } : {}), ...(tls ? { tls } : {}) };
}

function credentialsOf(flags: NatsCredentialFlags, env: NodeJS.ProcessEnv): NatsCredentials {
  const user = flags.natsUser ?? env['FLEETSTAT_NATS_USER'];
  const pass = flags.natsPasswordFile ? secretFile(flags.natsPasswordFile) : env['FLEETSTAT_NATS_PASSWORD'];
  const token = flags.natsTokenFile ? secretFile(flags.natsTokenFile) : env['FLEETSTAT_NATS_TOKEN'];
  const nkeyFile = flags.natsNkeyFile ?? env['FLEETSTAT_NATS_NKEY_FILE'];
  const credsFile = flags.natsCredsFile ?? env['FLEETSTAT_NATS_CREDS_FILE'];
  const credentials: NatsCredentials = {
    ...(user !== undefined ? { user } : {}),
    ...(pass !== undefined ? { pass } : {}),
    ...(token ? { token } : {}),
    ...(nkeyFile ? { nkeyFile } : {}),
    ...(credsFile ? { credsFile } : {}),
  };
  const kinds = credentialKinds(credentials);
  if (kinds.length > 1) throw new UsageError(`give one kind of NATS credentials, not ${kinds.join(' and ')}`);
  if (Boolean(user) !== Boolean(pass)) throw new UsageError('a NATS user needs a password and a password needs a user');
  if (nkeyFile && !NKEY_USER_SEED.test(secretFile(nkeyFile))) {
    throw new UsageError(`${nkeyFile} does not hold an nkey user seed (one line, 58 characters, starting SU)`);
  }
  if (credsFile) {
    const creds = secretFile(credsFile);
    if (!creds.includes('BEGIN NATS USER JWT') || !creds.includes('BEGIN USER NKEY SEED')) {
      throw new UsageError(`${credsFile} is not a NATS .creds file (a user JWT and an nkey seed, as nsc writes it)`);
    }
  }
  return credentials;
}

function tlsOf(flags: NatsCredentialFlags, env: NodeJS.ProcessEnv): NatsTls | undefined {
  const caFile = flags.natsCaFile ?? env['FLEETSTAT_NATS_CA_FILE'];
  const certFile = flags.natsCertFile ?? env['FLEETSTAT_NATS_CERT_FILE'];
  const keyFile = flags.natsKeyFile ?? env['FLEETSTAT_NATS_KEY_FILE'];
  if (Boolean(certFile) !== Boolean(keyFile)) throw new UsageError('--nats-cert-file and --nats-key-file go together');
  if (caFile) usableTls(() => readCertificates(caFile, 'NATS CA'));
  if (certFile && keyFile) usableTls(() => readKeyPair(certFile, keyFile));
  if (!caFile && !certFile) return undefined;
  return { ...(caFile ? { caFile } : {}), ...(certFile && keyFile ? { certFile, keyFile } : {}) };
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
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
