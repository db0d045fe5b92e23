// `npm run fuzz -- [--seconds N] [target...]`: builds the libFuzzer targets under fuzz/
// with clang (cmake -DAES67_FUZZ=ON into build-fuzz/) and runs each for a bounded time,
// seeded from fuzz/corpus/<target>/ and, where they exist, the real captures. A crash
// leaves its input in build-fuzz/crashes/<target>/, is copied to fuzz/regression/<target>/
// (replayed by the ctest fuzz_regression_<target> in the ordinary build: commit it with the
// fix) and fails the run.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../native/index.ts';

function parseArgs(argv: string[]): { seconds: number; targets: string[] } {
  let seconds = 10;
  const targets: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--seconds') {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`--seconds needs a positive number, got '${argv[i]}'`);
      seconds = v;
    } else if (a.startsWith('-')) {
      throw new Error(`unknown flag '${a}' (use --seconds N and target names)`);
    } else {
      targets.push(a);
    }
  }
  return { seconds, targets };
}

const { seconds, targets: wanted } = parseArgs(process.argv.slice(2));
const fuzzDir = path.join(projectRoot, 'fuzz');
if (!existsSync(path.join(fuzzDir, 'CMakeLists.txt'))) {
  throw new Error('fuzz/CMakeLists.txt is missing: no fuzz targets are defined yet');
}
const buildDir = path.join(projectRoot, 'build-fuzz');
execFileSync('cmake', ['-S', projectRoot, '-B', buildDir, '-DAES67_FUZZ=ON', '-DCMAKE_BUILD_TYPE=RelWithDebInfo',
  '-DCMAKE_C_COMPILER=clang', '-DCMAKE_CXX_COMPILER=clang++'], { stdio: 'inherit' });
execFileSync('cmake', ['--build', buildDir, '-j2'], { stdio: 'inherit' });

const binDir = path.join(buildDir, 'fuzz');
const all = readdirSync(binDir).filter((f) => f.startsWith('fuzz_') && !f.includes('.'));
// Targets may be named with or without the fuzz_ prefix (`rtsp` or `fuzz_rtsp`).
const targets = wanted.length ? wanted.map((t) => (t.startsWith('fuzz_') ? t : `fuzz_${t}`)) : all;
let failed = 0;
for (const target of targets) {
  if (!all.includes(target)) throw new Error(`no fuzz target '${target}' (have: ${all.join(', ')})`);
  const corpus = path.join(buildDir, 'corpus', target);
  const crashes = path.join(buildDir, 'crashes', target);
  mkdirSync(corpus, { recursive: true });
  mkdirSync(crashes, { recursive: true });
  const seeds = path.join(fuzzDir, 'corpus', target.replace(/^fuzz_/, ''));
  const args = [`-max_total_time=${seconds}`, '-rss_limit_mb=2048', `-artifact_prefix=${crashes}/`, corpus];
  if (existsSync(seeds)) args.push(seeds);
  console.log(`fuzz: ${target} for ${seconds}s`);
  const r = spawnSync(path.join(binDir, target), args, { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8', timeout: (seconds + 60) * 1000 });
  const tail = (r.stderr ?? '').trim().split('\n').slice(-3).join('\n');
  if (r.status !== 0) {
    failed++;
    // Every input libFuzzer left (crash-, leak-, timeout-, oom-) becomes a regression input.
    const regression = path.join(fuzzDir, 'regression', target.replace(/^fuzz_/, ''));
    mkdirSync(regression, { recursive: true });
    const found = readdirSync(crashes).filter((f) => /^(crash|leak|timeout|oom|slow-unit)-/.test(f));
    for (const f of found) copyFileSync(path.join(crashes, f), path.join(regression, f));
    const why = r.error ? `${r.error.message}` : r.signal ? `signal ${r.signal}` : `exit ${r.status}`;
    console.error(`fuzz: ${target} FAILED (${why}); ${found.length} input(s) copied to ${path.relative(projectRoot, regression)}/ (the ctest fuzz_regression_${target.replace(/^fuzz_/, '')} replays them)\n${r.stderr}`);
  } else {
    console.log(`fuzz: ${target} ok\n${tail}`);
  }
}
console.log(`${targets.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
