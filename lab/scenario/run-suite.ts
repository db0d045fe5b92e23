// A run of several scenarios: each in virtual time, one after the other, into one
// report.json (validated and written by lab/report), rendered to index.html, junit.xml and
// summary.md beside it.
import { existsSync, lstatSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import type { DoctorReport } from '../cli/doctor.ts';
import { collectRunMetadata } from '../report/metadata.ts';
import { renderReportFiles, type RenderedFiles } from '../report/render-all.ts';
import { writeReport } from '../report/report-file.ts';
import { limitText, runVerdict, valueText } from '../report/judge.ts';
import type { FieldFailureRow, Report, ScenarioResult, Verdict } from '../report/schema.ts';
import type { LoadedScenario } from './load.ts';
import { runScenario } from './runner.ts';

export interface SuiteOptions {
  outDir: string;
  seed?: number;
  command?: string;
  doctorReport?: DoctorReport;
  onStart?: (l: LoadedScenario, index: number, total: number) => void;
  onProgress?: (l: LoadedScenario, fraction: number) => void;
  onDone?: (l: LoadedScenario, result: ScenarioResult) => void;
}

export interface SuiteResult {
  report: Report;
  files: RenderedFiles & { json: string };
  verdict: Verdict;
}

export async function runSuite(loaded: LoadedScenario[], o: SuiteOptions): Promise<SuiteResult> {
  const startedAt = new Date();
  const scenarios: ScenarioResult[] = [];
  loaded.forEach((l, i) => {
    o.onStart?.(l, i, loaded.length);
    const r = runScenario(l, { ...(o.seed !== undefined ? { seed: o.seed } : {}), onProgress: (f) => o.onProgress?.(l, f) });
    scenarios.push(r);
    o.onDone?.(l, r);
  });
  const run = collectRunMetadata(startedAt, { finishedAt: new Date(), ...(o.command ? { command: o.command } : {}), ...(o.doctorReport ? { doctorReport: o.doctorReport } : {}) });
  const json = path.join(o.outDir, 'report.json');
  const report = writeReport(json, { schema: 'aes67-lab/report', schemaVersion: 1, run, scenarios, fieldFailures: fieldMatrix(loaded, scenarios) });
  const files = await renderReportFiles(report, o.outDir);
  return { report, files: { ...files, json }, verdict: runVerdict(report.scenarios) };
}

/**
 * The field-failure matrix (issue 11): one row per scenario with a `field:` block — the
 * failure, its source note, the scenario's verdict and the figure it names, measured.
 */
export function fieldMatrix(loaded: LoadedScenario[], results: ScenarioResult[]): FieldFailureRow[] {
  const rows: FieldFailureRow[] = [];
  loaded.forEach((l, i) => {
    const f = l.scenario.field;
    if (!f) return;
    const r = results[i];
    const e = r.expectations.find((x) => x.name === f.figure);
    const onPurpose = r.expectations.filter((x) => x.failsOnPurpose);
    let detail: string;
    if (r.error !== undefined) detail = `run error: ${r.error}`;
    else if (onPurpose.length > 0) {
      const missed = onPurpose.filter((x) => !x.failsOnPurpose!.detected).map((x) => x.name);
      detail = missed.length === 0 ? `fails on purpose; the lab detected it (${onPurpose.map((x) => x.name).join(', ')})` : `fails on purpose; the lab MISSED it: ${missed.join(', ')}`;
    } else {
      const bad = r.expectations.filter((x) => x.verdict !== 'pass').map((x) => `${x.name} ${valueText(x.value, x.unit)} (${limitText(x.limit, x.unit)})`);
      detail = bad.length === 0 ? `limit ${e ? limitText(e.limit, e.unit) : '?'}; all ${r.expectations.length} expectations pass` : `failing: ${bad.join('; ')}`;
    }
    rows.push({ failure: f.failure, note: f.note, scenario: r.name, verdict: r.verdict, figure: { name: f.figure, value: e ? e.value : null, unit: e ? e.unit : '' }, detail });
  });
  return rows;
}

/** reports/run-YYYYMMDD-HHMMSS (UTC), a new folder per run. */
export function defaultRunDir(reportsDir: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  let dir = path.join(reportsDir, `run-${stamp}`);
  for (let i = 2; existsSync(dir); i++) dir = path.join(reportsDir, `run-${stamp}-${i}`);
  return dir;
}

/** Points reports/latest at `runDir` (a relative symlink, replaced each run). */
export function linkLatest(reportsDir: string, runDir: string): string {
  const link = path.join(reportsDir, 'latest');
  try {
    if (lstatSync(link).isSymbolicLink() || existsSync(link)) rmSync(link, { recursive: true, force: true });
  } catch {
    // no previous link
  }
  symlinkSync(path.relative(reportsDir, runDir), link, 'dir');
  return link;
}
