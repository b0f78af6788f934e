// containers/init: the host binary `--init` runs as the container's PID 1. Debian's tini-static: tini is
// what docker ships as docker-init, it reaps zombies and forwards signals, and the static build runs in
// any image (a busybox or scratch root has no libc for a dynamic one). Why not the monitor's own code:
// the monitor lives outside the container's pid namespace, and PID 1 inside it must be a process in the
// container's root; a second role in berth-helper would mean mounting berth's binary into every
// container and owning a signal-forwarding loop that tini already gets right.
import * as fs from 'node:fs';
import { BerthError } from '../errors.js';

/** Where it appears in the container (moby daemon/oci_linux.go WithInit: inContainerInitPath). */
export const INIT_IN_CONTAINER = '/sbin/docker-init';

/** BERTH_INIT_PATH names another; then Debian's tini-static, then docker's own copy of it. */
const CANDIDATES = ['/usr/bin/tini-static', '/usr/libexec/docker/docker-init', '/usr/local/bin/docker-init'];

/** The init binary's host path; a clear error when none is installed. */
export function initBinary(env: NodeJS.ProcessEnv = process.env): string {
  const wanted = env.BERTH_INIT_PATH ? [env.BERTH_INIT_PATH] : CANDIDATES;
  for (const p of wanted) {
    try { if (fs.statSync(p).isFile()) return p; } catch { /* next */ }
  }
  throw new BerthError('Internal', `--init: no init binary: ${wanted.join(', ')} ${wanted.length > 1 ? 'do' : 'does'} not exist; install Debian's tini package (its tini-static) or set BERTH_INIT_PATH`);
}
