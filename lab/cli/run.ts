// `aes67-lab run <files|dirs...> [-o DIR] [--json] [--seed N]`: runs scenarios in virtual
// time, shows a progress line per scenario (a bar of virtual time on a terminal, plain
// lines otherwise), prints a summary table, and writes report.json, index.html, junit.xml
// and summary.md into DIR (default reports/run-<UTC time>/, with reports/latest pointing
// at it). Exit 0 when every expectation holds, 1 when one fails or cannot be measured,
// 2 when a scenario file is bad (the message names file:line).
import path from 'node:path';
import type { Command } from 'commander';
import { projectRoot } from '../../native/index.ts';
import { limitText, runHeadline, valueText } from '../report/judge.ts';
import type { ScenarioResult } from '../report/schema.ts';
import { loadScenarios } from '../scenario/load.ts';
import { METRICS } from '../scenario/metrics.ts';
import { defaultRunDir, linkLatest, runSuite } from '../scenario/run-suite.ts';
import { isSoak } from '../scenario/soak.ts';
import { readOrExit } from './input-file.ts';

interface RunFlags {
  out?: string;
  json?: boolean;
  seed?: string;
  soak?: boolean;
}

/** The figures a summary row shows: round trip, glitches, packets lost on the way in. */
function keyFigures(r: ScenarioResult): string {
  const parts: string[] = [];
  const rt = r.expectations.find((e) => e.name === 'latency.roundTrip') ?? undefined;
  const frames = r.figures['latency.roundTripFrames'];
  if (typeof frames === 'number') parts.push(`rt ${frames} smp`);
  else if (rt && typeof rt.value === 'number') parts.push(`rt ${rt.value} ms`);
  const glitches = r.glitches.length;
  if (typeof r.figures['glitches.analysedChannels'] === 'number' && r.figures['glitches.analysedChannels'] > 0) parts.push(`${glitches} glitch${glitches === 1 ? '' : 'es'}`);
  const lock = r.figures['ptp.lockTimeMs'];
  if (typeof lock === 'number') parts.push(`ptp lock ${(lock / 1000).toFixed(2)} s`);
  const lost = r.figures['network.droppedByImpairment'];
  if (typeof lost === 'number' && lost > 0) parts.push(`${lost} dropped`);
  const margin = r.expectations.find((e) => e.name === 'dante.worstMargin');
  if (margin && typeof margin.value === 'number') parts.push(`dante margin ${margin.value} ms`);
  return parts.join(', ');
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c >= r.length - 2 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ')).join('\n');
}

export function registerRun(program: Command): void {
  program
    .command('metrics')
    .description('list every metric a scenario may expect: unit, meaning, how the runner computes it')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) => {
      const all = [...METRICS.values()].map(({ needs: _needs, ...m }) => m);
      if (opts.json) return void console.log(JSON.stringify(all, null, 2));
      for (const m of all) {
        console.log(`${m.name} [${m.kind}${m.unit ? `, ${m.unit}` : ''}${m.states ? `: ${m.states.join(' | ')}` : ''}]`);
        console.log(`    ${m.description}`);
        console.log(`    how: ${m.how}`);
      }
    });

  program
    .command('run')
    .description('run scenarios in virtual time and write a report (exit 1: an expectation failed; 2: a bad scenario file)')
    .argument('<paths...>', 'scenario files or directories (every *.yaml below them)')
    .option('-o, --out <dir>', 'folder for report.json, index.html, junit.xml, summary.md (default: reports/run-<time>/, linked as reports/latest)')
    .option('--json', 'print a machine-readable summary instead of the table (no progress)')
    .option('--seed <n>', "run every scenario with this seed instead of its own")
    .option('--soak', 'also run the soaks (10 min of virtual time or more) found in the folders given; a file named here always runs')
    .action(async (paths: string[], flags: RunFlags) => {
      let seed: number | undefined;
      if (flags.seed !== undefined) {
        if (!/^\d+$/.test(flags.seed)) {
          console.error(`error: --seed ${flags.seed}: give a whole number >= 0`);
          process.exit(2);
        }
        seed = Number(flags.seed);
      }
      let loaded = readOrExit(() => loadScenarios(paths));
      // Soaks take minutes to hours: found in a folder they run only with --soak (npm run soak runs them).
      const named = new Set(paths.map((p) => path.resolve(p)));
      const soaks = flags.soak ? [] : loaded.filter((l) => isSoak(l) && !named.has(path.resolve(l.file)));
      if (soaks.length > 0) {
        loaded = loaded.filter((l) => !soaks.includes(l));
        console.error(`note: left out ${soaks.length} soak${soaks.length > 1 ? 's' : ''} (${soaks.map((l) => l.scenario.name).join(', ')}): run them with --soak or npm run soak`);
      }
      if (loaded.length === 0) {
        console.error(soaks.length > 0 ? `error: only soaks under ${paths.join(', ')}: add --soak (or npm run soak)` : `error: no scenario files (*.yaml) under ${paths.join(', ')}`);
        process.exit(2);
      }
      const reportsDir = path.join(projectRoot, 'reports');
      const outDir = flags.out ? path.resolve(flags.out) : defaultRunDir(reportsDir);
      const tty = !flags.json && process.stdout.isTTY === true;
      const quiet = flags.json === true;
      let lastDraw = 0;
      const bar = (fraction: number) => {
        const width = 30;
        const done = Math.max(0, Math.min(width, Math.round(fraction * width)));
        return `[${'='.repeat(done)}${done < width ? '>' : ''}${' '.repeat(Math.max(0, width - done - 1))}] ${String(Math.floor(fraction * 100)).padStart(3)}%`;
      };
      const suite = await runSuite(loaded, {
        outDir,
        ...(seed !== undefined ? { seed } : {}),
        command: `aes67-lab run ${process.argv.slice(3).join(' ')}`.trim(),
        onStart: (l, i, n) => {
          if (quiet) return;
          const head = `[${i + 1}/${n}] ${l.scenario.name} (${l.scenario.duration / 1e9} s virtual)`;
          if (tty) process.stdout.write(`${head} ${bar(0)}`);
          else console.log(`${head} ...`);
        },
        onProgress: (l, f) => {
          if (!tty) return;
          const now = Date.now();
          if (now - lastDraw < 100 && f < 1) return;
          lastDraw = now;
          process.stdout.write(`\r\x1b[2K${l.scenario.name} ${bar(Math.min(1, f))}`);
        },
        onDone: (l, r) => {
          if (quiet) return;
          const x = r.wallTimeS ? r.durationS / r.wallTimeS : 0;
          const line = `${l.scenario.name}: ${r.verdict.toUpperCase()} in ${(r.wallTimeS ?? 0).toFixed(2)} s (${x.toFixed(1)}x real time)`;
          if (tty) process.stdout.write(`\r\x1b[2K${line}\n`);
          else console.log(line);
        },
      });
      const latest = flags.out ? undefined : linkLatest(reportsDir, outDir);
      const scenarios = suite.report.scenarios;
      if (flags.json) {
        console.log(
          JSON.stringify(
            {
              verdict: suite.verdict,
              headline: runHeadline(scenarios),
              report: suite.files.json,
              scenarios: scenarios.map((s) => ({
                name: s.name,
                file: s.file,
                verdict: s.verdict,
                ...(s.error ? { error: s.error } : {}),
                durationS: s.durationS,
                wallTimeS: s.wallTimeS,
                xRealTime: s.wallTimeS ? s.durationS / s.wallTimeS : null,
                failed: s.expectations.filter((e) => e.verdict !== 'pass').map((e) => ({ name: e.name, value: e.value, limit: e.limit, unit: e.unit, verdict: e.verdict, ...(e.message ? { message: e.message } : {}) })),
              })),
            },
            null,
            2,
          ),
        );
      } else {
        const rows = [['scenario', 'verdict', 'passed', 'key figures', 'wall s', 'x real time']];
        for (const s of scenarios) {
          const passed = s.expectations.filter((e) => e.verdict === 'pass').length;
          rows.push([s.name, s.verdict, `${passed}/${s.expectations.length}`, keyFigures(s), (s.wallTimeS ?? 0).toFixed(2), s.wallTimeS ? `${(s.durationS / s.wallTimeS).toFixed(1)}x` : '-']);
        }
        console.log(`\n${table(rows)}\n`);
        const matrix = suite.report.fieldFailures;
        if (matrix.length > 0) {
          const fm = [['field failure', 'source', 'verdict', 'measured']];
          for (const f of matrix) fm.push([f.failure, f.note.length > 60 ? `${f.note.slice(0, 57)}...` : f.note, f.verdict, `${f.figure.name} ${valueText(f.figure.value, f.figure.unit)}`]);
          console.log(`field-failure matrix:\n${table(fm)}\n`);
        }
        for (const s of scenarios) {
          if (s.error) console.log(`${s.name}: error: ${s.error}`);
          for (const e of s.expectations.filter((x) => x.verdict !== 'pass')) {
            console.log(`${s.name}: ${e.verdict} ${e.name} = ${valueText(e.value, e.unit)} (expected ${limitText(e.limit, e.unit)})${e.message ? `: ${e.message}` : ''}`);
          }
        }
        console.log(`${suite.verdict.toUpperCase()}: ${runHeadline(scenarios)}`);
        console.log(`report: ${path.relative(process.cwd(), suite.files.json) || suite.files.json}${latest ? ` (also ${path.relative(process.cwd(), latest)})` : ''}`);
      }
      process.exitCode = suite.verdict === 'pass' ? 0 : 1;
    });
}
