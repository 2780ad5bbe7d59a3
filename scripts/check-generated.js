#!/usr/bin/env node
// CI guard: the committed ts-proto output must be what `npm run proto` makes from proto/ now.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const buf = join('node_modules', '.bin', 'buf');
execFileSync(buf, ['lint'], { stdio: 'inherit' });
const out = mkdtempSync(join(tmpdir(), 'fleetstat-proto-'));
try {
  execFileSync(buf, ['generate', '--output', out], { stdio: 'inherit' });
  const fresh = join(out, 'proto', 'gen', 'fleetstat', 'v1');
  const committed = join('proto', 'gen', 'fleetstat', 'v1');
  const names = new Set([...readdirSync(fresh), ...readdirSync(committed)]);
  const stale = [...names].filter((name) => {
    try {
      return readFileSync(join(fresh, name), 'utf8') !== readFileSync(join(committed, name), 'utf8');
    } catch {
      return true;
    }
  });
  if (stale.length > 0) {
    console.error(`generated protobuf code is stale: ${stale.join(', ')}; run \`npm run proto\` and commit`);
    process.exit(1);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
