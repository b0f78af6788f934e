// api/schema/system: the body of POST /auth, swagger AuthConfig (api/types/registry.AuthConfig: the
// swagger names three fields, the Go type and the CLI use all of these).
import { obj, str } from './dsl.js';

export const authConfig = obj({
  username: str, password: str, auth: str, email: str, serveraddress: str, identitytoken: str, registrytoken: str,
});
