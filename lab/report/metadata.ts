// Run metadata for report.json: the project version (package.json), the git commit, the
// host, and the peers `aes67-lab doctor` finds with their versions.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { doctor, type DoctorReport } from '../cli/doctor.ts';
import type { RunMetadata } from './schema.ts';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function projectVersion(): { name: string; version: string } {
  const pkg = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { name: string; version: string };
  return { name: pkg.name, version: pkg.version };
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: projectRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  } catch {
    return null;
  }
}

export function gitState(): { commit: string | null; dirty: boolean | null } {
  const commit = git(['rev-parse', 'HEAD']);
  if (commit === null) return { commit: null, dirty: null };
  const status = git(['status', '--porcelain', '--untracked-files=no']);
  return { commit, dirty: status === null ? null : status.length > 0 };
}

/** `doctorReport` lets a caller that already ran doctor() reuse it (it runs every peer once). */
export function collectRunMetadata(startedAt: Date, opts: { command?: string; doctorReport?: DoctorReport; finishedAt?: Date } = {}): RunMetadata {
  const d = opts.doctorReport ?? doctor();
  return {
    startedAt: startedAt.toISOString(),
    ...(opts.finishedAt ? { finishedAt: opts.finishedAt.toISOString() } : {}),
    ...(opts.command ? { command: opts.command } : {}),
    project: projectVersion(),
    git: gitState(),
    host: { hostname: os.hostname(), os: d.host.os, arch: d.host.arch, node: d.host.node, cpus: d.host.cpus },
    peers: d.capabilities.map((c) => ({ name: c.name, available: c.available, ...(c.version !== undefined ? { version: c.version } : {}), detail: c.detail })),
  };
}
