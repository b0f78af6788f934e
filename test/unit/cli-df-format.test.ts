// `system df -v --format` as docker/cli v28's DiskUsageContext.verboseWrite (one template over the four sections'
// row contexts), `--format raw`, `{{.Label "k"}}` on volume and network rows and in table headers, pad of "",
// and Go's tabwriter keeping the padding of a line whose last cell is empty. Expected texts are the docker
// 28.2.2 CLI's own output against the same daemon (notes/cli-compare.md, stop 27).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dfSummary, dfVerbose, dfVerboseFormat } from '../../src/cli/docker/filesystem.js';
import { formatRows } from '../../src/cli/docker/format.js';
import { networkRow } from '../../src/cli/docker/networks.js';
import { volumeRow } from '../../src/cli/docker/volumes.js';

const now = 420_000;
const IMG = { Id: `sha256:${'7da4c484e9dd'.padEnd(64, '0')}`, RepoTags: ['busybox:latest', 'bb:1'], RepoDigests: [], Created: 0, Size: 2_846_208, SharedSize: 0, Containers: 2, ParentId: '', Labels: {} };
const CTR = {
  Id: 'ea1f4dc24fff'.padEnd(64, '0'), Image: 'busybox', Command: 'sleep 1000', Created: 0, State: 'running', Status: 'Up 7 minutes', Names: ['/ex1'],
  SizeRw: 0, SizeRootFs: 2_846_208, Labels: { l: '3' }, Mounts: [{ Type: 'volume', Name: 'fv1', Driver: 'local' }], Ports: [], NetworkSettings: { Networks: { bridge: {} } },
};
const VOL = { Name: 'fv1', Driver: 'local', Scope: 'local', Mountpoint: '/r/volumes/fv1/_data', Labels: { a: '1', b: 'x' }, Options: null, CreatedAt: '', UsageData: { Size: 0, RefCount: 1 } };
const d = { LayersSize: 2_846_208, Images: [IMG], Containers: [CTR], Volumes: [VOL], BuildCache: [] };

test('system df -v --format: one template over {Images, Containers, Volumes, BuildCache}, no newline added', async () => {
  assert.equal(await dfVerboseFormat(d, '{{len .Images}} {{len .Containers}} {{len .BuildCache}}', now), '1 1 0');
  // a custom template keeps full IDs; `table …` only drops the word and keeps them short; the first tag only, no digest
  assert.equal(await dfVerboseFormat(d, '{{range .Images}}{{.ID}} {{.Repository}}:{{.Tag}} [{{.Digest}}]{{end}}', now), `${IMG.Id} busybox:latest []`);
  assert.equal(await dfVerboseFormat(d, 'table {{range .Images}}{{.ID}}|{{.UniqueSize}}|{{.Containers}}{{end}}', now), '7da4c484e9dd|2.846MB|2');
  // ps's row context, without the virtual size; volume rows with Links and Size from UsageData, and Label
  assert.equal(await dfVerboseFormat(d, 'table {{range .Containers}}{{.ID}} {{.Names}} {{.Size}} {{.Command}} {{.LocalVolumes}} {{.Label "l"}}{{end}}', now),
    'ea1f4dc24fff ex1 0B "sleep 1000" 1 3');
  assert.equal(await dfVerboseFormat(d, '{{range .Volumes}}{{.Name}} {{.Links}} {{.Size}} {{.Label "a"}}{{.Label "zz"}} {{.Labels}}{{end}}', now), 'fv1 1 0B 1 a=1,b=x');
  // `table` alone is the four tables
  assert.equal(await dfVerboseFormat(d, 'table', now), dfVerbose(d, now));
});

test('system df -v --format json: the struct, each row as its context marshals it (keys sorted)', async () => {
  const out = await dfVerboseFormat(d, 'json', now);
  assert.ok(!out.endsWith('\n'));
  const j = JSON.parse(out) as Record<string, Array<Record<string, unknown>>>;
  assert.deepEqual(Object.keys(j), ['Images', 'Containers', 'Volumes', 'BuildCache']);
  assert.deepEqual(j.BuildCache, []);
  assert.equal(out.slice(out.indexOf('"Volumes":')), '"Volumes":[{"Availability":"N/A","Driver":"local","Group":"N/A","Labels":"a=1,b=x","Links":"1","Mountpoint":"/r/volumes/fv1/_data","Name":"fv1","Scope":"local","Size":"0B","Status":"N/A"}],"BuildCache":[]}');
  assert.deepEqual(Object.keys(j.Images![0]!), ['Containers', 'CreatedAt', 'CreatedSince', 'Digest', 'ID', 'Repository', 'SharedSize', 'Size', 'Tag', 'UniqueSize', 'VirtualSize']);
  assert.equal(await dfVerboseFormat(d, '{{json .Volumes}}', now), out.slice(out.indexOf('"Volumes":') + 10, out.indexOf(',"BuildCache"')));
});

test('system df --format raw, verbose and not: docker\'s raw templates (pad of "" prints nothing)', async () => {
  assert.equal((await dfVerboseFormat({ ...d, Containers: [{ ...CTR, Labels: {} }] }, 'raw', now)).split('\n').slice(0, 21).join('\n'), [
    'type: Image', 'repository: busybox', 'tag: latest', 'digest: ', `image_id: ${IMG.Id}`, 'created_at: 1970-01-01 00:00:00 +0000 UTC', 'virtual_size: 2.85MB', '',
    'type: Container', `container_id: ${CTR.Id}`, 'image: busybox', 'command: "sleep 1000"', 'created_at: 1970-01-01 00:00:00 +0000 UTC', 'state: running',
    'status: Up 7 minutes', 'names: ex1', 'labels:', 'ports:', 'size: 0B', '', 'type: Volume'].join('\n'));
  const empty = { LayersSize: 0, Images: [], Containers: [], Volumes: [], BuildCache: [] };
  assert.equal((await dfSummary(empty, 'raw')).split('\n').slice(0, 7).join('\n'), 'type: Images\ntotal: 0\nactive: 0\nsize: 0B\nreclaimable: 0B\n\ntype: Containers');
});

test('{{.Label "k"}} on volume and network rows; a table header names the label by its last part', async () => {
  const net = { Name: 'fnet', Id: 'f'.repeat(64), Created: '2026-12-07T21:27:40.1Z', Scope: 'local', Driver: 'bridge', EnableIPv4: true, EnableIPv6: false, Internal: false, Labels: { 'com.example.the_key': 'v' } };
  const rows = [networkRow(net as never, true)];
  assert.equal(await formatRows(rows, '{{.Name}} {{.Label "com.example.the_key"}}|{{.Label "x"}}|', '', {}), 'fnet v||\n');
  // Go's tabwriter pads a cell before an empty last one
  assert.equal(await formatRows([...rows, networkRow({ ...net, Name: 'bridge', Labels: null } as never, true)], 'table {{.Name}}\t{{.Label "com.example.the_key"}}', '', { Name: 'NAME' }),
    'NAME      the key\nfnet      v\nbridge    \n');
  assert.equal(await formatRows([volumeRow(VOL as never)], '{{.Label "b"}} {{json .}}', '', {}),
    'x {"Availability":"N/A","Driver":"local","Group":"N/A","Labels":"a=1,b=x","Links":"1","Mountpoint":"/r/volumes/fv1/_data","Name":"fv1","Scope":"local","Size":"0B","Status":"N/A"}\n');
  // volume ls sends no UsageData: N/A as docker
  assert.equal(volumeRow({ ...VOL, UsageData: null } as never).Links, 'N/A');
});
