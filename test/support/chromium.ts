// A headless Chromium for browser tests: Debian's package (playwright's own download needs the
// internet, which these machines lack). Installed from apt when missing and we are root, as CI
// runs; otherwise the error says how to get it.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';

const execFileP = promisify(execFile);
const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
// No background traffic, no first-run work: the browser only talks to the page under test.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

function findChromium(): string | undefined {
  return CANDIDATES.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** apt-get install, with apt-get update first only when the plain install fails (a fresh image has no lists). */
async function installFromApt(): Promise<void> {
  const apt = (args: string[]) => execFileP('apt-get', args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 600_000 });
  try {
    await apt(['install', '-y', 'chromium']);
  } catch {
    await apt(['update']);
    await apt(['install', '-y', 'chromium']);
  }
}

export async function chromiumPath(): Promise<string> {
  const found = findChromium();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error('the browser tests need Chromium at /usr/bin/chromium and none is there (not root, so not installed from apt). Fix: `sudo apt-get install -y chromium`.');
  }
  try {
    await installFromApt();
  } catch (err) {
    throw new Error(`installing chromium from apt failed: ${(err as Error).message}`, { cause: err });
  }
  const installed = findChromium();
  if (!installed) throw new Error('apt-get installed chromium but no /usr/bin/chromium is there');
  return installed;
}

/**
 * Playwright's launch() gives the browser a fresh --user-data-dir of its own (and refuses one in
 * args), removed on close: no state leaks between runs.
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: await chromiumPath(), args: FLAGS, timeout: 60_000 });
}
