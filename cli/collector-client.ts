// GET a collector's JSON API, with a time limit and errors a person can act on.

import { UsageError } from './usage-error.js';

export async function getJson<T>(base: string, path: string, timeoutMs = 10_000): Promise<T> {
  let url: URL;
  try {
    url = new URL(path, base.endsWith('/') ? base : `${base}/`);
  } catch {
    throw new UsageError(`--collector "${base}": expected a URL such as http://127.0.0.1:7470`);
  }
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error instanceof Error ? error.message : String(error));
    throw new Error(`cannot reach the collector at ${url.origin}: ${cause}`);
  }
  const text = await response.text();
  if (!response.ok) {
    let message = text.trim();
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? message;
    } catch {
      // not JSON: keep the text
    }
    throw new Error(`collector answered ${response.status} for ${url.pathname}: ${message}`);
  }
  return JSON.parse(text) as T;
}
