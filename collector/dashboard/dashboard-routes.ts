// The dashboard's files, served by the collector: the page and its own assets from this
// directory, and the chart library (uPlot) from its npm package wherever npm installed it.
// Only paths on a fixed list answer, looked up exactly as requested (never decoded or joined
// onto a directory), so no URL can reach any other file: traversal is impossible by design.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface DashboardResponse {
  status: number;
  contentType: string;
  body: Buffer;
  headers: Record<string, string>;
}

interface Asset {
  file: string;
  contentType: string;
  cacheControl: string;
  /** Text substituted into the file once, when it is first read (the vendor URL into the page). */
  rewrite?: (text: string) => string;
}

// Next to this module both in the sources and in dist/ (`npm run build` copies every non-.ts file here).
const HERE = dirname(fileURLToPath(import.meta.url));
// require.resolve finds the package in any node_modules above, so an installed fleetstat works too.
const UPLOT_DIR = dirname(createRequire(import.meta.url).resolve('uplot/package.json'));
const UPLOT_VERSION = (JSON.parse(readFileSync(join(UPLOT_DIR, 'package.json'), 'utf8')) as { version: string }).version;
/** The version is in the URL, so browsers may keep these files for good: a new version is a new URL. */
export const UPLOT_BASE = `/vendor/uplot@${UPLOT_VERSION}`;

// The page and our own assets change with fleetstat; browsers revalidate them on each load.
const OWN = 'no-cache';
const VENDOR = 'public, max-age=31536000, immutable';
const JS = 'text/javascript; charset=utf-8';

const ASSETS = new Map<string, Asset>([
  ['/', { file: join(HERE, 'index.html'), contentType: 'text/html; charset=utf-8', cacheControl: OWN, rewrite: (t) => t.replaceAll('%UPLOT_BASE%', UPLOT_BASE) }],
  ['/dashboard/dashboard.js', { file: join(HERE, 'dashboard.js'), contentType: JS, cacheControl: OWN }],
  ['/dashboard/charts.js', { file: join(HERE, 'charts.js'), contentType: JS, cacheControl: OWN }],
  ['/dashboard/render.js', { file: join(HERE, 'render.js'), contentType: JS, cacheControl: OWN }],
  ['/dashboard/dashboard.css', { file: join(HERE, 'dashboard.css'), contentType: 'text/css; charset=utf-8', cacheControl: OWN }],
  [`${UPLOT_BASE}/uPlot.esm.js`, { file: join(UPLOT_DIR, 'dist', 'uPlot.esm.js'), contentType: JS, cacheControl: VENDOR }],
  [`${UPLOT_BASE}/uPlot.min.css`, { file: join(UPLOT_DIR, 'dist', 'uPlot.min.css'), contentType: 'text/css; charset=utf-8', cacheControl: VENDOR }],
]);

// Read once: a handful of small files, and a collector serves them for its whole life.
const cache = new Map<string, Buffer>();

function load(asset: Asset): Buffer {
  let body = cache.get(asset.file);
  if (!body) {
    body = readFileSync(asset.file);
    if (asset.rewrite) body = Buffer.from(asset.rewrite(body.toString('utf8')));
    cache.set(asset.file, body);
  }
  return body;
}

/** The response for a dashboard path (the URL's pathname as received), or undefined when it is not one. */
export function dashboardRoute(pathname: string): DashboardResponse | undefined {
  const asset = ASSETS.get(pathname === '/index.html' ? '/' : pathname);
  if (!asset) return undefined;
  return {
    status: 200,
    contentType: asset.contentType,
    body: load(asset),
    headers: { 'cache-control': asset.cacheControl, 'x-content-type-options': 'nosniff' },
  };
}
