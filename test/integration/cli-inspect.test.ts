// `berth inspect` over several names as docker/cli system/inspect.go: the errors in argument order, a lookup's
// and a template's alike; --type prints the daemon's answer; without --type networks and volumes are found
// too. And the template errors of version and events in their commands' words. Every expected text is what the docker 28.2.2 CLI printed against the same berthd (notes/cli-compare.md,
// stop 28).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isRoot } from '../helpers/bundle.js';
import { berth, startDaemon, type Daemon } from '../helpers/daemon.js';
import { importBusybox } from '../helpers/images.js';

describe('berth inspect over several names, as the docker CLI', { skip: !isRoot ? 'needs root' : false }, () => {
  let d: Daemon;
  const b = async (...args: string[]) => { const r = await berth(args, { ...d.env, TZ: 'UTC' }); return [r.code, r.stdout, r.stderr]; };
  const missing = (key: string) => `template parsing error: template: :1:2: executing "" at <.${key}>: map has no entry for key "${key}"\n`;

  before(async () => {
    d = await startDaemon();
    await importBusybox(d, 'bb:insp');
    for (const [args, what] of [[['create', '--name', 'in1', 'bb:insp', 'true'], 'create'], [['volume', 'create', 'inv1'], 'volume create']] as const) {
      const r = await berth([...args], d.env);
      assert.equal(r.code, 0, `${what}: ${r.stderr}`);
    }
  });
  after(async () => { await d?.stop(); });

  test('a template\'s error takes its place among the lookup errors (berth printed the lookups\' first)', async () => {
    assert.deepEqual(await b('inspect', '--format', '{{.Nope}}', 'nope1', 'in1', 'nope2'),
      [1, '\n', `Error: No such object: nope1\n${missing('Nope')}Error: No such object: nope2\n`]);
    assert.deepEqual(await b('image', 'inspect', '--format', '{{.Nope}}', 'nopei', 'bb:insp', 'nopej'),
      [1, '\n', `Error response from daemon: No such image: nopei:latest\n${missing('Nope')}Error response from daemon: No such image: nopej:latest\n`]);
    assert.deepEqual(await b('inspect', '--type', 'volume', '--format', '{{.Nope}}', 'inv1', 'nopev', 'inv1'),
      [1, '\n', `${missing('Nope')}Error response from daemon: get nopev: no such volume\n${missing('Nope')}`]);
  });

  test('--type: the daemon\'s answer as the error; any kind docker knows; an unknown one in docker\'s words', async () => {
    assert.deepEqual(await b('container', 'inspect', '--format', '{{.Name}}', 'nope1', 'in1'), [1, '/in1\n', 'Error response from daemon: No such container: nope1\n']);
    assert.deepEqual(await b('inspect', '--type', 'image', 'nope1'), [1, '[]\n', 'Error response from daemon: No such image: nope1:latest\n']);
    assert.deepEqual(await b('inspect', '--type', 'network', '--format', '{{.Name}} {{.Driver}}', 'none'), [0, 'none null\n', '']);
    assert.deepEqual(await b('inspect', '--type', 'plugin', 'x'), [1, '[]\n', 'Error response from daemon: plugin "x" not found\n']);
    assert.deepEqual(await b('inspect', '--type', 'bogus', 'x'),
      [1, '', 'unknown type: "bogus": must be one of "config", "container", "image", "network", "node", "plugin", "secret", "service", "task", "volume"\n']);
  });

  test('without --type: containers, images, networks and volumes, in that order of search', async () => {
    assert.deepEqual(await b('inspect', '--format', '{{.Name}}', 'nopeq', 'inv1', 'none', 'in1'), [1, 'inv1\nnone\n/in1\n', 'Error: No such object: nopeq\n']);
    const [code, out] = await b('inspect', 'inv1');
    assert.equal(code, 0);
    assert.equal(JSON.parse(out as string)[0].Mountpoint.endsWith('/volumes/inv1/_data'), true);
  });

  test('version: its template is named "version" and its parts are Go types; a parse error exits 64', async () => {
    assert.deepEqual(await b('version', '--format', '{{.Client.Nope}}'),
      [1, '\n', 'template: version:1:9: executing "version" at <.Client.Nope>: can\'t evaluate field Nope in type system.clientVersion\n']);
    assert.deepEqual(await b('version', '--format', 'a{{.Server.Nope}}'),
      [1, 'a\n', 'template: version:1:10: executing "version" at <.Server.Nope>: can\'t evaluate field Nope in type *types.Version\n']);
    assert.deepEqual(await b('version', '--format', '{{.Nope'), [64, '', 'template parsing error: template: version:1: unclosed action\n']);
  });

  test('events --format: checked over an empty events.Message before any event, "Error parsing format: ", 64', async () => {
    assert.deepEqual(await b('events', '--since', '0', '--until', '1', '--format', '{{.Nope}}'),
      [64, '', 'Error parsing format: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *events.Message\n']);
    assert.deepEqual(await b('events', '--since', '0', '--until', '1', '--format', '{{nofunc}}'),
      [64, '', 'Error parsing format: template: :1: function "nofunc" not defined\n']);
    assert.deepEqual(await b('events', '--since', '0', '--until', '1', '--format', '{{.Actor.Attributes.x}} {{.Status}}'), [0, '', '']);
  });
});
