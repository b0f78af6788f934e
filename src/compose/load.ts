// compose/load: where the model comes from on disk: compose.yaml & co. found upwards from the working
// directory (with its override file), -f files, the project directory's .env or --env-file, and the
// COMPOSE_* variables. Reads files; the model itself is built by model.ts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError } from '../errors.js';
import { loadModel, parseEnvFile, type Project } from './model.js';

const NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];
const OVERRIDES = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yaml', 'docker-compose.override.yml'];

export interface LoadOptions {
  files?: string[];
  projectName?: string;
  projectDirectory?: string;
  envFiles?: string[];
  profiles?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

function readText(p: string): string | undefined {
  try { return fs.readFileSync(p, 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The default file in `dir` or the nearest parent, and its override file next to it. */
export function findComposeFiles(dir: string): string[] {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const hit = NAMES.find((n) => fs.existsSync(path.join(d, n)));
    if (hit) {
      const over = OVERRIDES.find((n) => fs.existsSync(path.join(d, n)));
      return [path.join(d, hit), ...(over ? [path.join(d, over)] : [])];
    }
    if (d === path.dirname(d)) throw new BerthError('InvalidArgument', 'no configuration file provided: not found');
  }
}

export function loadProject(o: LoadOptions = {}): Project {
  const cwd = o.cwd ?? process.cwd();
  const penv = o.env ?? process.env;
  const sep = penv.COMPOSE_PATH_SEPARATOR || ':';
  const named = o.files?.length ? o.files : penv.COMPOSE_FILE ? penv.COMPOSE_FILE.split(sep) : undefined;
  const files = named ? named.map((f) => (f === '-' ? f : path.resolve(cwd, f))) : findComposeFiles(cwd);
  const workingDir = o.projectDirectory ? path.resolve(cwd, o.projectDirectory) : files[0] === '-' ? cwd : path.dirname(files[0]!);
  // .env of the project directory, or the --env-file ones; the process's environment wins over both
  const envFiles = o.envFiles?.length ? o.envFiles.map((f) => path.resolve(cwd, f)) : [path.join(workingDir, '.env')];
  const dotenv: Record<string, string> = {};
  for (const f of envFiles) {
    const text = readText(f);
    if (text === undefined) { if (o.envFiles?.length) throw new BerthError('InvalidArgument', `couldn't find env file: ${f}`); continue; }
    Object.assign(dotenv, parseEnvFile(text, { ...dotenv, ...penv }));
  }
  const env = { ...dotenv, ...penv };
  const texts = files.map((f) => {
    const text = f === '-' ? fs.readFileSync(0, 'utf8') : readText(f);
    if (text === undefined) throw new BerthError('InvalidArgument', `open ${f}: no such file or directory`);
    return { path: f, text };
  });
  const profiles = o.profiles?.length ? o.profiles : env.COMPOSE_PROFILES ? env.COMPOSE_PROFILES.split(',').filter(Boolean) : [];
  return loadModel({
    files: texts, env, workingDir, profiles,
    projectName: o.projectName || env.COMPOSE_PROJECT_NAME || undefined,
    readFile: readText, exists: (p) => fs.existsSync(p),
  });
}
