// cli/docker/credentials: the X-Registry-Auth a pull or push sends. Apart from the image commands so that
// `run`'s pull (berth.cjs, the fast entry) loads only this and the credential store, not all of images.ts.
import type { AuthConfig } from '../../api/types.js';
import { configKey, credentialsFor } from '../../registry/auth.js';
import { parseReference } from '../../registry/reference.js';

/** What the docker CLI puts in X-Registry-Auth: the stored credentials of the reference's registry. */
export function authFor(ref: string): AuthConfig {
  const domain = parseReference(ref, false).domain;
  const c = credentialsFor(domain);
  if (!c) return {};
  return c.identityToken ? { identitytoken: c.identityToken, serveraddress: configKey(domain) } : { username: c.username, password: c.password, serveraddress: configKey(domain) };
}
