// Renders index.html, junit.xml and summary.md from a report, next to it or into a folder.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderHtml } from './render-html.ts';
import { renderJunit } from './render-junit.ts';
import { renderSummary } from './render-summary.ts';
import type { Report } from './schema.ts';

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

export interface RenderedFiles {
  html: string;
  junit: string;
  summary: string;
  /** Written only when asked (the CLI copies the report into a different -o folder). */
  json?: string;
}

export async function renderReportFiles(report: Report, outDir: string, opts: { writeJson?: boolean } = {}): Promise<RenderedFiles> {
  mkdirSync(outDir, { recursive: true });
  const files: RenderedFiles = { html: path.join(outDir, 'index.html'), junit: path.join(outDir, 'junit.xml'), summary: path.join(outDir, 'summary.md') };
  const html = await renderHtml(report);
  writeAtomic(files.html, html);
  writeAtomic(files.junit, renderJunit(report));
  writeAtomic(files.summary, renderSummary(report));
  if (opts.writeJson) {
    files.json = path.join(outDir, 'report.json');
    writeAtomic(files.json, `${JSON.stringify(report, null, 2)}\n`);
  }
  return files;
}
