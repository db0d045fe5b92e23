// BMCA crossing (issue 10, item 3): two grandmasters on one bridge -- linuxptp's ptp4l
// (priority1 128, masterOnly: it keeps announcing whoever else is heard) and the lab's
// emulator (priority1 100, better) -- with the engine's slave (`aes67-lab ptp follow
// --json`) and a ptp4l slave as an independent judge in two more namespaces. The engine
// must follow the emulator; when the emulator stops announcing, fail over to ptp4l within
// the announce receipt time-out, re-lock, and count one grandmaster change; when the
// emulator comes back, take over again once it qualifies; and fail over again when the
// emulator process is stopped. The judge ptp4l must pick the same grandmaster at every
// phase (its log and pmc's PARENT_DATA_SET). Nothing disciplines the shared clock: both
// ptp4l run free_running, the emulator and the engine only read it.
//
// The windows are computed from the protocol, not fitted to a run:
// - The engine forgets a master announceReceiptTimeout x 2^logAnnounceInterval = 3 x 2 s
//   after its last Announce (announceReceiptTimeoutInterval, IEEE 1588-2008 7.7.3.1; the
//   engine adds no random part: engine/ptp/foreign_master_table.cpp), then selects the best
//   remaining qualified master: ptp4l, which has been announcing all along.
// - ptp4l adds a random part of up to one announce interval to its receipt timer
//   (linuxptp port_set_announce_tmo: set_tmo_random(.., announceReceiptTimeout,
//   announce_span 1, ..)): the judge's timer fires 6-8 s after the last Announce; it
//   re-selects at a state decision (an Announce of the remaining master) once the failed
//   master is unqualified (fewer than 2 Announces in 4 intervals: from 6 s) or timed out.
// - A master that starts announcing again qualifies with its second Announce
//   (FOREIGN_MASTER_THRESHOLD 2 within 4 intervals, 9.3.2.4.5), one interval after the first.
// - The emulator's Announces go out on a 2 s grid from its first poll (just after its start
//   line), and from the moment `resume-announcing` runs; a scripted stop at an odd second is
//   1 s after its last Announce. A late poll sends an Announce later, never earlier, so the
//   grid is a lower bound and the windows' early edges are firm.
// Tolerances: 50 ms early (poll granularity), 500 ms late (a busy 2-core host scheduling
// three Node processes and two ptp4l).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetns, type Netns } from '../../ci/netns.ts';
import { monotonicNowS, monotonicStamp } from './child-lines.ts';
import { emulatorEventAt, startEmulator, startFollow } from './lab-ptp-processes.ts';
import type { FollowChange } from './ptp-follow.ts';
import { literal, missingTools, offsetStats, pmcGet, ptp4lLocalIdentity, ptp4lOffsets, startPtp4l } from './ptp4l.ts';

const netns = canUseNetns();
const missing = netns.ok ? missingTools(['ptp4l', 'pmc']) : [];
const skip = !netns.ok ? netns.reason! : missing.length > 0 ? `missing ${missing.join(', ')}` : '';
if (skip) console.warn(`BMCA crossing skipped: ${skip}`);

const ANNOUNCE_INTERVAL_S = 2; // logAnnounceInterval 1 on every clock here
const RECEIPT_TIMEOUT_S = 3 * ANNOUNCE_INTERVAL_S;
const EARLY_S = 0.05;
const LATE_S = 0.5;
// The emulator's script, in seconds from its start.
// Spaced so the engine re-locks in each phase even on a loaded host (the emulator's own
// software time stamps are noisier than ptp4l's: locking to it took 7-9 s in trial runs).
// After the failover (~6 s after the last Announce) the engine has until RESUME_AT to
// re-lock to ptp4l: 21 s, the issue's lock bound (< 20 s) with a second to spare; 13 s
// was too little in a CI run (re-lock 13.5 s).
const STOP_AT = 21;
const RESUME_AT = 48;
// The emulator process is stopped this long after it resumed (odd: mid-way between Announces).
const END_AFTER_RESUME = 17;
const sleepUntil = async (monotonicS: number) => {
  const ms = (monotonicS - monotonicNowS()) * 1000;
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
};

/** The first change at or after `fromS` that selects `gm`, and the first lock to it after that. */
function selection(changes: FollowChange[], gm: string, fromS: number) {
  const i = changes.findIndex((c) => c.atS >= fromS && c.grandmaster === gm);
  if (i < 0) return undefined;
  const selected = changes[i];
  const before = changes.slice(0, i).reverse().find((c) => c.grandmaster !== null);
  const lock = changes.slice(i).find((c) => c.locked && c.grandmaster === gm);
  return { selected, before, lock };
}

describe.skipIf(skip !== '')(`BMCA: ptp4l and the emulator as grandmasters, the engine and a ptp4l slave choosing (network namespaces${skip ? `; skipped: ${skip}` : ''})`, () => {
  let net: Netns | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'a67q-bmca-'));
  afterAll(() => {
    net?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('follows the better emulator, fails over to ptp4l within the receipt time-out, and back again', { timeout: 180_000 }, async () => {
    net = createNetns({ prefix: 'a67qb', hosts: ['gm', 'em', 'sl', 'judge'], subnet: 200 });
    const ptp4lGm = startPtp4l(net, 'gm', dir, { role: 'master-only', priority1: 128 });
    const gmIdentity = await ptp4lLocalIdentity(ptp4lGm, 20_000);
    await ptp4lGm.lines.waitFor(/assuming the grand master role|to MASTER on/, 30_000);
    expect(pmcGet(net, ptp4lGm, dir, 'DEFAULT_DATA_SET')).toMatchObject({ clockIdentity: gmIdentity, priority1: '128' });
    const judge = startPtp4l(net, 'judge', dir, { role: 'slave', everyOffset: true });
    await judge.lines.waitFor(/INITIALIZING to LISTENING/, 10_000);

    const em = startEmulator(net, 'em', ['--priority1', '100', '--event', `${STOP_AT}:stop-announcing`, '--event', `${RESUME_AT}:resume-announcing`, '--seconds', '120']);
    const { identity: emIdentity, at: emStart } = await em.started;
    expect(emIdentity).not.toBe(gmIdentity);
    // Runs until about 12 s after the last failover (see below).
    // After the last failover the engine gets the same 21 s to re-lock to ptp4l as after the
    // first (12 s was too little in a CI rehearsal: re-lock not done 12 s after the failover,
    // where it takes 3.2 s in most runs).
    const follow = startFollow(net, 'sl', RESUME_AT + END_AFTER_RESUME + RECEIPT_TIMEOUT_S + 21);

    // Phase 1: the emulator is best. The judge says so through pmc as well as its log.
    const judgeFirst = await judge.lines.waitFor(new RegExp(`selected best master clock ${literal(emIdentity)}`), 20_000);
    await sleepUntil(emStart + STOP_AT - 2);
    expect(pmcGet(net, judge, dir, 'PARENT_DATA_SET')).toMatchObject({ grandmasterIdentity: emIdentity, grandmasterPriority1: '100' });
    const emTime = pmcGet(net, judge, dir, 'TIME_PROPERTIES_DATA_SET');

    // Phase 2: the emulator stops announcing (its Syncs go on) -> ptp4l.
    const stoppedAt = await emulatorEventAt(em, 'stop-announcing', (STOP_AT + 10) * 1000);
    // Its Announces leave on the grid of its first poll, which follows its start line: the
    // last one left at or after this (a busy host only makes it later, never earlier).
    const lastAnnounce1 = emStart + STOP_AT - (STOP_AT % ANNOUNCE_INTERVAL_S);
    const judgeBack = await judge.lines.waitFor(new RegExp(`selected best master clock ${literal(gmIdentity)}`), 15_000, judgeFirst.line);
    await sleepUntil(emStart + RESUME_AT - 2);
    expect(pmcGet(net, judge, dir, 'PARENT_DATA_SET')).toMatchObject({ grandmasterIdentity: gmIdentity, grandmasterPriority1: '128' });
    const gmTime = pmcGet(net, judge, dir, 'TIME_PROPERTIES_DATA_SET');

    // Phase 3: the emulator announces again -> takes over once qualified.
    const resumedAt = await emulatorEventAt(em, 'resume-announcing', 15_000);
    const judgeAgain = await judge.lines.waitFor(new RegExp(`selected best master clock ${literal(emIdentity)}`), 15_000, judgeBack.line);
    // Stop it mid-way between two Announces, so its last one is known.
    const stopAt = resumedAt + END_AFTER_RESUME;
    await sleepUntil(stopAt - 2);
    expect(pmcGet(net, judge, dir, 'PARENT_DATA_SET')).toMatchObject({ grandmasterIdentity: emIdentity });
    await sleepUntil(stopAt);

    // Phase 4: the emulator process ends -> ptp4l again.
    const killedAt = monotonicNowS();
    em.lines.child.kill('SIGTERM');
    const { code: emCode, summary: emSummary } = await em.exited(15_000);
    // After resuming, Announces leave at resumedAt + 2k (resumedAt is that poll's time).
    const lastAnnounce2 = resumedAt + ANNOUNCE_INTERVAL_S * Math.floor((killedAt - resumedAt) / ANNOUNCE_INTERVAL_S);
    const judgeLast = await judge.lines.waitFor(new RegExp(`selected best master clock ${literal(gmIdentity)}`), 15_000, judgeAgain.line);

    const { code, summary } = await follow.summary(60_000);
    expect(code, follow.lines.lines.slice(-20).join('\n')).toBe(0);
    expect(pmcGet(net, judge, dir, 'PARENT_DATA_SET')).toMatchObject({ grandmasterIdentity: gmIdentity });

    const ch = summary.changes;
    const t = (x: number) => (x - emStart).toFixed(3);
    const timeline = ch.map((c) => `    ${t(c.atS)} s  ${c.portState}/${c.servoShort}  gm ${c.grandmaster}  changes ${c.grandmasterChanges}`).join('\n');
    const first = selection(ch, emIdentity, 0);
    const fail1 = selection(ch, gmIdentity, stoppedAt);
    const back = selection(ch, emIdentity, resumedAt);
    const fail2 = selection(ch, gmIdentity, stopAt);
    const failover1S = fail1 ? fail1.selected.atS - lastAnnounce1 : NaN;
    const takeoverS = back ? back.selected.atS - resumedAt : NaN;
    const failover2S = fail2 ? fail2.selected.atS - lastAnnounce2 : NaN;

    // The judge: its receipt timer (the log line) and its choice, which ptp4l makes at the
    // next Announce of the remaining master (a state decision event), so up to one
    // interval after its timer.
    const judgeTimeout1 = await judge.lines.waitFor(/on ANNOUNCE_RECEIPT_TIMEOUT_EXPIRES/, 1_000, judgeFirst.line);
    const judgeTimeout2 = await judge.lines.waitFor(/on ANNOUNCE_RECEIPT_TIMEOUT_EXPIRES/, 1_000, judgeAgain.line);
    const at = (line: number) => monotonicStamp(judge.lines.lines[line]);
    const judgeTimer1S = at(judgeTimeout1.line) - lastAnnounce1;
    const judgeTimer2S = at(judgeTimeout2.line) - lastAnnounce2;
    const judgeFail1S = at(judgeBack.line) - lastAnnounce1;
    const judgeFail2S = at(judgeLast.line) - lastAnnounce2;
    const judgeTakeoverS = at(judgeAgain.line) - resumedAt;
    // The judge's offsets while it followed each (free running: its measurement of that master).
    const judgeOffsets = ptp4lOffsets(judge.lines.lines);
    const judgeStats = (from: number, to: number) => {
      const xs = judgeOffsets.filter((o) => o.at > from + 3 && o.at < to).map((o) => o.offsetNs);
      if (xs.length === 0) return 'none';
      const st = offsetStats(xs);
      return `rms ${st.rmsNs.toFixed(0)} ns, median ${st.medianNs.toFixed(0)} ns, max ${st.maxAbsNs.toFixed(0)} ns (${st.samples})`;
    };
    const byGm = Object.fromEntries(summary.byGrandmaster.map((g) => [g.grandmaster, g]));
    // PTP time minus the system clock's UTC, whole seconds, as ptp4l reads each master's
    // time properties: the UTC offset on the PTP timescale, nothing on an ARB one.
    const timescaleSeconds = (tp: Record<string, string>) => (tp.ptpTimescale === '1' && tp.currentUtcOffsetValid === '1' ? Number(tp.currentUtcOffset) : 0);
    const relock = (s: ReturnType<typeof selection>) => (s?.lock ? `${(s.lock.atS - s.selected.atS).toFixed(3)} s` : 'never');
    const errorOf = (id: string) => {
      const g = byGm[id];
      const e = g?.systemClockOffset;
      return e ? `PTP - UTC ${e.wholeSeconds} s + true error rms ${e.rmsNs.toFixed(0)} ns, max ${e.maxNs.toFixed(0)} ns, mean ${e.meanNs.toFixed(0)} ns (${e.samples}); reported offset rms ${g.offsetRmsNs?.toFixed(0)} ns` : 'never locked';
    };
    console.log([
      `BMCA: emulator ${emIdentity} (priority1 100) and ptp4l ${gmIdentity} (priority1 128, masterOnly); seconds from the emulator's start:`,
      `  emulator stopped announcing ${t(stoppedAt)} (last Announce ${t(lastAnnounce1)}), resumed ${t(resumedAt)}, process ended ${t(stopAt)} (last Announce ${t(lastAnnounce2)})`,
      `  engine (ptp follow) timeline:`,
      timeline,
      `  engine failover on the announce stop: ${failover1S.toFixed(3)} s after the last Announce (window ${RECEIPT_TIMEOUT_S - EARLY_S}..${RECEIPT_TIMEOUT_S + LATE_S} s); re-lock ${relock(fail1)} later`,
      `  engine takeover on resume: ${takeoverS.toFixed(3)} s (second Announce: ${ANNOUNCE_INTERVAL_S} s); re-lock ${relock(back)} later`,
      `  engine failover on the process end: ${failover2S.toFixed(3)} s after the last Announce; re-lock ${relock(fail2)} later`,
      `  judge ptp4l: receipt timer ${judgeTimer1S.toFixed(3)} s / ${judgeTimer2S.toFixed(3)} s (${RECEIPT_TIMEOUT_S}..${RECEIPT_TIMEOUT_S + ANNOUNCE_INTERVAL_S} s), failover ${judgeFail1S.toFixed(3)} s / ${judgeFail2S.toFixed(3)} s, takeover ${judgeTakeoverS.toFixed(3)} s`,
      `  engine counters: grandmaster changes ${summary.counters.grandmasterChanges}, announce time-outs ${summary.counters.announceTimeouts}, lock losses ${summary.counters.lockLosses}, spikes ${summary.counters.spikes}, steps ${summary.counters.steps}; servo at the end: stamp noise ${summary.measurementNoiseNs?.toFixed(0) ?? '-'} ns, gain scale ${summary.gainScale?.toFixed(2) ?? '-'}`,
      `  time properties (judge's pmc): emulator ${JSON.stringify(emTime)}, ptp4l ${JSON.stringify(gmTime)}`,
      `  engine locked to the emulator: ${errorOf(emIdentity)}`,
      `  engine locked to ptp4l:        ${errorOf(gmIdentity)}`,
      `  judge's offsets following the emulator: ${judgeStats(at(judgeAgain.line), stopAt)}; following ptp4l: ${judgeStats(at(judgeBack.line), resumedAt)}`,
    ].join('\n'));

    // Phase 1: the engine chose the emulator.
    expect(first, timeline).toBeDefined();
    expect(first!.selected.atS).toBeLessThan(stoppedAt);
    // Phase 2: failover to ptp4l at the receipt time-out, counted once, re-locked.
    expect(fail1, timeline).toBeDefined();
    expect(fail1!.before?.grandmaster).toBe(emIdentity);
    expect(fail1!.selected.grandmasterChanges - fail1!.before!.grandmasterChanges, 'one grandmaster change').toBe(1);
    expect(failover1S).toBeGreaterThan(RECEIPT_TIMEOUT_S - EARLY_S);
    expect(failover1S).toBeLessThan(RECEIPT_TIMEOUT_S + LATE_S);
    expect(fail1!.lock?.atS, 're-locked to ptp4l before the emulator came back').toBeLessThan(resumedAt);
    // Phase 3: the emulator takes over with its second Announce after resuming, counted once.
    expect(back, timeline).toBeDefined();
    expect(back!.before?.grandmaster).toBe(gmIdentity);
    expect(back!.selected.grandmasterChanges - back!.before!.grandmasterChanges).toBe(1);
    expect(takeoverS).toBeGreaterThan(ANNOUNCE_INTERVAL_S - EARLY_S);
    expect(takeoverS).toBeLessThan(ANNOUNCE_INTERVAL_S + LATE_S);
    // Phase 4: failover again when the emulator's process ended, counted once, re-locked.
    expect(fail2, timeline).toBeDefined();
    expect(fail2!.before?.grandmaster).toBe(emIdentity);
    expect(fail2!.selected.grandmasterChanges - fail2!.before!.grandmasterChanges).toBe(1);
    expect(failover2S).toBeGreaterThan(RECEIPT_TIMEOUT_S - EARLY_S);
    expect(failover2S).toBeLessThan(RECEIPT_TIMEOUT_S + LATE_S);
    expect(fail2!.lock, 're-locked to ptp4l').toBeDefined();
    expect(summary.grandmaster).toBe(gmIdentity);
    // Every change of grandmaster the timeline shows is counted once, and nothing more.
    const followed = ch.map((c) => c.grandmaster).filter((g): g is string => g !== null);
    const switches = followed.filter((g, i) => i > 0 && g !== followed[i - 1]).length;
    expect(switches).toBeGreaterThanOrEqual(3);
    expect(summary.counters.grandmasterChanges).toBe(switches);

    // The judge made the same choices, in its own (randomised) windows.
    for (const s of [judgeTimer1S, judgeTimer2S]) {
      expect(s).toBeGreaterThan(RECEIPT_TIMEOUT_S - EARLY_S);
      expect(s).toBeLessThan(RECEIPT_TIMEOUT_S + ANNOUNCE_INTERVAL_S + LATE_S);
    }
    // ptp4l re-selects at a state decision, which an Announce of the remaining master
    // triggers: never before the failed master's second-last Announce leaves its 4-interval
    // qualification window (6 s after the last), and in trials 0.3-2.5 s after its timer
    // (not derived: bounded here at two intervals).
    for (const [sel, timer] of [[judgeFail1S, judgeTimer1S], [judgeFail2S, judgeTimer2S]]) {
      expect(sel).toBeGreaterThan(RECEIPT_TIMEOUT_S - EARLY_S);
      expect(sel - timer).toBeLessThan(2 * ANNOUNCE_INTERVAL_S + LATE_S);
    }
    expect(judgeTakeoverS).toBeGreaterThan(ANNOUNCE_INTERVAL_S - EARLY_S);
    expect(judgeTakeoverS).toBeLessThan(ANNOUNCE_INTERVAL_S + LATE_S);

    // The emulator's own account: it stayed master (ptp4l is worse), heard ptp4l, answered Delay_Req.
    expect(emCode).toBe(0);
    expect(emSummary?.identity).toBe(emIdentity);
    expect(emSummary?.state).toBe('master');
    expect(emSummary?.counts.becamePassive).toBe(0);
    expect(emSummary?.counts.foreignAnnounce).toBeGreaterThan(0);
    expect(emSummary?.counts.delayReqReceived).toBeGreaterThan(0);
    // Locked to ptp4l, the engine meets issue 10's live target (true error rms < 5 us), on
    // the timescale ptp4l says that master keeps.
    expect(byGm[gmIdentity]?.systemClockOffset?.wholeSeconds).toBe(timescaleSeconds(gmTime));
    expect(byGm[gmIdentity]?.systemClockOffset?.rmsNs).toBeLessThan(5_000);
    // Locked to the emulator (when it managed to lock: see the report), the same.
    const emError = byGm[emIdentity]?.systemClockOffset;
    if (emError) expect(emError.wholeSeconds).toBe(timescaleSeconds(emTime));
  });
});
