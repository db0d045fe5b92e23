// `aes67-lab bugreport [--report r.json] [--capture c.pcapng] [--scenario s.yaml]
//   [--dut-status file|url] [-o out.tar.gz] [--yes]`: prints exactly what the bundle will
// hold (with sizes), asks (or takes --yes), then writes one .tar.gz with summary.md on top.
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { DEFAULT_CAPTURE_CAP_BYTES, formatPlan, planBugReport, writeBugReport } from '../report/bugreport.ts';

interface Opts {
  report?: string;
  capture?: string;
  scenario?: string;
  dutStatus?: string;
  out?: string;
  yes?: boolean;
  maxCaptureMb: string;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export function registerBugreport(program: Command): void {
  program
    .command('bugreport')
    .description('bundle environment, scenario, report, capture and DUT status into one .tar.gz (prints what it includes first)')
    .option('--report <file>', 'report.json of the failing run')
    .option('--capture <file>', 'pcap/pcapng of the failing run (size-capped, cut at a packet boundary)')
    .option('--scenario <file>', 'the scenario file that was run')
    .option('--dut-status <file|url>', "the DUT's status: a file, or an http(s) URL to GET")
    .option('-o, --out <file>', 'the bundle to write', `aes67-lab-bugreport-${new Date().toISOString().replace(/[:.]/g, '-')}.tar.gz`)
    .option('--max-capture-mb <n>', 'cap for the capture in MiB', String(DEFAULT_CAPTURE_CAP_BYTES / 2 ** 20))
    .option('--yes', 'write without asking')
    .action(async (opts: Opts) => {
      for (const [flag, file] of [['--report', opts.report], ['--capture', opts.capture], ['--scenario', opts.scenario]] as const) {
        if (file !== undefined && !existsSync(file)) program.error(`error: ${flag} ${file}: no such file`);
      }
      if (opts.dutStatus !== undefined && !/^https?:\/\//i.test(opts.dutStatus) && !existsSync(opts.dutStatus)) {
        program.error(`error: --dut-status ${opts.dutStatus}: no such file (give a file or an http:// or https:// URL)`);
      }
      const capMb = Number(opts.maxCaptureMb);
      if (!(capMb > 0)) program.error(`error: --max-capture-mb ${opts.maxCaptureMb}: a positive number of MiB`);
      const out = opts.out as string;
      if (!/\.tar\.gz$|\.tgz$/.test(out)) program.error(`error: -o ${out}: the bundle is a gzipped tar; name it *.tar.gz or *.tgz`);
      const plan = await planBugReport({ report: opts.report, capture: opts.capture, scenario: opts.scenario, dutStatus: opts.dutStatus, captureCapBytes: Math.floor(capMb * 2 ** 20) });
      console.log(formatPlan(plan, out));
      if (!opts.yes) {
        if (!process.stdin.isTTY) program.error('error: not written: re-run with --yes to write it without asking');
        if (!(await confirm(`Write ${out}? [y/N] `))) {
          console.log('not written');
          return;
        }
      }
      await writeBugReport(plan, out);
      console.log(`wrote ${out}`);
    });
}
