// --format errors in Go's text/template words and docker/cli's prefixes: parse errors `template: :LINE: msg`,
// execution errors `template: :LINE:COL: executing "" at <node>: msg` with the node Go names (a field chain at
// its second part, a call's whole command). Every expected text is what the docker 28.2.2 CLI printed against
// the same berthd (notes/cli-compare.md, stop 27).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseOnly, render } from '../../src/cli/docker/template.js';
import { checkTemplate, formatRows } from '../../src/cli/docker/format.js';
import { templateError } from '../../src/cli/docker/template.js';
import { dfVerboseFormat } from '../../src/cli/docker/filesystem.js';

const ctr = { Name: '/ex1', State: { Status: 'running' }, Config: { Labels: { a: '1' }, Cmd: ['sleep', '1000'] } };
const msg = (f: () => unknown): string => { try { f(); } catch (e) { return (e as Error).message; } return 'no error'; };
const amsg = async (f: () => Promise<unknown>): Promise<string> => { try { await f(); } catch (e) { return (e as Error).message; } return 'no error'; };

test('inspect\'s JSON (null type): map has no entry, the field chain placed at its second part, calls at their command', () => {
  assert.equal(msg(() => render('{{.State.Nope}}', ctr, null)), 'template: :1:8: executing "" at <.State.Nope>: map has no entry for key "Nope"');
  assert.equal(msg(() => render('{{.Nope}}', ctr, null)), 'template: :1:2: executing "" at <.Nope>: map has no entry for key "Nope"');
  assert.equal(msg(() => render('x {{.Name}}\n{{.State.Nope}}', ctr, null)), 'template: :2:8: executing "" at <.State.Nope>: map has no entry for key "Nope"');
  assert.equal(msg(() => render('{{index .Config.Cmd 5}}', ctr, null)), 'template: :1:2: executing "" at <index .Config.Cmd 5>: error calling index: index out of range: 5');
  assert.equal(msg(() => render('{{.Name.Foo}}', ctr, null)), 'template: :1:7: executing "" at <.Name.Foo>: can\'t evaluate field Foo in type interface {}');
  // a map-typed field's missing key is still <no value> (docker's typed pass)
  assert.equal(render('{{.Config.Labels.nope}}', ctr, null), '<no value>');
});

test('parse errors: Go\'s words and line, whatever the action', () => {
  for (const [tpl, text] of [
    ['{{.Name', 'template: :1: unclosed action'], ['{{if .Name}}', 'template: :1: unexpected EOF'], ['{{end}}', 'template: :1: unexpected {{end}}'],
    ['{{else}}', 'template: :1: unexpected {{else}}'], ['{{nofunc .Name}}', 'template: :1: function "nofunc" not defined'],
    ['{{(.Name}}', 'template: :1: unclosed left paren'], ['a\\n{{.ID', 'template: :2: unclosed action'],
  ] as const) {
    assert.equal(msg(() => parseOnly(tpl)), text, tpl);
    assert.equal(msg(() => render(tpl, ctr)), text, tpl);
  }
  // ps and info parse the template as typed: a literal \n is no new line
  assert.equal(msg(() => parseOnly('a\\n{{.ID', true)), 'template: :1: unclosed action');
  // an unknown function is a parse error even where execution never goes
  assert.equal(msg(() => render('{{if false}}{{nofunc}}{{end}}', ctr)), 'template: :1: function "nofunc" not defined');
});

test('row contexts name their Go type; each command\'s prefix and exit code', async () => {
  const rows = [{ ID: 'abc', Name: 'n' }];
  assert.equal(await amsg(() => formatRows(rows, '{{.Nope}}', '', {}, '*formatter.imageContext')),
    'template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.imageContext');
  // after `table` and its space, with \t a tab: the column of the tab-expanded text
  assert.equal(await amsg(() => formatRows(rows, 'table {{.ID}}\\t{{upper .Nope}}', '', {}, '*network.networkContext')),
    'template parsing error: template: :1:16: executing "" at <.Nope>: can\'t evaluate field Nope in type *network.networkContext');
  assert.equal(msg(() => render('table {{.ID}}\\t{{upper .Nope}}', { ID: '' }, '*formatter.ContainerContext', true)),
    'template: :1:23: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ContainerContext');
  // inspect: a template that does not parse exits 64 before anything is asked
  const bad = await checkTemplate('{{.Name').then(() => undefined, (e: unknown) => e as Error & { exitCode?: number });
  assert.equal(bad?.message, 'template parsing error: template: :1: unclosed action');
  assert.equal(bad?.exitCode, 64);
  const ps = await checkTemplate('{{.ID', 'failed to parse template: ', 1, true).then(() => undefined, (e: unknown) => e as Error & { exitCode?: number });
  assert.deepEqual([ps?.message, ps?.exitCode], ['failed to parse template: template: :1: unclosed action', 1]);
  assert.equal(await checkTemplate('{{.ID}} {{.Name}}'), undefined);
  // not a template's error: as it was
  const other = new Error('x');
  assert.equal(templateError(other, 'p: '), other);
  // system df -v: Execute's error unwrapped, a parse error wrapped
  const d = { LayersSize: 0, Images: [], Containers: [], Volumes: [], BuildCache: [] };
  assert.equal(await amsg(() => dfVerboseFormat(d, '{{.Nope}}')), 'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.diskUsageContext');
  assert.equal(await amsg(() => dfVerboseFormat(d, '{{.ID')), 'template parsing error: template: :1: unclosed action');
});

test('ps: with --quiet the format is ignored with docker\'s warning, but still checked over an empty row, before any request', async () => {
  const { ps } = await import('../../src/cli/docker/containers.js');
  let err = '';
  const e = process.stderr.write;
  process.stderr.write = ((s: string | Uint8Array, ...a: never[]) => (typeof s === 'string' ? ((err += s), true) : e.call(process.stderr, s, ...a))) as typeof process.stderr.write;
  let message = '';
  try { await ps({ host: 'unix:///nonexistent/berth-ps-test.sock' }, ['-q', '--format', '{{.Nope}}']); } catch (x) { message = (x as Error).message; } finally { process.stderr.write = e; }
  assert.equal(err, 'WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
  assert.equal(message, 'failed to execute template: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ContainerContext');
});
