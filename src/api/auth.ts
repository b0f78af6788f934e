// api/auth: registry credentials that arrive with a request (X-Registry-Auth, base64url JSON AuthConfig)
// reach the registry client through an AsyncLocalStorage, so one ImageService serves every caller and
// the daemon never reads a user's ~/.docker/config.json (dockerd does not either).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Credentials } from '../registry/index.js';
// reference.js, not the registry's index: what imports this file need not load the registry client
import { DEFAULT_DOMAIN } from '../registry/reference.js';
import type { AuthConfig } from './types.js';

// the header's codec lives apart: the CLI's client needs it without this file's AsyncLocalStorage
export { decodeAuthHeader, encodeAuthHeader } from './auth-header.js';

const current = new AsyncLocalStorage<AuthConfig | undefined>();

/** AuthConfig → the registry client's credentials (`auth` is base64 user:pass). */
export function toCredentials(a: AuthConfig | undefined): Credentials | undefined {
  if (!a) return undefined;
  if (a.identitytoken) return { identityToken: a.identitytoken };
  let { username, password } = a;
  if (!username && a.auth) {
    const s = Buffer.from(a.auth, 'base64').toString('utf8');
    const i = s.indexOf(':');
    if (i > 0) { username = s.slice(0, i); password = s.slice(i + 1); }
  }
  return username ? { username, password } : undefined;
}

export function withRegistryAuth<T>(a: AuthConfig | undefined, fn: () => Promise<T>): Promise<T> {
  return current.run(a, fn);
}

function hostOf(server: string): string {
  const s = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return s === 'index.docker.io' || s === 'registry-1.docker.io' ? DEFAULT_DOMAIN : s;
}

/** The ImageService `credentials` hook: the request's AuthConfig, when it names this host or no host. */
export function requestCredentials(host: string): Credentials | undefined {
  const a = current.getStore();
  if (!a) return undefined;
  if (a.serveraddress && hostOf(a.serveraddress) !== host) return undefined;
  return toCredentials(a);
}
