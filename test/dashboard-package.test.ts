// The dashboard's files must come along in the npm package and the chart library must be found
// wherever npm installs it (hoisted next to fleetstat, not in this repo): pack, unpack into a
// node_modules of its own, and ask the packed module for every asset the page loads.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const execFileP = promisify(execFile);
const ROOT = new URL('..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'fleetstat-pack-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('serves every dashboard asset from an installed package (npm pack), uPlot resolved from node_modules', async () => {
  // Packs dist/ as built (npm test builds first); --ignore-scripts: no second build here.
  await execFileP('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: ROOT });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
  await execFileP('tar', ['xzf', join(dir, tarball), '-C', dir]);
  mkdirSync(join(dir, 'node_modules'));
  renameSync(join(dir, 'package'), join(dir, 'node_modules', 'fleetstat'));
  cpSync(join(ROOT, 'node_modules', 'uplot'), join(dir, 'node_modules', 'uplot'), { recursive: true }); // where npm hoists it
  const script = `
    const { dashboardRoute, UPLOT_BASE } = await import('fleetstat/dist/collector/dashboard/dashboard-routes.js');
    const page = dashboardRoute('/').body.toString();
    const paths = ['/', ...[...page.matchAll(/(?:href|src)="([^"]+)"/g)].map((m) => m[1]), UPLOT_BASE + '/uPlot.esm.js', '/dashboard/charts.js', '/dashboard/render.js'];
    console.log(JSON.stringify(paths.map((p) => [p, dashboardRoute(p)?.status ?? 404, dashboardRoute(p)?.body.length ?? 0])));
  `;
  const { stdout } = await execFileP(process.execPath, ['--input-type=module', '-e', script], { cwd: dir });
  const answers = JSON.parse(stdout) as [string, number, number][];
  expect(answers.length).toBeGreaterThanOrEqual(7);
  for (const [path, status, bytes] of answers) {
    expect([path, status]).toEqual([path, 200]);
    expect(bytes).toBeGreaterThan(100);
  }
});
