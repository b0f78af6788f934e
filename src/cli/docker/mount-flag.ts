// cli/docker/mount-flag: `--mount type=…,source=…,target=…` and `-v`, as the docker CLI turns them into
// HostConfig.Mounts, Binds and Config.Volumes (docker/cli opts/mount.go, command/container/opts.go).
import { BerthError } from '../../errors.js';
import type { MountWire } from '../../api/mount-wire.js';
import { ramInBytes } from './containers.js';

const fail = (v: string, why: string) => new BerthError('InvalidArgument', `invalid argument "${v}" for "--mount" flag: ${why}`);

function bool(v: string, key: string, value: string | undefined): boolean {
  if (value === undefined) return true;
  if (/^(1|t|T|TRUE|true|True)$/.test(value)) return true;
  if (/^(0|f|F|FALSE|false|False)$/.test(value)) return false;
  throw fail(v, `invalid value for ${key}: ${value}`);
}

/** One --mount value: comma-separated key=value fields (a bare readonly/ro is true). */
export function parseMountFlag(v: string): MountWire {
  const m: MountWire = {};
  const bind = () => (m.BindOptions ??= {});
  const vol = () => (m.VolumeOptions ??= {});
  const tmpfs = () => (m.TmpfsOptions ??= {});
  for (const field of v.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? undefined : field.slice(eq + 1).trim();
    if (value === undefined && !['readonly', 'ro', 'volume-nocopy', 'bind-nonrecursive', 'bind-create-mountpoint'].includes(key)) throw fail(v, `invalid field '${field}' must be a key=value pair`);
    switch (key) {
      case 'type': m.Type = value; break;
      case 'source': case 'src': m.Source = value; break;
      case 'target': case 'dst': case 'destination': m.Target = value; break;
      case 'readonly': case 'ro': m.ReadOnly = bool(v, key, value); break;
      case 'consistency': m.Consistency = value; break;
      case 'bind-propagation': bind().Propagation = value; break;
      case 'bind-nonrecursive': bind().NonRecursive = bool(v, key, value); break;
      case 'bind-create-mountpoint': bind().CreateMountpoint = bool(v, key, value); break;
      case 'volume-nocopy': vol().NoCopy = bool(v, key, value); break;
      case 'volume-subpath': vol().Subpath = value; break;
      case 'volume-driver': (vol().DriverConfig ??= {}).Name = value; break;
      case 'volume-label': case 'volume-opt': {
        const i = value!.indexOf('=');
        if (i < 0) throw fail(v, `invalid ${key} '${value}': must be key=value`);
        if (key === 'volume-label') (vol().Labels ??= {})[value!.slice(0, i)] = value!.slice(i + 1);
        else ((vol().DriverConfig ??= {}).Options ??= {})[value!.slice(0, i)] = value!.slice(i + 1);
        break;
      }
      case 'tmpfs-size': tmpfs().SizeBytes = ramInBytes(value!); break;
      case 'tmpfs-mode': {
        if (!/^[0-7]+$/.test(value!)) throw fail(v, `invalid value for ${key}: ${value}`);
        tmpfs().Mode = parseInt(value!, 8);
        break;
      }
      default: throw fail(v, `unexpected key '${key}' in '${field}'`);
    }
  }
  m.Type ??= 'volume'; // the docker CLI's default
  if (!m.Target) throw fail(v, 'target is required');
  if (m.BindOptions && m.Type !== 'bind') throw fail(v, `cannot mix 'bind-*' options with mount type '${m.Type}'`);
  if (m.VolumeOptions && m.Type !== 'volume') throw fail(v, `cannot mix 'volume-*' options with mount type '${m.Type}'`);
  if (m.TmpfsOptions && m.Type !== 'tmpfs') throw fail(v, `cannot mix 'tmpfs-*' options with mount type '${m.Type}'`);
  return m;
}

/** -v: "/path" alone is an anonymous volume (Config.Volumes); anything with a source is a bind (Binds). */
export function splitVolumeFlags(vs: string[]): { binds: string[]; volumes: Record<string, object> } {
  const binds: string[] = [], volumes: Record<string, object> = {};
  for (const v of vs) {
    if (v.split(':').length > 1) binds.push(v);
    else volumes[v] = {};
  }
  return { binds, volumes };
}

/** --log-opt k=v */
export function parseLogOpts(vs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of vs) {
    const i = v.indexOf('=');
    if (i <= 0) throw new BerthError('InvalidArgument', `invalid argument "${v}" for "--log-opt" flag: invalid key value pair format in logging opts`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}
