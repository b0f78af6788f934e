// registry: owns talking to registries (distribution API v2, auth, credentials); never writes the image store.
export { RegistryClient, MANIFEST_TYPES, insecureFromEnv, pullScope, pushScope, type ClientOptions, type Fetched } from './client.js';
export { parseReference, formatReference, repoName, familiarName, familiarString, DEFAULT_DOMAIN, type Reference } from './reference.js';
export { credentialsFor, saveCredentials, removeCredentials, parseChallenges, dockerConfigPath, configKey, type Credentials, type Challenge } from './auth.js';
