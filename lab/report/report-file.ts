// Reading, validating and writing report.json. Validation errors name the file and the
// JSON path of every problem, so a runner bug or a hand edit points at its own line.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { Report, REPORT_SCHEMA_VERSION, type ReportInput } from './schema.ts';

export class ReportValidationError extends Error {
  constructor(
    readonly source: string,
    readonly problems: { path: string; message: string }[],
  ) {
    super(`${source}: not a valid report:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
    this.name = 'ReportValidationError';
  }
}

/** scenarios[0].expectations[2].verdict */
export function formatPath(p: readonly PropertyKey[]): string {
  let out = '';
  for (const k of p) out += typeof k === 'number' ? `[${k}]` : out === '' ? String(k) : `.${String(k)}`;
  return out || '(top level)';
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_union') return `${issue.message} (none of the allowed types matched)`;
  if (issue.code === 'unrecognized_keys') return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
  return issue.message;
}

/** Validates a parsed JSON value; `source` names it in errors (a file name, or 'report'). */
export function parseReport(value: unknown, source = 'report'): z.infer<typeof Report> {
  if (value && typeof value === 'object' && 'schemaVersion' in value) {
    const v = (value as { schemaVersion: unknown }).schemaVersion;
    if (typeof v === 'number' && v > REPORT_SCHEMA_VERSION) {
      throw new ReportValidationError(source, [{ path: 'schemaVersion', message: `${v} is newer than this lab reads (${REPORT_SCHEMA_VERSION}): update aes67-lab` }]);
    }
  }
  const r = Report.safeParse(value);
  if (r.success) return r.data;
  throw new ReportValidationError(
    source,
    r.error.issues.map((i) => ({ path: formatPath(i.path), message: describeIssue(i) })),
  );
}

export function readReport(file: string): z.infer<typeof Report> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read the report: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ReportValidationError(file, [{ path: '(file)', message: `not JSON: ${(e as Error).message}` }]);
  }
  return parseReport(json, file);
}

/** Validates, then writes atomically (temp file + rename): a failed write never leaves half a report. */
export function writeReport(file: string, report: ReportInput): z.infer<typeof Report> {
  const valid = parseReport(report, file);
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(valid, null, 2)}\n`);
  renameSync(tmp, file);
  return valid;
}
