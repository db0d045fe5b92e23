// `aes67-lab report report.json [-o dir]`: re-renders index.html, junit.xml and summary.md
// from report.json (the source of truth), into its own folder or into `dir`.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { runHeadline, runVerdict } from '../report/judge.ts';
import { readReport, ReportValidationError } from '../report/report-file.ts';
import { renderReportFiles } from '../report/render-all.ts';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('re-render index.html, junit.xml and summary.md from a report.json')
    .argument('<report.json>', 'a report written by aes67-lab run')
    .option('-o, --out <dir>', 'folder for the rendered files (default: the report’s folder; report.json is copied there)')
    .option('--exit-code', 'exit 1 when the report’s verdict is fail or error')
    .action(async (file: string, opts: { out?: string; exitCode?: boolean }) => {
      if (!existsSync(file)) program.error(`error: ${file}: no such report (give the path of a report.json)`);
      let report;
      try {
        report = readReport(file);
      } catch (e) {
        if (e instanceof ReportValidationError) program.error(`error: ${e.message}`);
        throw e;
      }
      const outDir = opts.out ?? path.dirname(file);
      const sameDir = path.resolve(outDir) === path.resolve(path.dirname(file));
      const files = await renderReportFiles(report, outDir, { writeJson: !sameDir });
      const verdict = runVerdict(report.scenarios);
      console.log(`${verdict.toUpperCase()}: ${runHeadline(report.scenarios)}`);
      for (const f of [files.html, files.junit, files.summary, files.json].filter(Boolean)) console.log(`wrote ${f}`);
      if (opts.exitCode && verdict !== 'pass') process.exitCode = 1;
    });
}
