// GET a collector's JSON API (http or https, with its bearer token), with a time limit and
// errors a person can act on. node:https rather than fetch: fetch cannot be given a CA.

import type { IncomingMessage } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Command } from 'commander';
import { readCertificates } from '../agent/tls/pem-files.js';
import type { ApiTokenFlags } from './api-token.js';
import { addApiTokenOption, apiTokenOf } from './api-token.js';
import { usableTls } from './tls-options.js';
import { UsageError } from './usage-error.js';

export interface CollectorFlags extends ApiTokenFlags {
  collector: string;
  ca?: string;
}

/** --collector, --api-token-file and --ca: the same on every command that queries a collector. */
export function addCollectorOptions(command: Command): Command {
  return addApiTokenOption(
    command.requiredOption('--collector <url>', 'collector HTTP API, e.g. http://127.0.0.1:7470 or https://...'),
    'file holding the bearer token the collector asks for',
  ).option('--ca <file>', "with an https collector: trust this CA for its certificate (default: the system's)");
}

export class CollectorClient {
  private readonly token: string | undefined;
  private readonly ca: Buffer | undefined;

  constructor(private readonly flags: CollectorFlags) {
    this.token = apiTokenOf(flags);
    const ca = flags.ca;
    this.ca = ca ? usableTls(() => readCertificates(ca, 'CA')) : undefined;
  }

  async getJson<T>(path: string, timeoutMs = 10_000): Promise<T> {
    const base = this.flags.collector;
    let url: URL;
    try {
      url = new URL(path, base.endsWith('/') ? base : `${base}/`);
    } catch {
      throw new UsageError(`--collector "${base}": expected a URL such as http://127.0.0.1:7470`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--collector "${base}": expected http:// or https://`);
    const { status, text } = await this.get(url, timeoutMs);
    if (status === 401) {
      const hint = this.token ? 'the token was refused' : 'give --api-token-file (or FLEETSTAT_API_TOKEN_FILE)';
      throw new Error(`collector answered 401 for ${url.pathname}: ${hint}`);
    }
    if (status < 200 || status > 299) {
      let message = text.trim();
      try {
        message = (JSON.parse(text) as { error?: string }).error ?? message;
      } catch {
        // not JSON: keep the text
      }
      throw new Error(`collector answered ${status} for ${url.pathname}: ${message}`);
    }
    return JSON.parse(text) as T;
  }

  private get(url: URL, timeoutMs: number): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = { accept: 'application/json', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) };
    const options = { headers, signal: AbortSignal.timeout(timeoutMs), ...(this.ca ? { ca: this.ca } : {}) };
    return new Promise((resolve, reject) => {
      const onResponse = (res: IncomingMessage): void => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (error) => reject(unreachable(url, error)));
      };
      const req = url.protocol === 'https:' ? httpsRequest(url, options, onResponse) : httpRequest(url, options, onResponse);
      req.on('error', (error) => reject(unreachable(url, error)));
      req.end();
    });
  }
}

function unreachable(url: URL, error: Error): Error {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = error.name === 'AbortError' || error.name === 'TimeoutError' ? 'no answer in time' : code ? `${code}: ${error.message}` : error.message;
  return new Error(`cannot reach the collector at ${url.origin}: ${reason}`);
}
