// containers/names: container IDs, names and reference resolution the way docker does them. Pure.
import { randomBytes } from 'node:crypto';
import { BerthError } from '../errors.js';

export function newId(): string {
  return randomBytes(32).toString('hex');
}

// moby daemon/names: RestrictedNamePattern
const NAME_RE = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** "web" or "/web" -> "web"; docker's error wording otherwise. */
export function checkName(name: string): string {
  if (!NAME_RE.test(name)) throw new BerthError('InvalidArgument', `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name.replace(/^\//, '');
}

const LEFT = ['brave', 'calm', 'eager', 'fond', 'gentle', 'happy', 'jolly', 'keen', 'lucid', 'merry', 'nimble', 'proud',
  'quiet', 'rapid', 'sharp', 'steady', 'swift', 'tender', 'vivid', 'wise', 'bold', 'clever', 'daring', 'epic'];
const RIGHT = ['anchor', 'beacon', 'buoy', 'cabin', 'compass', 'dock', 'ferry', 'galley', 'harbor', 'hull', 'jetty', 'keel',
  'lantern', 'mast', 'pier', 'quay', 'rudder', 'sail', 'schooner', 'skiff', 'tide', 'wharf', 'yawl', 'berth'];

/** A readable unique name like docker's "adjective_noun", avoiding `taken`. */
export function randomName(taken: (n: string) => boolean): string {
  for (let i = 0; ; i++) {
    const b = randomBytes(2);
    const n = `${LEFT[b[0]! % LEFT.length]}_${RIGHT[b[1]! % RIGHT.length]}${i > 10 ? i : ''}`;
    if (!taken(n)) return n;
  }
}

export interface Named { id: string; name: string }

/** Full ID, name (with or without "/"), or a unique ID prefix; docker's messages for the rest. */
export function resolveRef<T extends Named>(ref: string, all: T[]): T {
  const exact = all.find((c) => c.id === ref || c.name === ref.replace(/^\//, ''));
  if (exact) return exact;
  if (/^[a-f0-9]+$/.test(ref)) {
    const hits = all.filter((c) => c.id.startsWith(ref));
    if (hits.length === 1) return hits[0]!;
    if (hits.length > 1) throw new BerthError('InvalidArgument', `multiple IDs found with provided prefix: ${ref}`);
  }
  throw new BerthError('NotFound', `No such container: ${ref}`);
}
