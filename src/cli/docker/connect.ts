// cli/docker/connect: which daemon (-H, BERTH_HOST, DOCKER_HOST, default socket) at which API version
// (DOCKER_API_VERSION, else negotiated: client/api-version), and how errors print:
// daemon errors as the docker CLI prints them, an unreachable daemon with how to start one.
import { ApiError, Client, DaemonUnreachable, resolveHost } from '../../client/index.js';
import { fixedApiVersion } from '../../client/api-version.js';
import { BerthError, isBerthError } from '../../errors.js';
import { HelpRequested } from '../args.js';

export interface Globals { host?: string }

export function connect(g: Globals): Client {
  let version: string | undefined;
  // a bad DOCKER_API_VERSION keeps the "Error: " it had before report() printed messages as they are
  try { version = fixedApiVersion(); } catch (e) { throw isBerthError(e) ? new BerthError(e.kind, `Error: ${e.message}`) : e; }
  return new Client(resolveHost(g.host), version);
}

/** Prints an error as docker does and returns the exit code. */
export function report(e: unknown): number {
  if (e instanceof HelpRequested) throw e; // the dispatcher prints the command's help
  if (e instanceof DaemonUnreachable) {
    process.stderr.write(`${e.message}\nStart one with \`berthd &\` (as root; it listens on unix:///run/berth/berth.sock), or point -H, BERTH_HOST or DOCKER_HOST at a running daemon.\n`);
    return 1;
  }
  if (e instanceof ApiError) { process.stderr.write(`Error response from daemon: ${e.message}\n`); return 1; }
  // docker's main prints any other error as it is (fmt.Fprintln(err)): the "Error: " of some (port, start)
  // is part of their message there, and here
  // exitCode: docker's own for some (inspect's template that does not parse: 64)
  if (isBerthError(e) || e instanceof Error) { process.stderr.write(`${e.message}\n`); return (e as { exitCode?: number }).exitCode ?? 1; }
  process.stderr.write(`${String(e)}\n`);
  return 1;
}
