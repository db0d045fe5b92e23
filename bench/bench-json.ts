// bench.json at the project root: every bench writes its figures under its own name, so
// `npm run bench -- codec` updates the codec figures and keeps the others. A shared
// helper, not a bench (bench/run.ts skips it).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { projectRoot } from '../native/index.ts';

export const benchJsonPath = path.join(projectRoot, 'bench.json');

/** Replaces `name`'s entry in bench.json with `figures`, stamped with when and where. */
export function recordBench(name: string, figures: Record<string, unknown>): void {
  let all: Record<string, unknown> = {};
  if (existsSync(benchJsonPath)) {
    try {
      all = JSON.parse(readFileSync(benchJsonPath, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${benchJsonPath} is not valid JSON (${(e as Error).message}): fix or delete it`);
    }
  }
  all[name] = {
    measuredAt: new Date().toISOString(),
    host: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, load1: os.loadavg()[0] },
    ...figures,
  };
  // Write beside, then rename: a bench killed mid-write leaves the old file whole.
  const tmp = `${benchJsonPath}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`);
  renameSync(tmp, benchJsonPath);
}
