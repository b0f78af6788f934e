// api/routes/absent: the features Berth does not have, answered exactly as a dockerd without them answers.
// Clients probe these (moby's integration harness lists plugins around every test; docker-py's network tests
// call /swarm/leave in tearDown and expect 503), so a 404 "page not found" would break them.
import { BerthError } from '../../errors.js';
import { sendJson } from '../http.js';
import { checkFilters, parseFilters } from '../query.js';
import type { Router } from '../router.js';

// moby daemon/cluster/cluster.go errNoManager (a node with no swarm) and errors.go errNoSwarm
const NOT_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
const NOT_IN_SWARM = 'This node is not part of a swarm';

const notManager = () => { throw new BerthError('Unavailable', NOT_MANAGER); };
// moby daemon/pkg/plugin/errors.go: the name as the client gave it
const noPlugin = (name: string) => { throw new BerthError('NotFound', `plugin ${JSON.stringify(name)} not found`); };
const noPlugins = () => { throw new BerthError('NotImplemented', 'plugins are not supported by Berth'); };

export function absentRoutes(r: Router): void {
  // swarm: this node is never part of one (Info.Swarm.LocalNodeState is "inactive")
  r.post('/swarm/init', () => { throw new BerthError('NotImplemented', 'swarm mode is not supported by Berth'); });
  r.post('/swarm/join', () => { throw new BerthError('NotImplemented', 'swarm mode is not supported by Berth'); });
  r.post('/swarm/leave', () => { throw new BerthError('Unavailable', NOT_IN_SWARM); });
  r.get('/swarm', notManager);
  r.get('/swarm/unlockkey', notManager);
  r.post('/swarm/update', notManager);
  r.post('/swarm/unlock', notManager);
  for (const kind of ['services', 'nodes', 'tasks', 'secrets', 'configs']) {
    r.get(`/${kind}`, notManager);
    r.get(`/${kind}/{id}`, notManager);
    r.delete(`/${kind}/{id}`, notManager);
    r.post(`/${kind}/{id}/update`, notManager);
  }
  for (const kind of ['services', 'secrets', 'configs']) r.post(`/${kind}/create`, notManager);
  for (const kind of ['services', 'tasks']) r.get(`/${kind}/{id}/logs`, notManager);

  // plugins: none are installed, and none can be
  r.get('/plugins', (ctx) => {
    checkFilters(parseFilters(ctx.query.get('filters')), ['capability', 'enable']);
    sendJson(ctx.res, 200, []);
  });
  r.get('/plugins/privileges', noPlugins);
  r.post('/plugins/pull', noPlugins);
  r.post('/plugins/create', noPlugins);
  r.get('/plugins/{name:.*}/json', (ctx) => noPlugin(ctx.params.name!));
  r.delete('/plugins/{name:.*}', (ctx) => noPlugin(ctx.params.name!));
  for (const verb of ['enable', 'disable', 'push', 'upgrade', 'set']) r.post(`/plugins/{name:.*}/${verb}`, (ctx) => noPlugin(ctx.params.name!));
}
