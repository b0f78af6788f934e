// What a compose project left on a daemon, for the compose integration tests' "nothing left" checks.
import type { Client } from '../../src/client/index.js';

/** Containers, networks and volumes carrying the project's label. */
export async function composeLeftovers(api: Client, name: string): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
  const filters = JSON.stringify({ label: [`com.docker.compose.project=${name}`] });
  return {
    containers: (await api.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${name}`] } })).map((c) => c.Names[0]!),
    networks: (await api.json<Array<{ Name: string }>>('GET', '/networks', { query: { filters } })).map((n) => n.Name),
    volumes: ((await api.json<{ Volumes: Array<{ Name: string }> | null }>('GET', '/volumes', { query: { filters } })).Volumes ?? []).map((v) => v.Name),
  };
}
