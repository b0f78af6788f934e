// The Go type a template's error names for a value that is not the template's root: rows in a range (system df
// -v), version's parts, an event's Actor. Expected texts are the docker 28.2.2 CLI's own against the same
// berthd (notes/cli-compare.md, stop 28).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dfVerboseFormat } from '../../src/cli/docker/filesystem.js';
import { goTyped } from '../../src/cli/docker/format.js';
import { render } from '../../src/cli/docker/template.js';
import { eventContext } from '../../src/cli/docker/system.js';
import type { EventMessage } from '../../src/api/types.js';

const amsg = async (f: () => Promise<unknown>): Promise<string> => { try { await f(); } catch (e) { return (e as Error).message; } return 'no error'; };
const msg = (f: () => unknown): string => { try { f(); } catch (e) { return (e as Error).message; } return 'no error'; };

const IMG = { Id: `sha256:${'7da4c484e9dd'.padEnd(64, '0')}`, RepoTags: ['busybox:latest'], RepoDigests: [], Created: 0, Size: 1, SharedSize: 0, Containers: 0, ParentId: '', Labels: {} };
const CTR = {
  Id: 'ea1f4dc24fff'.padEnd(64, '0'), Image: 'busybox', Command: 'true', Created: 0, State: 'exited', Status: 'Exited (0)', Names: ['/ex1'],
  SizeRw: 0, SizeRootFs: 0, Labels: {}, Mounts: [], Ports: [], NetworkSettings: { Networks: {} },
};
const VOL = { Name: 'fv1', Driver: 'local', Scope: 'local', Mountpoint: '/r/volumes/fv1/_data', Labels: null, Options: null, CreatedAt: '', UsageData: { Size: 0, RefCount: 0 } };
const d = { LayersSize: 1, Images: [IMG], Containers: [CTR], Volumes: [VOL], BuildCache: [] };

test('system df -v: a field missing in a range names the row\'s context type (was the JSON\'s map type)', async () => {
  assert.equal(await amsg(() => dfVerboseFormat(d, '{{range .Images}}{{.Nope}}{{end}}')), 'template: :1:19: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.imageContext');
  assert.equal(await amsg(() => dfVerboseFormat(d, '{{range .Containers}}{{.Nope}}{{end}}')), 'template: :1:23: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ContainerContext');
  assert.equal(await amsg(() => dfVerboseFormat(d, '{{range .Volumes}}{{.Nope}}{{end}}')), 'template: :1:20: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.volumeContext');
  // the rows still render and marshal as before
  assert.equal(await dfVerboseFormat(d, '{{range .Volumes}}{{.Name}} {{json .}}{{end}}'), 'fv1 {"Availability":"N/A","Driver":"local","Group":"N/A","Labels":"","Links":"0","Mountpoint":"/r/volumes/fv1/_data","Name":"fv1","Scope":"local","Size":"0B","Status":"N/A"}');
});

test('a typed value inside the root names its own type; untyped ones their JSON type', () => {
  const data = goTyped({ Client: goTyped({ Version: '1' }, 'system.clientVersion'), Server: goTyped({ Version: '2' }, '*types.Version'), Plain: { a: 1 } }, 'system.versionInfo');
  assert.equal(msg(() => render('{{.Nope}}', data, 'system.versionInfo')), 'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type system.versionInfo');
  assert.equal(msg(() => render('{{.Client.Nope}}', data, 'system.versionInfo')), 'template: :1:9: executing "" at <.Client.Nope>: can\'t evaluate field Nope in type system.clientVersion');
  assert.equal(msg(() => render('{{.Server.Nope}}', data, 'system.versionInfo')), 'template: :1:9: executing "" at <.Server.Nope>: can\'t evaluate field Nope in type *types.Version');
  assert.equal(msg(() => render('{{.Plain.Nope}}', data, 'system.versionInfo')), 'template: :1:8: executing "" at <.Plain.Nope>: can\'t evaluate field Nope in type map[string]interface {}');
  assert.equal(render('{{.Server.Version}}{{json .Client}}', data, 'system.versionInfo'), '2{"Version":"1"}');
});

test('an event\'s Actor is an events.Actor; its Attributes a map', () => {
  const e = eventContext({ Type: 'container', Action: 'start', Actor: { ID: 'abc', Attributes: { name: 'x' } }, scope: 'local', time: 1, timeNano: 1e9 } as unknown as EventMessage, 1_000_000_000n);
  assert.equal(msg(() => render('{{.Actor.Nope}}', e, '*events.Message')), 'template: :1:8: executing "" at <.Actor.Nope>: can\'t evaluate field Nope in type events.Actor');
  assert.equal(render('{{.Actor.ID}} {{.Actor.Attributes.name}} {{.Actor.Attributes.none}} {{json .Actor}}', e, '*events.Message'), 'abc x <no value> {"ID":"abc","Attributes":{"name":"x"}}');
});
