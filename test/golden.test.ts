// Golden end-to-end: the built binary on the fixture proc tree (a proc root whose only process
// has the captured zoo tables as its net/), diffed with committed output.
// UPDATE_GOLDEN=1 npm test rewrites test/golden/* after a deliberate change.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetstat } from './support/fleetstat-cli.js';

const FIXTURES = new URL('./fixtures/proc-net/', import.meta.url).pathname;
const GOLDEN = new URL('./golden/', import.meta.url).pathname;

/** Namespace identities are the fixture files' inodes, which differ in every checkout. */
function withoutInodes(text: string): string {
  let out = text;
  for (const capture of ['zoo', 'peer']) {
    out = out.replaceAll(String(statSync(join(FIXTURES, capture, 'tcp')).ino), `<${capture}-inode>`);
  }
  return out;
}

function expectGolden(name: string, output: string): void {
  const actual = withoutInodes(output);
  const path = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(path)) writeFileSync(path, actual);
  expect(actual).toBe(readFileSync(path, 'utf8'));
}

describe('golden output on the captured proc tree', () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'fleetstat-golden-'));
    for (const [pid, capture, comm] of [
      [1, 'zoo', 'zoo'],
      [2, 'peer', 'peer'],
    ] as const) {
      mkdirSync(join(root, String(pid)));
      symlinkSync(join(FIXTURES, capture), join(root, String(pid), 'net'));
      writeFileSync(join(root, String(pid), 'comm'), `${comm}\n`);
      writeFileSync(join(root, String(pid), 'cgroup'), `0::/${comm}.slice\n`);
    }
    symlinkSync('1', join(root, 'self'));
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('netstat -anW prints the Internet rows net-tools printed when the tables were captured', async () => {
    const { stdout, code } = await fleetstat(['netstat', '-anW', '--proc', root]);
    expect(code).toBe(0);
    const inet = (text: string): string => text.slice(0, text.indexOf('Active UNIX'));
    expect(inet(stdout)).toBe(inet(readFileSync(join(FIXTURES, 'zoo', 'netstat-an.txt'), 'utf8')));
    expectGolden('netstat-anW.txt', stdout);
  });

  it('netstat -tan --netns all tags both namespaces', async () => {
    const { stdout } = await fleetstat(['netstat', '-tan', '--netns', 'all', '--proc', root]);
    expectGolden('netstat-tan-all.txt', stdout);
  });

  it('netstat --http counts HTTP connections', async () => {
    const { stdout } = await fleetstat(['netstat', '--http', '--netns', 'all', '--proc', root]);
    expect(stdout).toMatch(/^TOTAL \d+$/m);
    expectGolden('netstat-http.txt', stdout);
  });

  it('agent --once prints the snapshot (clock, epoch and timings masked)', async () => {
    const { stdout, code } = await fleetstat(['agent', '--once', '--node', 'golden', '--proc', root]);
    expect(code).toBe(0);
    const snapshot = JSON.parse(stdout) as Record<string, unknown>;
    expect(snapshot).toMatchObject({ node: 'golden', cluster: 'default', seq: 1 });
    const masked = JSON.stringify(
      snapshot,
      (key, value: unknown) => (['epoch', 'agentTimeMs', 'readMicros', 'agentVersion'].includes(key) ? '<masked>' : value),
      2,
    );
    expectGolden('agent-once.json', `${masked}\n`);
  });
});
