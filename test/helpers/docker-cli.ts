// The real docker CLI (/usr/local/bin/docker) against a test daemon: exit code and output, never a throw.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const DOCKER = '/usr/local/bin/docker';

export interface CliOut { code: number; stdout: string; stderr: string }

/**
 * `docker(...args)` runs the CLI with the daemon's environment (DOCKER_HOST); `ok(...args)` also asserts
 * exit 0 and gives stdout, its message naming the command, its stderr and (`log`) the daemon's log tail.
 */
export function dockerCli(env: () => NodeJS.ProcessEnv, o: { timeout?: number; log?: () => string } = {}) {
  const docker = async (...args: string[]): Promise<CliOut> => {
    try {
      const r = await run(DOCKER, args, { env: env(), maxBuffer: 256 << 20, timeout: o.timeout ?? 60_000 });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const x = e as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof x.code === 'number' ? x.code : 1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
    }
  };
  const ok = async (...args: string[]): Promise<string> => {
    const r = await docker(...args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}${o.log ? `\n${o.log().slice(-2000)}` : ''}`);
    return r.stdout;
  };
  return { docker, ok };
}
