// `aes67-lab hil --rig rig.yaml <scenarios...> [-o DIR]` (also `ci/hil/run`): runs scenarios
// in real time against a device on a rig (lab/hil): the lab's grandmaster and senders on
// the rig's interface, the DUT configured through its control endpoint, what comes back
// measured, and report.json, index.html, junit.xml and summary.md written into DIR (default
// reports/hil-<UTC time>/). Exit 0: every expectation held; 1: one failed or could not be
// measured; 2: a bad rig or scenario file, or a scenario that cannot run in real time.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Command } from 'commander';
import { projectRoot } from '../../native/index.ts';
import { HilRefusal, planScenario } from '../hil/plan.ts';
import { runOnRig } from '../hil/real-time-run.ts';
import { loadRig } from '../hil/rig.ts';
import { limitText, runHeadline, runVerdict, valueText } from '../report/judge.ts';
import { collectRunMetadata } from '../report/metadata.ts';
import { renderReportFiles } from '../report/render-all.ts';
import { writeReport } from '../report/report-file.ts';
import type { ScenarioResult } from '../report/schema.ts';
import { loadScenarios } from '../scenario/load.ts';
import { readOrExit } from './input-file.ts';

/** Set in the environment of the runner re-run inside the rig's namespace. */
const IN_NETNS = 'AES67_HIL_NETNS';

function defaultDir(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return path.join(projectRoot, 'reports', `hil-${stamp}`);
}

export function registerHil(program: Command): void {
  program
    .command('hil')
    .description('run scenarios in real time against a device on a rig (exit 1: an expectation failed; 2: a bad rig/scenario file or one that cannot run in real time)')
    .requiredOption('--rig <file>', 'the rig file (YAML): lab interface, DUT and its control endpoint, loopback map, PTP')
    .argument('<paths...>', 'scenario files or directories')
    .option('-o, --out <dir>', 'report folder (default reports/hil-<time>/)')
    .option('--fifo <priority>', "run the lab's threads at SCHED_FIFO 1-98 over the measured span, raised once loaded (a busy host then cannot stall its senders; needs root or CAP_SYS_NICE; processes it starts and its analysis worker stay at normal priority)")
    .action(async (paths: string[], flags: { rig: string; out?: string; fifo?: string }) => {
      if (flags.fifo !== undefined && !(/^\d+$/.test(flags.fifo) && Number(flags.fifo) >= 1 && Number(flags.fifo) <= 98)) {
        console.error(`error: --fifo ${flags.fifo}: give a SCHED_FIFO priority 1-98 (below the DUT's real-time threads, e.g. 20)`);
        process.exit(2);
      }
      const rig = readOrExit(() => loadRig(flags.rig));
      const loaded = readOrExit(() => loadScenarios(paths));
      if (loaded.length === 0) {
        console.error(`error: no scenario files (*.yaml) under ${paths.join(', ')}`);
        process.exit(2);
      }
      // Every scenario is checked against the rig before anything starts.
      const refused = loaded.map((l) => ({ l, reasons: planScenario(l.scenario, rig.rig).refusals })).filter((x) => x.reasons.length > 0);
      if (refused.length > 0) {
        for (const x of refused) console.error(`error: ${new HilRefusal(x.l.file, x.reasons).message}`);
        process.exit(2);
      }
      const outDir = path.resolve(flags.out ?? defaultDir());
      // The lab's sockets and capture live in the rig's namespace: re-run there (root).
      const ns = rig.rig.lab.netns;
      if (ns !== undefined && process.env[IN_NETNS] !== ns) {
        const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, ...process.execArgv, ...process.argv.slice(1).filter((a) => a !== '-o' && a !== '--out' && a !== flags.out), '-o', outDir], {
          stdio: 'inherit',
          env: { ...process.env, [IN_NETNS]: ns },
        });
        if (r.error) {
          console.error(`error: cannot enter network namespace ${ns} (rig lab.netns): ${r.error.message}`);
          process.exit(2);
        }
        process.exit(r.status ?? 1);
      }
      const startedAt = new Date();
      const scenarios: ScenarioResult[] = [];
      for (const l of loaded) {
        console.log(`${l.scenario.name}: ${l.scenario.duration / 1e9} s in real time on rig '${rig.rig.name}' (${rig.rig.dut.kind} at ${rig.rig.dut.address})`);
        try {
          // --fifo: the runner raises its threads itself once loaded, inside the namespace, for
          // the measured span only (lab/net/real-time-priority.ts says why not under chrt).
          const r = await runOnRig(l, rig, { outDir, log: (line) => console.log(`  ${line}`), ...(flags.fifo !== undefined ? { fifo: Number(flags.fifo) } : {}) });
          scenarios.push(r);
          console.log(`${l.scenario.name}: ${r.verdict.toUpperCase()} in ${(r.wallTimeS ?? 0).toFixed(1)} s`);
          if (r.error) console.log(`${l.scenario.name}: error: ${r.error}`);
          for (const e of r.expectations.filter((x) => x.verdict !== 'pass')) {
            console.log(`${l.scenario.name}: ${e.verdict} ${e.name} = ${valueText(e.value, e.unit)} (expected ${limitText(e.limit, e.unit)})${e.message ? `: ${e.message}` : ''}`);
          }
        } catch (e) {
          if (e instanceof HilRefusal) {
            console.error(`error: ${e.message}`);
            process.exit(2);
          }
          throw e;
        }
      }
      const run = collectRunMetadata(startedAt, { finishedAt: new Date(), command: `ci/hil/run ${process.argv.slice(2).join(' ')}`.trim() });
      const json = path.join(outDir, 'report.json');
      const report = writeReport(json, { schema: 'aes67-lab/report', schemaVersion: 1, run, scenarios, fieldFailures: [] });
      await renderReportFiles(report, outDir);
      const verdict = runVerdict(report.scenarios);
      console.log(`${verdict.toUpperCase()}: ${runHeadline(report.scenarios)}`);
      console.log(`report: ${json}`);
      process.exitCode = verdict === 'pass' ? 0 : 1;
    });
}
