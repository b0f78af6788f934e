// cli/docker/exec: `berth exec [-d -i -t -u -w -e --privileged] CONTAINER CMD…` as the docker CLI does it:
// create the exec instance, start it over a hijacked stream, then read its exit code.
import { BerthError } from '../../errors.js';
import { parseFlags } from '../args.js';
import { connect, report, type Globals } from './connect.js';
import { stream } from './containers.js';

export async function exec(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, {
    detach: { short: 'd', type: 'bool' }, interactive: { short: 'i', type: 'bool' }, tty: { short: 't', type: 'bool' },
    user: { short: 'u', type: 'string' }, workdir: { short: 'w', type: 'string' }, env: { short: 'e', type: 'list' },
    privileged: { type: 'bool' }, 'detach-keys': { type: 'string' },
  }, 1);
  const id = p.positionals[0];
  if (!id || p.rest.length === 0) throw new BerthError('InvalidArgument', '"exec" requires at least 2 arguments: CONTAINER COMMAND [ARG...]');
  const tty = !!p.flags.tty, interactive = !!p.flags.interactive, detach = !!p.flags.detach;
  if (tty && interactive && !process.stdin.isTTY) { process.stderr.write('the input device is not a TTY\n'); return 1; }
  const c = connect(g);
  try {
    const { Id: execId } = await c.json<{ Id: string }>('POST', `/containers/${encodeURIComponent(id)}/exec`, {
      body: {
        AttachStdin: interactive && !detach, AttachStdout: !detach, AttachStderr: !detach, Tty: tty, Cmd: p.rest,
        Env: p.flags.env ?? [], User: p.flags.user ?? '', WorkingDir: p.flags.workdir ?? '', Privileged: !!p.flags.privileged,
        DetachKeys: p.flags['detach-keys'] ?? '',
      },
    });
    if (detach) {
      await c.json('POST', `/exec/${execId}/start`, { body: { Detach: true, Tty: tty } });
      return 0;
    }
    const sock = await c.hijack('POST', `/exec/${execId}/start`, undefined, { Detach: false, Tty: tty });
    const session = stream(c, id, sock, { tty, stdin: interactive }, (h, w) => c.json('POST', `/exec/${execId}/resize`, { query: { h, w } }));
    await session.output;
    session.close();
    if (interactive) process.stdin.destroy();
    const info = await c.json<{ ExitCode: number | null }>('GET', `/exec/${execId}/json`);
    return info.ExitCode ?? 0;
  } catch (e) {
    return report(e);
  } finally { c.close(); }
}
