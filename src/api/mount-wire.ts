// api/mount-wire: docker's mount shapes <-> Berth's, pure. HostConfig.Mounts (mount.Mount) becomes a
// MountSpec and is echoed back by inspect; a container's mount points become inspect's `Mounts`.
import type { MountSpec } from '../containers/config.js';
import type { MountPoint } from '../volumes/mounts.js';
import type { MountPointWire } from './types.js';

/** swagger Mount, as the schema has already checked its types. */
export interface MountWire {
  Type?: string; Source?: string; Target?: string; ReadOnly?: boolean; Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean } | null;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> | null; DriverConfig?: { Name?: string; Options?: Record<string, string> | null } | null; Subpath?: string } | null;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] | null } | null;
}

const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null && v !== '' && v !== false)) as T;

export function toMountSpec(m: MountWire): MountSpec {
  const b = m.BindOptions, v = m.VolumeOptions, t = m.TmpfsOptions;
  return defined<MountSpec>({
    type: m.Type ?? '', source: m.Source, target: m.Target, readOnly: m.ReadOnly, consistency: m.Consistency,
    bindOptions: b ? defined({ propagation: b.Propagation, nonRecursive: b.NonRecursive, createMountpoint: b.CreateMountpoint }) : undefined,
    volumeOptions: v ? defined({
      noCopy: v.NoCopy, labels: v.Labels ?? undefined, subpath: v.Subpath,
      driverConfig: v.DriverConfig ? defined({ name: v.DriverConfig.Name, options: v.DriverConfig.Options ?? undefined }) : undefined,
    }) : undefined,
    tmpfsOptions: t ? defined({ sizeBytes: t.SizeBytes, mode: t.Mode, options: t.Options ?? undefined }) : undefined,
  });
}

export function fromMountSpec(m: MountSpec): MountWire {
  const b = m.bindOptions, v = m.volumeOptions, t = m.tmpfsOptions;
  return {
    Type: m.type, ...(m.source ? { Source: m.source } : {}), Target: m.target ?? '', ...(m.readOnly ? { ReadOnly: true } : {}),
    ...(m.consistency ? { Consistency: m.consistency } : {}),
    ...(b ? { BindOptions: { ...(b.propagation ? { Propagation: b.propagation } : {}), ...(b.nonRecursive ? { NonRecursive: true } : {}), ...(b.createMountpoint ? { CreateMountpoint: true } : {}) } } : {}),
    ...(v ? { VolumeOptions: { ...(v.noCopy ? { NoCopy: true } : {}), ...(v.labels ? { Labels: v.labels } : {}), ...(v.subpath ? { Subpath: v.subpath } : {}), ...(v.driverConfig ? { DriverConfig: { Name: v.driverConfig.name ?? '', ...(v.driverConfig.options ? { Options: v.driverConfig.options } : {}) } } : {}) } } : {}),
    ...(t ? { TmpfsOptions: { ...(t.sizeBytes ? { SizeBytes: t.sizeBytes } : {}), ...(t.mode ? { Mode: t.mode } : {}), ...(t.options ? { Options: t.options } : {}) } } : {}),
  };
}

/** inspect's Mounts entry (moby api/types/container.MountPoint), sorted by destination like docker's. */
export function mountPointWire(p: MountPoint): MountPointWire {
  return {
    Type: p.type, ...(p.name ? { Name: p.name } : {}), Source: p.source, Destination: p.destination,
    ...(p.driver ? { Driver: p.driver } : {}), Mode: p.mode, RW: p.rw, Propagation: p.propagation,
  };
}
