// cli/docker/connect: which daemon (-H, BERTH_HOST, DOCKER_HOST, default socket) at which API version
// (DOCKER_API_VERSION, else negotiated: client/api-version), and how errors print:
// daemon errors as the docker CLI prints them, an unreachable daemon with how to start one.
import { ApiError, Client, DaemonUnreachable, resolveHost } from '../../client/index.js';
import { fixedApiVersion } from '../../client/api-version.js';
import { isBerthError } from '../../errors.js';
import { HelpRequested } from '../args.js';

export interface Globals { host?: string }

export function connect(g: Globals): Client {
  return new Client(resolveHost(g.host), fixedApiVersion());
}

/** Prints an error as docker does and returns the exit code. */
export function report(e: unknown): number {
  if (e instanceof HelpRequested) throw e; // the dispatcher prints the command's help
  if (e instanceof DaemonUnreachable) {
    process.stderr.write(`${e.message}\nStart one with \`berthd &\` (as root; it listens on unix:///run/berth/berth.sock), or point -H, BERTH_HOST or DOCKER_HOST at a running daemon.\n`);
    return 1;
  }
  if (e instanceof ApiError) { process.stderr.write(`Error response from daemon: ${e.message}\n`); return 1; }
  if (isBerthError(e) || e instanceof Error) { process.stderr.write(`Error: ${e.message}\n`); return 1; }
  process.stderr.write(`Error: ${String(e)}\n`);
  return 1;
}
