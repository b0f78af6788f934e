// client/api-version: which API version the client's paths carry (issue 10). The rules are moby's client
// (client/client.go negotiateAPIVersionPing, client_options.go WithAPIVersionFromEnv, utils.go parseAPIVersion):
// DOCKER_API_VERSION fixes the version (no negotiation: a version above the daemon's gets the daemon's error);
// otherwise the client uses the lower of its own and the daemon's Api-Version header, and 1.24 when the daemon
// sends none (the version before the header existed).
import { BerthError } from '../errors.js';
import { API_VERSION, compareVersions } from '../api/version.js';

/** moby client fallbackAPIVersion: a daemon that names no version is older than the Api-Version header. */
export const FALLBACK_API_VERSION = '1.24';

/**
 * A version as moby's client takes it ("1.41", " v1.41 "), normalised ("1.041" → "1.41"); the errors are
 * its words: `invalid API version (1.2.3): invalid minor version: must be formatted <major>.<minor>`.
 */
export function parseApiVersion(value: string): string {
  const raw = value.trim();
  const v = raw.startsWith('v') ? raw.slice(1) : raw;
  const bad = (why: string) => new BerthError('InvalidArgument', `invalid API version (${raw}): ${why}must be formatted <major>.<minor>`);
  if (v === '') throw new BerthError('InvalidArgument', `invalid API version (${raw}): value is empty`);
  if (v.startsWith('v')) throw bad('');
  const dot = v.indexOf('.');
  if (dot < 0) throw bad('');
  // Go's strconv.Atoi: an optional sign, then decimal digits only
  const int = /^[+-]?[0-9]+$/;
  const major = v.slice(0, dot);
  const minor = v.slice(dot + 1);
  // (and within an int: Atoi refuses what overflows)
  if (!int.test(major) || !Number.isSafeInteger(Number(major))) throw bad('invalid major version: ');
  if (!int.test(minor) || !Number.isSafeInteger(Number(minor))) throw bad('invalid minor version: ');
  return `${Number(major)}.${Number(minor)}`;
}

/** DOCKER_API_VERSION, when set to something other than blanks: the fixed version. */
export function fixedApiVersion(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const raw = (env.DOCKER_API_VERSION ?? '').trim();
  if (raw === '' || raw === 'v') return undefined;
  return parseApiVersion(raw);
}

/**
 * The version to use with a daemon that advertised `server` (its Api-Version header; undefined: it sent
 * none): the lower of ours and the daemon's. A header that is no version at all counts as none.
 */
export function negotiatedVersion(server: string | undefined, ours: string = API_VERSION): string {
  let theirs = FALLBACK_API_VERSION;
  if (server !== undefined && server.trim() !== '') {
    try { theirs = parseApiVersion(server); } catch { /* not a version: as if none */ }
  }
  return compareVersions(theirs, ours) < 0 ? theirs : ours;
}
