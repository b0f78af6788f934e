// api/schema/system: the body of POST /auth, swagger AuthConfig (api/types/registry.AuthConfig: the
// swagger names three fields, the Go type and the CLI use all of these).
import { obj, str } from './dsl.js';

// The credentials travel in one Authorization header, which registries bound (distribution: 1 MB for all
// headers, nginx in front of one: 8 KB a line); tokens of cloud registries are a few KB. A larger one gets the
// field named in a 400 here, not a connection the registry cut while we were still sending it.
const credential = { ...str, maxLength: 64 * 1024 };

export const authConfig = obj({
  username: credential, password: credential, auth: credential, email: str, serveraddress: str, identitytoken: credential, registrytoken: credential,
});
