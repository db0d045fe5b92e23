// The bug-report bundle: one .tar.gz with summary.md on top, then the environment
// (OS, versions, interfaces, `doctor --json`), the scenario, the report, a capture of the
// failing run (size-capped, cut at a packet boundary) and the DUT's status.
//
// planBugReport() gathers everything into memory or a cut list first, so what is printed
// ("will include … sizes") is exactly what writeBugReport() then writes. The archive is made
// with the npm `tar` package (node-tar), the same on Linux and macOS.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import { doctor, type DoctorReport } from '../cli/doctor.ts';
import { CaptureFormatError, CaptureReader } from '../net/pcap/reader.ts';
import { gitState, projectVersion } from './metadata.ts';
import { parseReport, ReportValidationError } from './report-file.ts';
import { renderSummary } from './render-summary.ts';

export const DEFAULT_CAPTURE_CAP_BYTES = 50 * 1024 * 1024;
export const DUT_STATUS_CAP_BYTES = 1024 * 1024;

export interface BugReportOptions {
  report?: string;
  capture?: string;
  scenario?: string;
  /** A file, or an http(s) URL the DUT serves its status on. */
  dutStatus?: string;
  captureCapBytes?: number;
  /** Lets tests pass a doctor report instead of probing every peer. */
  doctorReport?: DoctorReport;
  now?: Date;
}

export interface BundleEntry {
  /** Path inside the archive. */
  name: string;
  /** What it is and where it came from, for the printed plan. */
  what: string;
  bytes: number;
  /** In memory, or the first `length` bytes of a file. */
  content: { text: string } | { file: string; length: number };
}

export interface BugReportPlan {
  entries: BundleEntry[];
  /** Things the reader of the bundle should know (a cut capture, an invalid report …). */
  notes: string[];
}

/** Where a capture can be cut so every packet before the cut is whole. */
export interface CaptureCut {
  bytes: number;
  totalBytes: number;
  framesKept: number;
  truncated: boolean;
  /** Set when the capture is damaged: the cut is at the last good packet before it. */
  damage?: string;
}

/** The largest prefix of the capture no longer than `cap` that ends at a packet (record/block) boundary. */
export function captureCut(file: string, cap: number): CaptureCut {
  const totalBytes = statSync(file).size;
  let reader: CaptureReader;
  try {
    reader = new CaptureReader(file);
  } catch (e) {
    if (e instanceof CaptureFormatError) return { bytes: 0, totalBytes, framesKept: 0, truncated: true, damage: e.message };
    throw e;
  }
  // A frame's record starts where the previous one (and any blocks between) ended.
  let lastBoundary = 0;
  let framesBefore = 0;
  let frames = 0;
  try {
    for (let f = reader.next(); f; f = reader.next()) {
      if (f.offset > cap) return { bytes: lastBoundary, totalBytes, framesKept: framesBefore, truncated: true };
      lastBoundary = f.offset;
      framesBefore = frames;
      frames++;
    }
  } catch (e) {
    if (!(e instanceof CaptureFormatError)) throw e;
    // A file that simply ends early (a capture killed mid-write) fails on a truncated record
    // or block, and the reader dates that error at the record's start: everything before it,
    // the last good frame included, is whole. Other damage may be dated inside a block, so
    // the cut stays before the last frame read.
    if (/(^|: )truncated /.test(e.message) && e.offset >= lastBoundary && e.offset <= cap && frames > 0) {
      return { bytes: e.offset, totalBytes, framesKept: frames, truncated: true, damage: e.message };
    }
    return { bytes: lastBoundary, totalBytes, framesKept: framesBefore, truncated: true, damage: e.message };
  } finally {
    reader.close();
  }
  if (totalBytes <= cap) return { bytes: totalBytes, totalBytes, framesKept: frames, truncated: false };
  // The last frame's record runs to the end of the file, past the cap: cut before it.
  return { bytes: lastBoundary, totalBytes, framesKept: framesBefore, truncated: true };
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).trim();
  } catch (e) {
    return `(${cmd} ${args.join(' ')} failed: ${(e as Error).message.split('\n')[0]})`;
  }
}

function systemText(now: Date): string {
  const osRelease = (() => {
    try {
      return readFileSync('/etc/os-release', 'utf8').trim();
    } catch {
      return '(no /etc/os-release)';
    }
  })();
  const p = projectVersion();
  const g = gitState();
  const lines = [
    `collected: ${now.toISOString()}`,
    `project: ${p.name} ${p.version}, commit ${g.commit ?? 'none'}${g.dirty ? ' (dirty)' : ''}`,
    `os: ${os.type()} ${os.release()} ${os.version()} ${os.arch()}`,
    `node: ${process.version}`,
    `cpus: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
    `memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    '',
    '# /etc/os-release',
    osRelease,
    '',
    '# network interfaces (os.networkInterfaces)',
    JSON.stringify(os.networkInterfaces(), null, 2),
  ];
  if (os.platform() === 'linux') lines.push('', '# ip -brief address', run('ip', ['-brief', 'address']), '', '# ip maddress (multicast memberships)', run('ip', ['maddress']), '', '# ip route', run('ip', ['route']));
  else lines.push('', '# ifconfig', run('ifconfig', []), '', '# netstat -rn', run('netstat', ['-rn']));
  return `${lines.join('\n')}\n`;
}

async function fetchStatus(url: string): Promise<{ text: string; note?: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000), redirect: 'follow' });
    const body = new Uint8Array(await res.arrayBuffer());
    const kept = body.subarray(0, DUT_STATUS_CAP_BYTES);
    const head = `# GET ${url}\n# HTTP ${res.status} ${res.statusText}, content-type ${res.headers.get('content-type') ?? '-'}, ${body.length} bytes${body.length > kept.length ? `, first ${kept.length} kept` : ''}\n\n`;
    return { text: head + new TextDecoder().decode(kept), note: res.ok ? undefined : `the DUT status URL answered HTTP ${res.status}` };
  } catch (e) {
    const reason = (e as Error).name === 'TimeoutError' ? 'no answer within 5 s' : (e as Error).message;
    return { text: `# GET ${url}\n# failed: ${reason}\n`, note: `the DUT status could not be fetched from ${url}: ${reason}` };
  }
}

const text = (name: string, what: string, t: string): BundleEntry => ({ name, what, bytes: Buffer.byteLength(t), content: { text: t } });

export async function planBugReport(o: BugReportOptions): Promise<BugReportPlan> {
  const now = o.now ?? new Date();
  const entries: BundleEntry[] = [];
  const notes: string[] = [];
  const d = o.doctorReport ?? doctor();
  entries.push(text('environment/doctor.json', '`aes67-lab doctor --json`: addon, libpcap, netns, peers and versions', `${JSON.stringify(d, null, 2)}\n`));
  entries.push(text('environment/system.txt', 'OS, node, project version and commit, network interfaces with addresses, multicast memberships, routes', systemText(now)));

  if (o.scenario) {
    const t = readFileSync(o.scenario, 'utf8');
    entries.push(text(`scenario/${path.basename(o.scenario)}`, `the scenario (${o.scenario})`, t));
  }
  let summaryHead = '';
  if (o.report) {
    const raw = readFileSync(o.report, 'utf8');
    entries.push(text('report/report.json', `the report (${o.report})`, raw));
    try {
      summaryHead = renderSummary(parseReport(JSON.parse(raw), o.report));
    } catch (e) {
      const why = e instanceof ReportValidationError ? e.message : `${o.report}: not JSON: ${(e as Error).message}`;
      notes.push(`the report does not validate, so it is included as it is:\n${why}`);
    }
  }
  if (o.capture) {
    const cap = o.captureCapBytes ?? DEFAULT_CAPTURE_CAP_BYTES;
    const cut = captureCut(o.capture, cap);
    const name = `capture/${path.basename(o.capture)}`;
    const mb = (n: number) => `${(n / 2 ** 20).toFixed(2)} MiB`;
    if (cut.damage) notes.push(`the capture is damaged (${cut.damage}); kept the ${cut.framesKept} whole packets before the damage`);
    if (cut.truncated && !cut.damage) notes.push(`the capture was cut to ${mb(cut.bytes)} of ${mb(cut.totalBytes)} at a packet boundary: the first ${cut.framesKept} packets are whole, the rest left out (cap ${mb(cap)}; raise it with --max-capture-mb)`);
    entries.push({ name, what: `the capture (${o.capture})${cut.truncated ? `, first ${cut.framesKept} packets` : ''}`, bytes: cut.bytes, content: { file: o.capture, length: cut.bytes } });
    if (cut.truncated) entries.push(text('capture/TRUNCATED.txt', 'why the capture is shorter than the original', `${notes[notes.length - 1]}\noriginal: ${o.capture}, ${cut.totalBytes} bytes\n`));
  }
  if (o.dutStatus) {
    if (/^https?:\/\//i.test(o.dutStatus)) {
      const s = await fetchStatus(o.dutStatus);
      if (s.note) notes.push(s.note);
      entries.push(text('dut/status.txt', `the DUT status fetched from ${o.dutStatus}`, s.text));
    } else {
      const size = statSync(o.dutStatus).size;
      const len = Math.min(size, DUT_STATUS_CAP_BYTES);
      if (len < size) notes.push(`the DUT status file was cut to its first ${len} of ${size} bytes`);
      entries.push({ name: `dut/${path.basename(o.dutStatus)}`, what: `the DUT status (${o.dutStatus})`, bytes: len, content: { file: o.dutStatus, length: len } });
    }
  }

  const lines = [
    summaryHead || `## aes67-lab bug report\n\n${o.report ? '' : 'No report was given (--report): the environment and what else is listed below.\n'}`,
    '### Bundle contents',
    '',
    ...entries.map((e) => `- \`${e.name}\` (${e.bytes} bytes): ${e.what}`),
  ];
  if (notes.length) lines.push('', '### Notes', '', ...notes.map((n) => `- ${n.replace(/\n/g, '\n  ')}`));
  lines.push('', `Collected ${now.toISOString()} by aes67-lab bugreport.`, '');
  entries.unshift(text('summary.md', 'what failed, and this list', lines.join('\n')));
  return { entries, notes };
}

export function formatPlan(plan: BugReportPlan, out: string): string {
  const width = Math.max(...plan.entries.map((e) => e.name.length));
  const total = plan.entries.reduce((a, e) => a + e.bytes, 0);
  const lines = [`aes67-lab bugreport will write ${out} (before compression ${total} bytes) with:`];
  for (const e of plan.entries) lines.push(`  ${e.name.padEnd(width)}  ${String(e.bytes).padStart(10)} bytes  ${e.what}`);
  for (const n of plan.notes) lines.push(`note: ${n}`);
  lines.push('It holds host names, addresses and interface names: read it before you share it.');
  return lines.join('\n');
}

function copyPrefix(from: string, to: string, length: number): void {
  const src = openSync(from, 'r');
  const dst = openSync(to, 'w');
  try {
    const buf = Buffer.alloc(Math.min(length, 1 << 20) || 1);
    let done = 0;
    while (done < length) {
      const n = readSync(src, buf, 0, Math.min(buf.length, length - done), done);
      if (n === 0) throw new Error(`${from} is shorter than planned (${done} of ${length} bytes): it changed while the bundle was written`);
      writeFileSync(dst, buf.subarray(0, n));
      done += n;
    }
  } finally {
    closeSync(src);
    closeSync(dst);
  }
}

/** Writes the planned entries, summary.md first, into one .tar.gz. */
export async function writeBugReport(plan: BugReportPlan, out: string): Promise<void> {
  const staging = mkdtempSync(path.join(os.tmpdir(), 'a67-bugreport-'));
  try {
    for (const e of plan.entries) {
      const dest = path.join(staging, e.name);
      mkdirSync(path.dirname(dest), { recursive: true });
      if ('text' in e.content) writeFileSync(dest, e.content.text);
      else copyPrefix(e.content.file, dest, e.content.length);
    }
    mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    const tmp = `${out}.tmp-${process.pid}`;
    await tar.create({ gzip: true, file: tmp, cwd: staging, portable: true }, plan.entries.map((e) => e.name));
    renameSync(tmp, out);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
