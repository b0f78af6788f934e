// runtime/hooks: runs OCI hooks (runtime-spec config.md "POSIX-platform Hooks") with the state on stdin.
import { spawn } from 'node:child_process';
import { BerthError } from '../errors.js';
import type { Hook, State } from './spec-types.js';

export type HookName = 'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop';

/** Runs hooks in order; the first failure stops the rest. `nsenter` runs each inside a process's namespaces. */
export async function runHooks(name: HookName, hooks: Hook[] | undefined, state: State, nsenter?: { pid: number; flags: string[] }): Promise<void> {
  for (const [i, h] of (hooks ?? []).entries()) {
    const argv = h.args && h.args.length ? h.args : [h.path];
    const [file, args] = nsenter
      ? ['nsenter', [`--target=${nsenter.pid}`, ...nsenter.flags, '--', h.path, ...argv.slice(1)]]
      : [h.path, argv.slice(1)];
    await new Promise<void>((resolve, reject) => {
      const child = spawn(file, args, { argv0: nsenter ? undefined : argv[0], env: Object.fromEntries((h.env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])), stdio: ['pipe', 'inherit', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (d) => { stderr += d; });
      const timer = h.timeout ? setTimeout(() => child.kill('SIGKILL'), h.timeout * 1000) : undefined;
      child.on('error', (e) => { clearTimeout(timer); reject(new BerthError('FailedPrecondition', `hooks.${name}[${i}] ${h.path}: ${e.message}`)); });
      child.on('exit', (code, sig) => {
        clearTimeout(timer);
        if (code === 0) resolve();
        else reject(new BerthError('FailedPrecondition', `hooks.${name}[${i}] ${h.path}: ${sig ? `killed by ${sig}${h.timeout ? ` (timeout ${h.timeout}s)` : ''}` : `exit status ${code}`}${stderr ? `: ${stderr.trim()}` : ''}`));
      });
      child.stdin!.on('error', () => { /* a hook need not read its state */ });
      child.stdin!.end(JSON.stringify(state));
    });
  }
}

/** nsenter flags for hooks that run "in the container namespace". */
export function nsenterFlags(namespaces: Array<{ type: string }>): string[] {
  const f: Record<string, string> = { mount: '--mount', uts: '--uts', ipc: '--ipc', network: '--net', pid: '--pid', cgroup: '--cgroup', user: '--user' };
  return namespaces.map((n) => f[n.type]).filter((x): x is string => !!x);
}
