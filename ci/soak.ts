// `npm run soak [-- paths...]`: every soak under scenarios/ (lab/scenario/soak.ts: 10 minutes
// of virtual time or more), or the given scenario files and folders, run in virtual time
// into one report (reports/soak-<stamp>/, as `aes67-lab run` writes them), with the
// process's memory (after a full GC: run by node --expose-gc) sampled at every 5 % of each
// run. "Start" is the first sample after the lab receivers' recording (its first minute)
// is full and every cache is warm, and no earlier than 10 %; "end" is the last sample before measurement. Each
// result carries them as figures (soak.heapStartMB, soak.heapEndMB, soak.rssStartMB,
// soak.rssEndMB, soak.wallS, soak.xRealTime), and their growth is judged (soak.heapGrowth,
// soak.rssGrowth). Exits 1 when a scenario does not pass.
import path from 'node:path';
import { projectRoot } from '../native/index.ts';
import { loadScenarios } from '../lab/scenario/load.ts';
import { defaultRunDir, runSuite } from '../lab/scenario/run-suite.ts';
import { judge, scenarioVerdict } from '../lab/report/judge.ts';
import { MAX_RECORD_S } from '../lab/scenario/measure.ts';
import { isSoak, sampleMemory, type MemorySample } from '../lab/scenario/soak.ts';

const args = process.argv.slice(2);
const paths = args.length ? args : [path.join(projectRoot, 'scenarios')];
const all = loadScenarios(paths);
// clock: real scenarios (scenarios/soak/real-5min.yaml) run against a device on a rig:
// `npm run soak:real` or ci/hil/run, not here.
const soaks = (args.length ? all : all.filter(isSoak)).filter((l) => l.scenario.clock !== 'real');
if (soaks.length === 0) throw new Error(`no soak scenarios under ${paths.join(', ')}`);
if (!(globalThis as { gc?: unknown }).gc) console.warn('soak: node runs without --expose-gc; memory samples include garbage (npm run soak passes the flag)');

const HEAP_GROWTH_MAX_MB = 8;
const RSS_GROWTH_MAX_MB = 32;
const outDir = defaultRunDir(path.join(projectRoot, 'reports'), new Date()).replace(/run-/, 'soak-');
let samples: MemorySample[] = [];
let started = 0;
let nextSample = 0;
const fmt = (x: number) => x.toFixed(1);
const result = await runSuite(soaks, {
  outDir,
  command: `npm run soak ${args.join(' ')}`.trim(),
  onStart(l, i, n) {
    console.log(`[${i + 1}/${n}] ${l.scenario.name}: ${l.scenario.duration / 1e9} s of virtual time`);
    samples = [sampleMemory(0)];
    nextSample = 0.05;
    started = performance.now();
  },
  onProgress(l, f) {
    if (f + 1e-9 < nextSample) return;
    nextSample += 0.05;
    const s = sampleMemory(Math.min(1, f));
    samples.push(s);
    const wall = (performance.now() - started) / 1000;
    console.log(`  ${(f * 100).toFixed(0).padStart(3)} %  ${fmt(wall)} s wall (${fmt((f * l.scenario.duration) / 1e9 / wall)}x real time)  heap ${fmt(s.heapUsedMB)} MB  rss ${fmt(s.rssMB)} MB  array buffers ${fmt(s.arrayBuffersMB)} MB`);
  },
  onDone(l, r) {
    const wallS = (performance.now() - started) / 1000;
    // Start once the receivers' recording is full (MAX_RECORD_S of audio after the device
    // starts, which waits for discovery and PTP lock: 10 s allowed), and no earlier than 10 %.
    const warm = Math.max(0.1, (MAX_RECORD_S + 10) / r.durationS);
    const start = samples.find((s) => s.fraction >= warm - 1e-9) ?? samples[samples.length - 1];
    const end = samples[samples.length - 1];
    r.figures['soak.memorySampledAt'] = `start ${(start.fraction * 100).toFixed(0)} %, end ${(end.fraction * 100).toFixed(0)} % of the run (after a full GC: ${(globalThis as { gc?: unknown }).gc ? 'yes' : 'no'})`;
    r.figures['soak.heapStartMB'] = Number(fmt(start.heapUsedMB));
    r.figures['soak.heapEndMB'] = Number(fmt(end.heapUsedMB));
    r.figures['soak.rssStartMB'] = Number(fmt(start.rssMB));
    r.figures['soak.rssEndMB'] = Number(fmt(end.rssMB));
    r.figures['soak.arrayBuffersStartMB'] = Number(fmt(start.arrayBuffersMB));
    r.figures['soak.arrayBuffersEndMB'] = Number(fmt(end.arrayBuffersMB));
    // Memory must stay flat from start to end (issue 9): judged, not only reported. The
    // limits leave room for allocator noise (the 24 h drift soak moved RSS by 1.2 MB) and
    // catch a leak of 10 KB per virtual second within the hour.
    r.expectations.push(
      judge('soak.heapGrowth', Number(fmt(end.heapUsedMB - start.heapUsedMB)), { max: HEAP_GROWTH_MAX_MB }, 'MB', `JS heap after a full GC, ${fmt(start.heapUsedMB)} -> ${fmt(end.heapUsedMB)} MB`),
      judge('soak.rssGrowth', Number(fmt(end.rssMB - start.rssMB)), { max: RSS_GROWTH_MAX_MB }, 'MB', `resident memory (native allocations too), ${fmt(start.rssMB)} -> ${fmt(end.rssMB)} MB`),
    );
    r.verdict = scenarioVerdict(r.expectations, r.error);
    r.figures['soak.wallS'] = Number(fmt(wallS));
    r.figures['soak.xRealTime'] = Number(fmt(r.durationS / wallS));
    console.log(`  ${r.verdict}: ${fmt(wallS)} s wall (${fmt(r.durationS / wallS)}x real time incl. measurement); heap ${fmt(start.heapUsedMB)} -> ${fmt(end.heapUsedMB)} MB, rss ${fmt(start.rssMB)} -> ${fmt(end.rssMB)} MB`);
    for (const e of r.expectations) if (e.verdict !== 'pass') console.log(`    ${e.verdict} ${e.name} = ${String(e.value)}${e.message ? `: ${e.message}` : ''}`);
    if (r.error) console.log(`    error: ${r.error}`);
  },
});
console.log(`soak report: ${result.files.json} (${result.verdict})`);
process.exitCode = result.verdict === 'pass' ? 0 : 1;
