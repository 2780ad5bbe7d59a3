// The built `fleetstat` command, as tests run it (npm test builds before testing).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const FLEETSTAT_BIN = fileURLToPath(new URL('../../bin/fleetstat.js', import.meta.url));

const execFileP = promisify(execFile);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs fleetstat in this process's namespace; a non-zero exit is returned, not thrown. */
export async function fleetstat(args: readonly string[], opts: { encoding?: 'utf8'; env?: Record<string, string> } = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [FLEETSTAT_BIN, ...args], {
      maxBuffer: 512 * 1024 * 1024,
      encoding: opts.encoding ?? 'utf8',
      ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
