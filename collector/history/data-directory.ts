// Creates the history's data directory and its missing parents one level at a time. Node's
// recursive mkdirSync never returns when the kernel answers ENOENT for a directory whose parent
// exists (any path under /proc, say), which would hang start-up instead of failing it.

import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export function ensureDirectory(path: string): void {
  const missing: string[] = [];
  for (let dir = resolve(path); !exists(dir); dir = dirname(dir)) {
    missing.push(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of missing.reverse()) mkdirSync(dir);
  if (!statSync(path).isDirectory()) throw Object.assign(new Error(`${path} is not a directory`), { code: 'ENOTDIR' });
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
