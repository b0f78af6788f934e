// containers/spec/user: docker's `--user` grammar resolved against the image's /etc/passwd and /etc/group
// (moby's getUser / user.GetExecUserPath). Pure: the files' text comes in.
import { BerthError } from '../../errors.js';

export interface ResolvedUser { uid: number; gid: number; additionalGids: number[]; home: string }

interface PwEntry { name: string; uid: number; gid: number; home: string }
interface GrEntry { name: string; gid: number; members: string[] }

function passwd(text = ''): PwEntry[] {
  return text.split('\n').flatMap((l) => {
    const f = l.split(':');
    return f.length >= 7 && !l.startsWith('#') ? [{ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! }] : [];
  });
}

function groups(text = ''): GrEntry[] {
  return text.split('\n').flatMap((l) => {
    const f = l.split(':');
    return f.length >= 4 && !l.startsWith('#') ? [{ name: f[0]!, gid: Number(f[2]), members: f[3]!.split(',').filter(Boolean) }] : [];
  });
}

const isNum = (s: string) => /^\d+$/.test(s);

/**
 * "", "uid", "uid:gid", "name", "name:group" (and mixes). Numbers need no entry; names must exist.
 * `groupAdd` (--group-add: names or numbers) joins the supplementary groups, as moby's getUser does.
 */
export function resolveUser(spec: string | undefined, passwdText?: string, groupText?: string, groupAdd: string[] = []): ResolvedUser {
  const [u = '', g] = (spec ?? '').split(':', 2);
  const pw = passwd(passwdText);
  const gr = groups(groupText);
  let uid = 0, gid = 0, home = '/', name: string | undefined;
  if (u === '' || isNum(u)) {
    uid = u === '' ? 0 : Number(u);
    const e = pw.find((x) => x.uid === uid);
    if (e) { gid = e.gid; home = e.home; name = e.name; }
  } else {
    const e = pw.find((x) => x.name === u);
    if (!e) throw new BerthError('InvalidArgument', `unable to find user ${u}: no matching entries in passwd file`);
    ({ uid, gid, home, name } = e);
  }
  if (g !== undefined && g !== '') {
    if (isNum(g)) gid = Number(g);
    else {
      const e = gr.find((x) => x.name === g);
      if (!e) throw new BerthError('InvalidArgument', `unable to find group ${g}: no matching entries in group file`);
      gid = e.gid;
    }
  }
  if (uid > 0xfffffffe || gid > 0xfffffffe) throw new BerthError('InvalidArgument', `user ${spec}: id out of range`);
  // supplementary groups: every group that lists the user by name (not when a group was given explicitly)
  const additionalGids = name && (g === undefined || g === '') ? gr.filter((x) => x.members.includes(name!) && x.gid !== gid).map((x) => x.gid) : [];
  for (const a of groupAdd) {
    const e = gr.find((x) => x.name === a);
    if (!e && !isNum(a)) throw new BerthError('InvalidArgument', `Unable to find group ${a}: no matching entries in group file`);
    const n = e ? e.gid : Number(a);
    if (n > 0xfffffffe) throw new BerthError('InvalidArgument', `group ${a}: id out of range`);
    if (!additionalGids.includes(n)) additionalGids.push(n);
  }
  return { uid, gid, additionalGids, home };
}
