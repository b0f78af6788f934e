// cli/docker/inspect: the lookups of `berth inspect [--type T] NAME...` as docker/cli system/inspect.go: without --type each
// name is looked up as a container, image, network, volume and plugin in that order (a not-found answer goes
// on to the next kind); with --type only that kind, and the daemon's answer is the error.
import { ApiError, type Client } from '../../client/index.js';
import { BerthError } from '../../errors.js';
import type { Inspected } from './format.js';

const enc = encodeURIComponent;
/** Each kind's inspect endpoint (the image's name goes in as typed, as Client.inspectImage). */
const PATHS: Record<string, (n: string) => string> = {
  config: (n) => `/configs/${enc(n)}`, container: (n) => `/containers/${enc(n)}/json`, image: (n) => `/images/${n}/json`,
  network: (n) => `/networks/${enc(n)}`, node: (n) => `/nodes/${enc(n)}`, plugin: (n) => `/plugins/${enc(n)}/json`,
  secret: (n) => `/secrets/${enc(n)}`, service: (n) => `/services/${enc(n)}`, task: (n) => `/tasks/${enc(n)}`, volume: (n) => `/volumes/${enc(n)}`,
};
// docker's list skips its swarm kinds (service, task, node, secret) unless /info says the daemon is a swarm
// manager; berthd never is, so they are left out here
const AUTODETECT = ['container', 'image', 'network', 'volume', 'plugin'];

/** docker/cli isErrSkippable: what lets the search go on to the next kind. */
const skippable = (e: ApiError) => e.status === 404 || e.message.includes('not supported') || e.message.includes('invalid reference format');

async function lookup(c: Client, name: string, type: string | undefined): Promise<Inspected> {
  for (const kind of type ? [type] : AUTODETECT) {
    try { return { value: await c.json('GET', PATHS[kind]!(name)) }; } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (type || !skippable(e)) return { error: `Error response from daemon: ${e.message}` };
    }
  }
  return { error: `Error: No such object: ${name}` };
}

/** docker/cli's check of --type: the kinds it knows. */
export function checkInspectType(type: string | undefined): void {
  if (type && !Object.hasOwn(PATHS, type)) {
    throw new BerthError('InvalidArgument', `unknown type: "${type}": must be one of ${Object.keys(PATHS).map((k) => `"${k}"`).join(', ')}`);
  }
}

/**
 * Each name through `get` (image, network, volume inspect), in argument order: the object, or the daemon's
 * answer as docker/cli inspect.Inspect prints it.
 */
export async function inspectEach(names: string[], get: (n: string) => Promise<unknown>): Promise<Inspected[]> {
  const items: Inspected[] = [];
  for (const n of names) {
    try { items.push({ value: await get(n) }); } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      items.push({ error: `Error response from daemon: ${e.message}` });
    }
  }
  return items;
}

/** Each name looked up (inspectAll), in argument order: the object or the error line docker prints for it. */
export async function lookupAll(c: Client, names: string[], type: string | undefined): Promise<Inspected[]> {
  const items: Inspected[] = [];
  for (const n of names) items.push(await lookup(c, n, type));
  return items;
}
