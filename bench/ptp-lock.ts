// How long the engine's PTP slave takes to lock to linuxptp's ptp4l, as a distribution over
// many fresh trials, beside a ptp4l slave on the same grandmaster in the same trials (issue 9;
// the PTP issue's bound is < 20 s). Network namespaces over veth into one bridge, software
// time stamps, every namespace on the one system clock, which nothing disciplines: the
// grandmasters only read it, the ptp4l slave runs free_running 1, the engine keeps its own
// mapping.
//
// Two kinds of trial, each with fresh slave processes:
// - fresh: ptp4l is grandmaster already (masterOnly, priority1 128); `aes67-lab ptp follow`
//   (the engine) and a ptp4l slave start together. Engine lock time = the tests' and the
//   reports' definition: `ptp follow`'s lockTimeS, from the slave's start to the first offset
//   record in s2/s3 (lab/ptp/ptp-follow.ts).
// - failover: the lab's emulator (priority1 100, PTP timescale: TAI) is grandmaster too; both
//   slaves follow it; after FAILOVER_KILL_S its process is stopped, both fail over to ptp4l
//   after the announce receipt time-out. Re-lock = from selecting ptp4l to the first locked
//   record (what lab/ptp/ptp-bmca-ptp4l.test.ts reports as "re-lock X s later").
// ptp4l's lock is judged by the engine servo's own rule applied to its offsets
// (lab/ptp/lock-criterion.ts: the noise-aware window and its steadiness guard; free
// running, so they are its measurement error), in time:
// free running, ptp4l reports one Sync's offset per frequency-estimation interval, at
// least 1 s (freq_est_interval 0; -3 is refused), so the engine's 16 samples of 1/8 s
// (2 s within the window) become 2 reports 1 s apart within it. Its own s2 cannot be used:
// free running it never leaves s0 (clock_no_adjust), and a slave that may reach s2 would
// discipline the shared clock. Beside that, the share of its reports beyond 10 us: the
// path's own noise, which no servo can lock through. Every trial is bounded in time; one
// that does not lock counts as the bound.
//
// PTP_LOCK_TRIALS (default 40) per kind; PTP_LOCK_KINDS (default "fresh,failover");
// PTP_LOCK_BUSY=N runs N busy loops (one per core to load the host) for the whole set;
// PTP_LOCK_OUT=file.json keeps every trial (offset records of both slaves) for study.
// Without root or ptp4l it says why and exits 0 without figures; it never fails on figures.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { canUseNetns, createNetns, type Netns } from '../ci/netns.ts';
import { monotonicNowS, monotonicStamp } from '../lab/ptp/child-lines.ts';
import { startEmulator, startFollow } from '../lab/ptp/lab-ptp-processes.ts';
import { lockIndex, lockWindow, SERVO_LOCK_RULE, type LockRule } from '../lab/ptp/lock-criterion.ts';
import type { FollowRecord, FollowSummary } from '../lab/ptp/ptp-follow.ts';
import { literal, missingTools, ptp4lLocalIdentity, ptp4lOffsets, startPtp4l, type Ptp4lOptions, type Ptp4lProcess } from '../lab/ptp/ptp4l.ts';
import { recordBench } from './bench-json.ts';

const TRIALS = Number(process.env.PTP_LOCK_TRIALS ?? 40);
if (!(Number.isInteger(TRIALS) && TRIALS >= 1 && TRIALS <= 1000)) throw new Error(`PTP_LOCK_TRIALS=${process.env.PTP_LOCK_TRIALS}: give 1..1000 trials`);
const KINDS = (process.env.PTP_LOCK_KINDS ?? 'fresh,failover').split(',').map((k) => k.trim());
for (const k of KINDS) if (k !== 'fresh' && k !== 'failover') throw new Error(`PTP_LOCK_KINDS: "${k}" is not a kind; use fresh, failover or both, comma-separated`);
const BUSY = Number(process.env.PTP_LOCK_BUSY ?? 0);
if (!(Number.isInteger(BUSY) && BUSY >= 0 && BUSY <= 8)) throw new Error(`PTP_LOCK_BUSY=${process.env.PTP_LOCK_BUSY}: give 0..8 busy loops`);
const OUT = process.env.PTP_LOCK_OUT;

/** A lock not seen within this (from the slave's start, or from the failover) counts as this. */
const LOCK_BOUND_S = 25;
/** The emulator is stopped this long after the slaves start (the engine locks to it in 4-9 s). */
const FAILOVER_KILL_S = 14;
/** Each slave keeps running this long after its lock (seen to hold). */
const AFTER_LOCK_S = 1;
/** The ptp4l slave: free running, one "master offset" line per Sync (see above). */
const REF_SLAVE: Ptp4lOptions = { role: 'slave', everyOffset: true };
/**
 * The servo's rule in time at ptp4l's one report a second (see above): 2 reports, none beyond
 * the window, the window widened by the noise of its last 8 reports (8 s; the servo's 64
 * samples) and steady -- with 2 reports that is both, and their mean, within 5 us.
 */
const REF_RULE: LockRule = { ...SERVO_LOCK_RULE, lockSamples: 2, lockOutliers: 0, noiseSamples: 8 };

const netns = canUseNetns();
const missing = netns.ok ? missingTools(['ptp4l']) : [];
if (!netns.ok || missing.length > 0) {
  console.log(`ptp-lock: skipped, no figures: ${!netns.ok ? netns.reason : `missing ${missing.join(', ')} (apt-get install linuxptp)`}`);
  process.exit(0);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');

interface SlaveLock {
  /** Seconds from the reference (the slave's start, or the failover) to the selection of the grandmaster. */
  selectS: number | null;
  /** Seconds from the reference to lock; null: not within LOCK_BOUND_S. */
  lockS: number | null;
}
interface EngineTrial extends SlaveLock {
  firstOffsetS: number | null;
  firstStepS: number | null;
  /** The frequency acquisition fitted (ppm). Every namespace reads one clock, so the truth is 0: this is its error. */
  acquiredPpm: number | null;
  steps: number;
  lockLosses: number;
  spikes: number;
  delayRejected: number;
  /** Offsets beyond the lock threshold between the first step and the lock (or the end). */
  outliersBeforeLock: number;
  samplesBeforeLock: number;
  /** PTP - CLOCK_REALTIME (the true error: the grandmaster is ptp4l on this clock) when the lock was seen, ns. */
  errorAtLockNs: number | null;
  /** The largest |true error| in the second after the lock (100 ms samples), ns. */
  errorFirstSecondMaxNs: number | null;
  /** The lock window the servo used at the lock, by the lab's copy of its rule on the offsets since its last step (ns). */
  windowAtLockNs: number | null;
  records: { t: number; o: number; d: number; f: number; s: string }[];
}
interface RefTrial extends SlaveLock {
  /** Share of its reports beyond the lock threshold. */
  beyondShare: number | null;
  offsets: { t: number; o: number; s: string; d: number }[];
}
interface Trial {
  kind: 'fresh' | 'failover';
  index: number;
  load1: number;
  engine: EngineTrial;
  ref: RefTrial;
  note?: string;
}

let net: Netns | undefined;
const busyLoops: ChildProcess[] = [];
const dir = mkdtempSync(path.join(tmpdir(), 'a67lt-bench-'));
const cleanUp = () => {
  for (const b of busyLoops) if (b.exitCode === null && b.signalCode === null) b.kill('SIGKILL');
  net?.destroy();
  net = undefined;
  rmSync(dir, { recursive: true, force: true });
};
process.once('SIGINT', () => {
  cleanUp();
  process.exit(130);
});

/** The engine's figures from `ptp follow --json --records`, times from `refS` (CLOCK_MONOTONIC s). */
function engineTrial(summary: FollowSummary, gm: string, refS: number, selectFromS: number, boundFromSelection: boolean): EngineTrial {
  const records = (summary.records ?? []).filter((r) => r.atS >= selectFromS);
  const sel = summary.changes.find((c) => c.atS >= selectFromS && c.grandmaster === gm);
  const mine = records.filter((r) => r.grandmaster === gm);
  const lock = mine.find((r) => r.stateShort === 's2' || r.stateShort === 's3');
  const step = mine.find((r) => r.stateShort !== 's0');
  const before = mine.filter((r) => step && r.atS >= step.atS && (!lock || r.atS < lock.atS));
  // The bound counts from the start (fresh) or from the selection (failover).
  const bounded = lock !== undefined && lock.atS - (boundFromSelection && sel ? sel.atS : refS) <= LOCK_BOUND_S;
  return {
    selectS: sel ? sel.atS - refS : null,
    lockS: lock && bounded ? lock.atS - refS : null,
    firstOffsetS: mine.length ? mine[0].atS - refS : null,
    firstStepS: step ? step.atS - refS : null,
    acquiredPpm: step ? step.frequencyPpb / 1000 : null,
    steps: summary.counters.steps,
    lockLosses: summary.counters.lockLosses,
    spikes: summary.counters.spikes,
    delayRejected: summary.counters.delayRejected,
    outliersBeforeLock: before.filter((r) => Math.abs(r.offsetNs) > SERVO_LOCK_RULE.lockThresholdNs).length,
    samplesBeforeLock: before.length,
    errorAtLockNs: bounded && summary.errorAtLock ? summary.errorAtLock.atLockNs : null,
    errorFirstSecondMaxNs: bounded && summary.errorAtLock ? summary.errorAtLock.maxFirstSecondNs : null,
    windowAtLockNs: lock ? windowAtLock(mine, lock) : null,
    records: mine.map((r) => ({ t: +(r.atS - refS).toFixed(4), o: r.offsetNs, d: r.pathDelayNs, f: Math.round(r.frequencyPpb), s: r.stateShort })),
  };
}

/** The servo's window starts after its last step: the first record in s1 (acquisition) or one beyond the step threshold (100 us). */
function windowAtLock(mine: FollowRecord[], lock: FollowRecord): number {
  const end = mine.indexOf(lock);
  let start = mine.findIndex((r) => r.stateShort !== 's0') + 1;
  for (let i = start; i < end; i++) if (Math.abs(mine[i].offsetNs) > 100_000) start = i + 1;
  const offsets = mine.slice(start, end + 1).map((r) => r.offsetNs);
  return lockWindow(offsets, offsets.length - 1);
}

/** ptp4l's lock from `fromLine` on (its offsets after it selected `gm`), times from `refS`. */
function refTrial(p: Ptp4lProcess, gm: string, refS: number, fromLine: number, boundFromSelection: boolean): RefTrial {
  const sel = p.lines.find(new RegExp(`selected best master clock ${literal(gm)}`), fromLine);
  if (!sel) return { selectS: null, lockS: null, beyondShare: null, offsets: [] };
  const rows = ptp4lOffsets(p.lines.lines.slice(sel.line));
  const i = lockIndex(rows.map((r) => r.offsetNs), REF_RULE);
  const selAt = monotonicStamp(p.lines.lines[sel.line]);
  const within = (t: number | undefined) => (t !== undefined && t - (boundFromSelection ? selAt : refS) <= LOCK_BOUND_S ? t - refS : null);
  return {
    selectS: selAt - refS,
    lockS: i >= 0 ? within(rows[i].at) : null,
    beyondShare: rows.length ? rows.filter((r) => Math.abs(r.offsetNs) > SERVO_LOCK_RULE.lockThresholdNs).length / rows.length : null,
    offsets: rows.map((r) => ({ t: +(r.at - refS).toFixed(4), o: r.offsetNs, s: r.state, d: r.pathDelayNs })),
  };
}

/** Waits until ptp4l meets the servo's rule on `gm` (or the deadline), then stops it. */
async function finishRef(p: Ptp4lProcess, gm: string, fromLine: number, deadlineS: number): Promise<void> {
  while (monotonicNowS() < deadlineS) {
    const sel = p.lines.find(new RegExp(`selected best master clock ${literal(gm)}`), fromLine);
    if (sel) {
      const rows = ptp4lOffsets(p.lines.lines.slice(sel.line));
      const i = lockIndex(rows.map((r) => r.offsetNs), REF_RULE);
      if (i >= 0 && monotonicNowS() - rows[i].at >= AFTER_LOCK_S) break;
    }
    await sleep(100);
  }
  p.child.kill('SIGTERM');
  await p.lines.exited(5_000).catch(() => undefined);
}

/** The first stamped line of a ptp4l (its start, CLOCK_MONOTONIC s). */
async function ptp4lStart(p: Ptp4lProcess): Promise<number> {
  const m = await p.lines.waitFor(/^ptp4l\[\d+\.\d+\]/, 10_000);
  return monotonicStamp(m[0]);
}

async function freshTrial(index: number, gm: string): Promise<Trial> {
  const load1 = os.loadavg()[0];
  const ref = startPtp4l(net!, 'ref', dir, REF_SLAVE);
  const follow = startFollow(net!, 'sl', LOCK_BOUND_S + 5, ['--stop-after-lock', String(AFTER_LOCK_S), '--records']);
  const refStart = await ptp4lStart(ref);
  const { code, summary } = await follow.summary((LOCK_BOUND_S + 60) * 1000);
  if (code !== 0) throw new Error(`ptp follow exited ${code}:\n${follow.lines.lines.slice(-20).join('\n')}`);
  await finishRef(ref, gm, 0, refStart + LOCK_BOUND_S + AFTER_LOCK_S);
  return { kind: 'fresh', index, load1, engine: engineTrial(summary, gm, summary.startedAtS, summary.startedAtS, false), ref: refTrial(ref, gm, refStart, 0, false) };
}

async function failoverTrial(index: number, gm: string): Promise<Trial> {
  const load1 = os.loadavg()[0];
  const em = startEmulator(net!, 'em', ['--priority1', '100', '--seconds', String(FAILOVER_KILL_S + 30)]);
  const { identity: emIdentity } = await em.started;
  const ref = startPtp4l(net!, 'ref', dir, REF_SLAVE);
  const follow = startFollow(net!, 'sl', FAILOVER_KILL_S + 8 + LOCK_BOUND_S, ['--stop-after-lock', String(AFTER_LOCK_S), '--lock-grandmaster', gm, '--records']);
  await sleep(FAILOVER_KILL_S * 1000);
  const killedAt = monotonicNowS();
  const refLine = ref.lines.lines.length;
  em.lines.child.kill('SIGTERM');
  await em.exited(15_000);
  const { code, summary } = await follow.summary((FAILOVER_KILL_S + LOCK_BOUND_S + 60) * 1000);
  if (code !== 0) throw new Error(`ptp follow exited ${code}:\n${follow.lines.lines.slice(-20).join('\n')}`);
  // Each slave's re-lock counts from its own selection of ptp4l (ptp4l's receipt timer is randomised).
  const e0 = engineTrial(summary, gm, killedAt, killedAt, true);
  const lockedToEm = summary.changes.some((c) => c.atS < killedAt && c.locked && c.grandmaster === emIdentity);
  await finishRef(ref, gm, refLine, killedAt + 8 + LOCK_BOUND_S + AFTER_LOCK_S);
  const r0 = refTrial(ref, gm, killedAt, refLine, true);
  const rebase = <T extends SlaveLock>(x: T): T => ({ ...x, lockS: x.lockS !== null && x.selectS !== null ? x.lockS - x.selectS : null });
  return { kind: 'failover', index, load1, engine: rebase(e0), ref: rebase(r0), note: lockedToEm ? undefined : 'the engine had not locked to the emulator before it stopped' };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

interface Distribution {
  n: number;
  unlocked: number;
  minS: number;
  medianS: number;
  p90S: number;
  maxS: number;
}
/** Lock times with the not-locked counted as the bound (so the quantiles are honest lower bounds). */
function distribution(xs: (number | null)[]): Distribution {
  const v = xs.map((x) => x ?? LOCK_BOUND_S).sort((a, b) => a - b);
  return { n: v.length, unlocked: xs.filter((x) => x === null).length, minS: v[0], medianS: quantile(v, 0.5), p90S: quantile(v, 0.9), maxS: v[v.length - 1] };
}

function histogram(rows: [string, (number | null)[]][]): string[] {
  const lines = [`  ${'s'.padEnd(7)}${rows.map(([n]) => n.padEnd(26)).join('')}`];
  const all = rows.flatMap(([, xs]) => xs.map((x) => x ?? LOCK_BOUND_S));
  const top = Math.ceil(Math.max(...all, 1));
  for (let b = Math.floor(Math.min(...all)); b < top; b++) {
    const cells = rows.map(([, xs]) => {
      const n = xs.filter((x) => (x ?? LOCK_BOUND_S + 0.5) >= b && (x ?? LOCK_BOUND_S + 0.5) < b + 1).length;
      return `${String(n).padStart(3)} ${'#'.repeat(Math.min(n, 20))}`.padEnd(26);
    });
    lines.push(`  ${`${b}-${b + 1}`.padEnd(7)}${cells.join('')}`);
  }
  const never = rows.map(([, xs]) => `${String(xs.filter((x) => x === null).length).padStart(3)} not locked in ${LOCK_BOUND_S} s`.padEnd(26));
  lines.push(`  ${'never'.padEnd(7)}${never.join('')}`);
  return lines;
}

const us = (ns: number | null) => (ns === null ? '-' : `${(ns / 1000).toFixed(1)} us`);

interface ErrorAtLock {
  n: number;
  /** |PTP - CLOCK_REALTIME| when the lock was seen, us: median, p90, max. */
  medianUs: number;
  p90Us: number;
  maxUs: number;
  /** Locks with a true error beyond the lock threshold: false locks. */
  beyondThreshold: number;
  /** The largest |true error| in the second after any lock, us. */
  firstSecondMaxUs: number;
  /** The lock window at the locks (the lab's copy of the rule), us: median and max; locks in a widened window. */
  windowMedianUs: number;
  windowMaxUs: number;
  widened: number;
}
/** The true error at the locks seen: the figure that tells a false lock from a true one. */
function errorAtLock(trials: Trial[]): ErrorAtLock | null {
  const at = trials.map((t) => t.engine.errorAtLockNs).filter((x): x is number => x !== null).map((x) => Math.abs(x) / 1000).sort((a, b) => a - b);
  if (at.length === 0) return null;
  const after = trials.map((t) => t.engine.errorFirstSecondMaxNs).filter((x): x is number => x !== null);
  const windows = trials.map((t) => t.engine.windowAtLockNs).filter((x): x is number => x !== null).map((x) => x / 1000).sort((a, b) => a - b);
  return {
    n: at.length,
    medianUs: quantile(at, 0.5),
    p90Us: quantile(at, 0.9),
    maxUs: at[at.length - 1],
    beyondThreshold: at.filter((x) => x * 1000 > SERVO_LOCK_RULE.lockThresholdNs).length,
    firstSecondMaxUs: Math.max(...after) / 1000,
    windowMedianUs: quantile(windows, 0.5),
    windowMaxUs: windows.length ? windows[windows.length - 1] : NaN,
    widened: windows.filter((w) => w * 1000 > SERVO_LOCK_RULE.lockThresholdNs).length,
  };
}

const fmt = (d: Distribution) => `${d.minS.toFixed(2)} / ${d.medianS.toFixed(2)} / ${d.p90S.toFixed(2)} / ${d.maxS.toFixed(2)} s${d.unlocked ? ` (${d.unlocked} never)` : ''}`;

const results: Trial[] = [];
const summaryOut: Record<string, true> = {};
/** bench.json's entry for a kind (and load): each run of a kind replaces only its own. */
const benchName = (kind: string) => `ptp-lock-${kind}${BUSY > 0 ? `-busy${BUSY}` : ''}`;
try {
  for (let i = 0; i < BUSY; i++) busyLoops.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  net = createNetns({ prefix: 'a67lt', hosts: ['gm', 'em', 'sl', 'ref'], subnet: 157 });
  const gmProc = startPtp4l(net, 'gm', dir, { role: 'master-only', priority1: 128 });
  const gm = await ptp4lLocalIdentity(gmProc, 30_000);
  await gmProc.lines.waitFor(/assuming the grand master role|to MASTER on/, 30_000);
  console.log(`ptp-lock: ptp4l grandmaster ${gm} (masterOnly, software time stamps); ${TRIALS} trials of ${KINDS.join(' and ')}; ${BUSY} busy loop(s); load ${load()}`);
  for (const kind of KINDS as ('fresh' | 'failover')[]) {
    const loadBefore = load();
    const started = Date.now();
    const trials: Trial[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const t = kind === 'fresh' ? await freshTrial(i, gm) : await failoverTrial(i, gm);
      trials.push(t);
      results.push(t);
      const e = t.engine;
      console.log(
        `  ${kind} ${String(i + 1).padStart(3)}: engine ${e.lockS?.toFixed(3) ?? 'never'} s (select ${e.selectS?.toFixed(2)}, first offset ${e.firstOffsetS?.toFixed(2)}, step ${e.firstStepS?.toFixed(2)} at ${e.acquiredPpm?.toFixed(1)} ppm, ${e.samplesBeforeLock} samples/${e.outliersBeforeLock} > 10 us before lock, steps ${e.steps}, delay rejected ${e.delayRejected}; true error at lock ${us(e.errorAtLockNs)}, 1 s after max ${us(e.errorFirstSecondMaxNs)}, window ${us(e.windowAtLockNs)})` +
          `  ptp4l ${t.ref.lockS?.toFixed(3) ?? 'never'} s (select ${t.ref.selectS?.toFixed(2)}, ${t.ref.beyondShare === null ? '-' : (100 * t.ref.beyondShare).toFixed(0)} % of reports > 10 us)  load ${t.load1.toFixed(2)}${t.note ? `  [${t.note}]` : ''}`,
      );
      if (OUT) writeFileSync(OUT, JSON.stringify({ grandmaster: gm, busy: BUSY, trials: results }, null, 1));
    }
    const loadAfter = load();
    const what = kind === 'fresh' ? 'lock from the slave start' : 're-lock from selecting ptp4l after the failover';
    const engine = distribution(trials.map((t) => t.engine.lockS));
    const rule = distribution(trials.map((t) => t.ref.lockS));
    const fromSel = distribution(trials.map((t) => (t.engine.lockS !== null && t.engine.selectS !== null && kind === 'fresh' ? t.engine.lockS - t.engine.selectS : t.engine.lockS)));
    const refFromSel = distribution(trials.map((t) => (t.ref.lockS !== null && t.ref.selectS !== null && kind === 'fresh' ? t.ref.lockS - t.ref.selectS : t.ref.lockS)));
    console.log(`\n${kind}: ${what}, ${TRIALS} trials in ${((Date.now() - started) / 1000).toFixed(0)} s; load average before ${loadBefore}, after ${loadAfter}; ${BUSY} busy loop(s)`);
    console.log(`  ${''.padEnd(46)}min / median / p90 / max`);
    console.log(`  ${'engine (ptp follow lockTimeS, s2)'.padEnd(46)}${fmt(engine)}`);
    console.log(`  ${"ptp4l slave, the engine's rule on its offsets".padEnd(46)}${fmt(rule)}`);
    if (kind === 'fresh') {
      console.log(`  ${'engine, from its master selection'.padEnd(46)}${fmt(fromSel)}`);
      console.log(`  ${"ptp4l (engine's rule), from its selection".padEnd(46)}${fmt(refFromSel)}`);
    }
    const err = errorAtLock(trials);
    console.log(
      `  ${'engine true error at lock |PTP - REALTIME|'.padEnd(46)}` +
        (err ? `median ${err.medianUs.toFixed(1)} / p90 ${err.p90Us.toFixed(1)} / max ${err.maxUs.toFixed(1)} us (${err.n} locks, ${err.beyondThreshold} beyond ${SERVO_LOCK_RULE.lockThresholdNs / 1000} us); max in the second after ${err.firstSecondMaxUs.toFixed(1)} us; lock window median ${err.windowMedianUs.toFixed(1)}, max ${err.windowMaxUs.toFixed(1)} us (${err.widened} widened)` : 'no lock'),
    );
    const shares = trials.map((t) => t.ref.beyondShare).filter((x): x is number => x !== null).sort((a, b) => a - b);
    if (shares.length) console.log(`  ptp4l reports beyond 10 us (its measurement noise), share per trial: median ${(100 * quantile(shares, 0.5)).toFixed(0)} %, p90 ${(100 * quantile(shares, 0.9)).toFixed(0)} %, max ${(100 * shares[shares.length - 1]).toFixed(0)} %`);
    // The evidence for the tail: lock (from the acquisition step) by how far off acquisition left the frequency.
    const byError: string[] = [];
    for (const [lo, hi] of [[0, 3], [3, 6], [6, 10], [10, Infinity]]) {
      const g = trials.filter((t) => t.engine.acquiredPpm !== null && Math.abs(t.engine.acquiredPpm) >= lo && Math.abs(t.engine.acquiredPpm) < hi);
      if (g.length === 0) continue;
      const d = distribution(g.map((t) => (t.engine.lockS !== null && t.engine.firstStepS !== null ? t.engine.lockS - (kind === 'failover' ? t.engine.firstStepS - (t.engine.selectS ?? 0) : t.engine.firstStepS) : null)));
      byError.push(`${lo}-${hi === Infinity ? '' : hi} ppm: ${g.length} trials, median ${d.medianS.toFixed(2)} s, max ${d.maxS.toFixed(2)} s`);
    }
    console.log(`  engine, from the acquisition step to lock, by |frequency error acquisition left| (truth 0): ${byError.join('; ')}`);
    console.log(`  ratio engine / ptp4l (engine's rule): median ${(engine.medianS / rule.medianS).toFixed(2)}x, p90 ${(engine.p90S / rule.p90S).toFixed(2)}x, max ${(engine.maxS / rule.maxS).toFixed(2)}x`);
    for (const l of histogram([['engine', trials.map((t) => t.engine.lockS)], ["ptp4l (engine's rule)", trials.map((t) => t.ref.lockS)]])) console.log(l);
    console.log('');
    summaryOut[kind] = true;
    recordBench(benchName(kind), {
      grandmaster: 'ptp4l (linuxptp), masterOnly, software time stamps; the failover from the lab emulator (priority1 100)',
      link: 'veth into one bridge (namespaces)',
      lockRule: SERVO_LOCK_RULE,
      ptp4lRule: REF_RULE,
      boundS: LOCK_BOUND_S,
      what,
      trials: TRIALS,
      loadBefore,
      loadAfter,
      busyLoops: BUSY,
      engine,
      engineErrorAtLock: err,
      ptp4lByEngineRule: rule,
      ...(kind === 'fresh' ? { engineFromSelection: fromSel, ptp4lFromSelection: refFromSel } : {}),
      ratio: { median: engine.medianS / rule.medianS, p90: engine.p90S / rule.p90S },
    });
  }
  console.log(`written to bench.json (${Object.keys(summaryOut).map((k) => benchName(k)).join(', ')})${OUT ? `; every trial in ${OUT}` : ''}`);
} finally {
  cleanUp();
}
