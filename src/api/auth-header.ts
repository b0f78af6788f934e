// api/auth-header: the X-Registry-Auth header's codec (base64url JSON AuthConfig), for the daemon and the client.
import type { AuthConfig } from './types.js';

/** Decodes X-Registry-Auth; garbage or `e30=` ({}) mean anonymous, as moby's registry.DecodeAuthConfig tolerates. */
export function decodeAuthHeader(h: string | string[] | undefined): AuthConfig | undefined {
  if (typeof h !== 'string' || h === '') return undefined;
  try {
    const j = JSON.parse(Buffer.from(h.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8')) as AuthConfig;
    return j && typeof j === 'object' ? j : undefined;
  } catch { return undefined; }
}

export function encodeAuthHeader(a: AuthConfig): string {
  return Buffer.from(JSON.stringify(a)).toString('base64url');
}
