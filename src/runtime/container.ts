// runtime/container: a container as the verbs see it — its record, live status and cgroup.
import { BerthError } from '../errors.js';
import { cgroupManager, type CgroupManager } from './cgroups/index.js';
import { NS_PROC_FILE } from './linux.js';
import type { Namespace, State } from './spec-types.js';
import { StateStore, ociState, statusOf, type ContainerRecord, type Status } from './state.js';

export class Container {
  private cg?: CgroupManager;
  constructor(readonly store: StateStore, readonly record: ContainerRecord) {}

  static load(store: StateStore, id: string): Container {
    return new Container(store, store.load(id));
  }

  get id(): string { return this.record.id; }

  cgroup(): CgroupManager {
    return (this.cg ??= cgroupManager(this.record.cgroupsPath));
  }

  status(): Status {
    return statusOf(this.store, this.record, () => {
      try { return this.cgroup().state() === 'frozen'; } catch { return false; }
    });
  }

  state(status = this.status()): State & { rootfs: string; created: string; owner: string } {
    return ociState(this.record, status);
  }

  /** The paths `exec` joins: every namespace the container has, through its process. */
  namespacePaths(): Namespace[] {
    return (this.record.spec.linux?.namespaces ?? []).map((n) => ({ type: n.type, path: `/proc/${this.record.pid}/ns/${NS_PROC_FILE[n.type]}` }));
  }

  must(allowed: Status[], verb: string): Status {
    const s = this.status();
    if (!allowed.includes(s)) throw new BerthError('FailedPrecondition', `cannot ${verb} container ${this.id} in ${s} state`);
    return s;
  }
}
