// The package version, read once from package.json next to dist/ or the sources.

import { readFileSync } from 'node:fs';

function readVersion(): string {
  for (const path of ['../../package.json', '../package.json']) {
    try {
      return (JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      // Try the next layout (dist/cli vs cli).
    }
  }
  return '0.0.0';
}

export const VERSION = readVersion();
