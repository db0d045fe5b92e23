// `npm run bench -- [name...]`: runs bench/<name>.ts, every bench when no name is given.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
// Files that are not benches: this runner and the helpers the benches share.
const notBenches = ['run.ts', 'bench-json.ts'];
const all = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !notBenches.includes(f))
  .map((f) => f.slice(0, -3))
  .sort();
const names = process.argv.slice(2);
for (const n of names) if (!all.includes(n)) throw new Error(`no bench "${n}": available ${all.join(', ')}`);
let failed = false;
for (const name of names.length ? names : all) {
  console.log(`== bench ${name}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, `${name}.ts`)], { stdio: 'inherit' });
  failed ||= r.status !== 0;
}
process.exitCode = failed ? 1 : 0;
