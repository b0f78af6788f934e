#!/usr/bin/env node
// Runs the compiled test suite: `node test/run.mjs [unit|integration] [FILTER]`.
// As root the run happens inside a private mount namespace, so a failing test cannot leave
// mounts behind on the host. Node's test runner prints the closing summary CI reads.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const [kind, filter] = process.argv.slice(2);
const root = new URL('../dist/test/', import.meta.url).pathname;
const dirs = kind === 'unit' || kind === 'integration' ? [kind] : ['unit', 'integration'];
const files = [];
const walk = (d) => {
  let names = [];
  try { names = readdirSync(d); } catch { return; }
  for (const n of names.sort()) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p);
    else if (n.endsWith('.test.js') && (!filter || p.includes(filter))) files.push(p);
  }
};
for (const d of dirs) walk(join(root, d));
if (files.length === 0) { console.error('no test files found: run `npm run build` first'); process.exit(1); }

// --test-force-exit: a file whose tests are done ends even if a failed test left a socket or a timer behind (Node 20
// otherwise waits for its event loop forever, and CI only sees its own timeout).
const node = [process.execPath, '--test', '--test-concurrency=1', '--test-force-exit', `--test-timeout=${20 * 60_000}`, ...files];
const asRoot = process.getuid?.() === 0;
const cmd = asRoot ? ['unshare', '-m', '--propagation', 'private', ...node] : node;
// The output goes through pipes of ours, so a process a failed test left behind holding them (a daemon, a monitor)
// cannot keep CI waiting for their end; the run as a whole has a bound well inside CI's 90 minutes.
const LIMIT_MS = Number(process.env.BERTH_TEST_LIMIT_MS ?? 70 * 60_000);
const child = spawn(cmd[0], cmd.slice(1), { stdio: ['inherit', 'pipe', 'pipe'], detached: true });
child.stdout.pipe(process.stdout);
child.stderr.pipe(process.stderr);
const limit = setTimeout(() => {
  console.error(`test/run: the run passed ${LIMIT_MS / 60_000} minutes; killing it`);
  try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
}, LIMIT_MS);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { try { process.kill(-child.pid, sig); } catch { /* gone */ } });
child.on('exit', (code) => {
  clearTimeout(limit);
  // what is still buffered comes out; a pipe some leftover process holds open is not waited for
  const ended = (s) => new Promise((r) => { if (s.readableEnded || s.destroyed) r(); else { s.once('end', r); s.once('close', r); } });
  const grace = new Promise((r) => setTimeout(r, 2000));
  void Promise.race([Promise.all([ended(child.stdout), ended(child.stderr)]), grace]).then(() => {
    child.stdout.destroy();
    child.stderr.destroy();
    process.exitCode = code ?? 1;
    process.stdout.write('', () => process.exit());
  });
});
