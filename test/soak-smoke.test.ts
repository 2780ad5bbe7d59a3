// The soak harness (bench/soak.ts, `npm run soak`) end to end at a small scale: 200 simulated
// nodes for 20 s at a 1 s interval through a real nats-server to the real collector, with loss,
// duplication, reordering, restarts, goodbyes and silent nodes. Proves the harness runs, its
// checks compare exactly, and its stale audit sees the silent nodes. Timing-dependent targets
// (false stale under load, memory) are the full soak's business, not asserted here.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { SoakResult } from '../bench/soak/report.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'fleetstat-soak-smoke-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runSoak(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'soak.ts'), ...args], { cwd: ROOT, timeout: 90_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('soak harness (small)', () => {
  it('runs 200 nodes with faults, checks the collector exactly and audits stale nodes', async () => {
    const out = join(dir, 'soak.json');
    const run = await runSoak([
      '--nodes', '200', '--minutes', '0.34', '--interval', '1s', '--check-every', '4',
      '--silent', '0.01', '--leave', '0.01', '--restart', '0.01', '--seed', '7', '--out', out,
    ]);
    // 0: targets met, 1: a target missed (printed and in the JSON); 2 would be a harness failure.
    expect([0, 1], run.stderr).toContain(run.code);
    expect(run.stdout).toContain('targets:');
    const result = JSON.parse(readFileSync(out, 'utf8')) as SoakResult;
    expect(result.collector.exitedEarly).toBeNull();
    expect(result.fleet.lost).toBeGreaterThan(0);
    expect(result.fleet.duplicated).toBeGreaterThan(0);
    expect(result.fleet.reordered).toBeGreaterThan(0);
    expect(result.fleet.silences).toBeGreaterThan(0);
    expect(result.collector.ingest['rejected:stale_sequence']).toBeGreaterThan(0);
    // Exactness does not depend on timing: the fleet pauses for each check.
    expect(result.checks.exact).toBeGreaterThanOrEqual(3);
    expect(result.checks.mismatched, JSON.stringify(result.checks.records.map((c) => c.outcome?.mismatches))).toBe(0);
    expect(result.targets.exactAggregates).toBe(true);
    expect(result.stale.correct).toBeGreaterThan(0);
    expect(result.memory.judged).toBe(false);
  });
});
