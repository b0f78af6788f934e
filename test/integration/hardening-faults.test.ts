// Issue 7 fault test: 20 containers running and a create/start/stop/rm loop, while berthd, a container's
// monitor and a container's process are killed -9 at random points. Afterwards every container's state is
// true, stop and rm work on all, and no mount, cgroup, berth-helper process or daemon fd is left over.
// BERTH_FAULT_SECONDS sets how long the loop runs (default 60); BERTH_FAULT_SEED replays a run.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '../../src/client/index.js';
import { isRoot } from '../helpers/bundle.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { containerCgroups, eventually, fdCount, fdTargets, helperProcesses, monitorsUnder, mountsUnder, running } from '../helpers/leaks.js';
import { tarDir } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';

const SECONDS = Number(process.env.BERTH_FAULT_SECONDS ?? 60);
const SEED = Number(process.env.BERTH_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const KEEPERS = 20;

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('hardening: faults', { skip: isRoot ? false : 'needs root' }, () => {
  let d: Daemon;
  let api: Client;
  let idleFds = 0;
  let idleTargets: string[] = [];
  const rand = prng(SEED);
  const pick = <T>(xs: T[]): T | undefined => xs[Math.floor(rand() * xs.length)];
  const cdir = (id: string) => path.join(d.root, 'containers', id);
  const seen = new Set<string>();

  before(async () => {
    d = await startDaemon();
    api = new Client(d.host);
    await api.importImage(chunks(await tarDir(await busyboxRootfs(), false)), { repo: 'bb', tag: 'faults' });
    idleFds = fdCount(d.pid);
    idleTargets = fdTargets(d.pid);
  });
  after(async () => { await d?.stop(); });

  const run = async (cmd: string[]): Promise<string> => {
    const { Id } = await api.createContainer({ Image: 'bb:faults', Cmd: cmd });
    seen.add(Id);
    return Id;
  };

  test(`kill -9 of berthd, a monitor and a container at random points (seed ${SEED}, ${SECONDS} s)`, { timeout: (SECONDS + 240) * 1000 }, async (t) => {
    t.diagnostic(`seed ${SEED}: replay with BERTH_FAULT_SEED=${SEED}`);
    const keepers: string[] = [];
    for (let i = 0; i < KEEPERS; i++) {
      const id = await run(['sleep', '100000']);
      await api.startContainer(id);
      keepers.push(id);
    }
    const initsBefore = new Set(helperProcesses().filter((p) => p.argv[1] === 'init').map((p) => p.pid));

    const faults = { daemon: 0, monitor: 0, process: 0, errors: 0, cycles: 0 };
    const fault = async () => {
      const r = rand();
      if (r < 0.2) {
        faults.daemon++;
        await d.crashAndRestart();
        return;
      }
      // a running container, keeper or not
      const live = [...seen].filter((id) => monitorsUnder(cdir(id)).length > 0);
      const id = pick(live);
      if (!id) return;
      if (r < 0.6) {
        const mon = monitorsUnder(cdir(id))[0];
        if (mon) { faults.monitor++; try { process.kill(mon.pid, 'SIGKILL'); } catch { /* gone */ } }
      } else {
        const pid = await api.inspectContainer(id).then((c) => c.State?.Pid ?? 0, () => 0);
        if (pid > 0) { faults.process++; try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      }
    };
    // One cycle; the fault fires after a random number of its steps, or between two of them, while a step is in flight.
    const cycle = async () => {
      const at = Math.floor(rand() * 5);
      const delay = Math.floor(rand() * 150);
      let step = 0;
      const maybe = async (p: Promise<unknown>) => {
        const f = step++ === at ? new Promise((r) => setTimeout(r, delay)).then(fault) : undefined;
        const [res] = await Promise.allSettled([within(p, `step ${step - 1} of a cycle`), f]);
        if (res.status === 'rejected' && res.reason instanceof Hung) throw res.reason;
        if (res.status === 'rejected') faults.errors++; // the daemon was killed under it, or the container was
      };
      let id: string | undefined;
      await maybe(run(['sleep', '100000']).then((x) => { id = x; }));
      if (!id) return;
      await maybe(api.startContainer(id));
      await maybe(api.stopContainer(id, { timeout: Math.floor(rand() * 2) }));
      await maybe(rand() < 0.3 ? api.startContainer(id) : Promise.resolve());
      await maybe(api.removeContainer(id, { force: true }));
      // a keeper: started again if it died (a no-op 304 otherwise)
      const dead = pick(keepers);
      if (dead && rand() < 0.3) await within(api.startContainer(dead), 'start').catch((e) => { if (e instanceof Hung) throw e; faults.errors++; });
      faults.cycles++;
    };
    const end = Date.now() + SECONDS * 1000;
    while (Date.now() < end) await cycle();
    t.diagnostic(JSON.stringify(faults));

    // every container's state is true: running <=> its process lives (a restored one's exit is polled: give it a moment)
    const untrue = async () => {
      const bad: string[] = [];
      for (const s of await api.listContainers({ all: true })) {
        const c = await api.inspectContainer(s.Id);
        const pid = c.State?.Pid ?? 0;
        if (!!c.State?.Running !== running(pid) || (!c.State?.Running && pid !== 0)) bad.push(`${s.Id.slice(0, 12)} ${c.State?.Status} pid ${pid}`);
      }
      return bad;
    };
    let bad: string[] = [];
    await eventually(async () => (bad = await untrue()).length === 0, 20_000);
    assert.deepEqual(bad, [], 'containers whose state is not true');

    // stop and rm work on all
    const all = await api.listContainers({ all: true });
    const stopped = await Promise.allSettled(all.map((c) => within(api.stopContainer(c.Id, { timeout: 1 }), `stop ${c.Id}`)));
    assert.deepEqual(stopped.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)), []);
    for (const c of all) await within(api.removeContainer(c.Id, { force: true }), `rm -f ${c.Id}`);
    assert.deepEqual(await api.listContainers({ all: true }), []);

    // nothing is left: mounts, cgroups, helpers, fds
    assert.deepEqual(mountsUnder(d.root), [], 'mounts under the daemon root');
    assert.deepEqual([...seen].flatMap(containerCgroups), [], 'cgroup directories of its containers');
    assert.deepEqual(monitorsUnder(d.root).map((p) => p.pid), [], 'monitors of its containers');
    const fresh = () => helperProcesses().filter((p) => p.argv[1] === 'init' && !initsBefore.has(p.pid)).map((p) => p.pid);
    assert.ok(await eventually(() => fresh().length === 0, 60_000), `berth-helper init left: ${fresh().join(' ')}`);
    api.close(); // its keep-alive connections are fds of the daemon's too
    await eventually(() => fdCount(d.pid) <= idleFds + 2, 60_000);
    assert.ok(fdCount(d.pid) <= idleFds + 2, `berthd has ${fdCount(d.pid)} fds, ${idleFds} when idle: ${fdTargets(d.pid).join(' ')} (idle: ${idleTargets.join(' ')})`);
    assert.deepEqual(fs.readdirSync(path.join(d.root, 'containers')), [], 'container directories left');
  });
});

class Hung extends Error {}

/** A call that never returns (stop on a container nobody watches) fails the test instead of hanging it. */
function within<T>(p: Promise<T>, what: string, ms = 60_000): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => { t = setTimeout(() => reject(new Hung(`${what} did not return in ${ms / 1000} s`)), ms); });
  return Promise.race([p, hung]).finally(() => clearTimeout(t));
}

function chunks(b: Buffer): AsyncIterable<Uint8Array> {
  return (async function* () { yield b; })();
}
