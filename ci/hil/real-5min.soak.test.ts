// Issue 9's real-time soak: five minutes of four AES67 streams and the lab's grandmaster
// through the software DUT over veth, by the HIL runner (scenarios/soak/real-5min.yaml):
// zero glitches, every sample back bit-exact, nothing lost or late, the round trip never
// moving, and the DUT process's resident memory flat (VmRSS from /proc at the start and
// the end of the measurement, every 10 s in between, growth at most the rig's 4 MiB).
// Bounded: the runner is killed after 9 minutes. It prints the figures it judged.
//
// Measured on the shared 2-core host while other helpers' builds and tests ran (load
// average 10-26, CPU pressure ~97 %), 2026-11-25, four runs: it did NOT pass. What broke was
// the lab's own Node process, not the DUT: the lab's poll loop stalled 874 times for
// > 20 ms (50.6 s of 300 s in all; the longest stall per run 0.7 s to 31.6 s), so its senders' packets reached
// the DUT later than its 100 ms link offset (rtp.device.late 55k-132k of ~1.2M; glitches and
// mismatches follow), and the runner said so (lab.pacing: error). The lab itself used ~36 %
// of one core. What held in every run: the DUT's RSS flat (9040 -> 9064 KiB, +16..+60 KiB,
// all of it in the first 20 s), nothing lost on the wire (rtp.device.lost 0, rtp.lab.lost 0),
// PTP lock in 5.4-6.0 s, the round trip the same in every window where the probe came back
// (latency.spread 0). On a quiet host an 8 s run of the same setup passes bit-exact with
// the lab's worst stall 41-46 ms (ci/hil/hil.live.test.ts). The check is not weakened:
// rerun on a host the lab has to itself.
// With the runner at SCHED_FIFO 20 (2026-11-25, load 6-8, one run): still not a pass, but
// the lab's stalls went from 874 (50.6 s) to 96 (2.5 s in all, the worst 101.3 ms, just over
// the 100 ms link offset): rtp.device.late 12, glitches 9, audio.mismatched 3056 samples,
// rtp.lab.lost 5; DUT RSS 9120 -> 9120 KiB, rtp.device.lost 0, PTP lock 5.4 s, latency
// spread 0. With only the DUT's two threads above it, a SCHED_FIFO thread that stalls
// 20-100 ms is most likely held by its own work in one piece (GC, handing a window to the
// analysis worker, the capture) - not measured yet: the next step is to find which, not a
// longer link offset.
// Measured, 2026-11-25 (the runner now attributes every stall: lab.stalls.*, lab.worstStallCause,
// lab.gc; lab/hil/loop-stalls.ts), 60 s runs of this setup on the same host at load 5-20:
//  - the lab's own stalls: decoding each window's 4 streams on the main thread (~20-25 ms
//    every 5 s: lab.stalls.workMs window-decode) -> the worker decodes them now (window-pool.ts);
//    with it gone the big major-GC churn went too (mark-compact 22 per minute -> 0);
//  - NOT fixed: a packet lost by the lab's own receivers at some windows' openings (rtp.lab.lost
//    2 with a glitch at 5.000363 s and 20.000363 s, the DUT clean). One socket per returned
//    stream for the whole span was tried and withdrawn: in the 5-minute run 56 of 60 windows
//    then came back empty after ~20 s (60 s runs were whole), cause not found;
//  - the runner started under chrt -f 20 livelocked in its TypeScript start-up (main thread and
//    tsx's loader thread ~98 % each at FIFO 20, esbuild starved: no output for 9 minutes, killed
//    at 540 s; 3 of 3 runs of the old code that day) -> it raises itself once loaded
//    (--fifo, lab/net/real-time-priority.ts), the analysis worker left at normal priority;
//  - what remains: 'host' stalls (the main thread runnable but waiting for a core held by
//    other SCHED_FIFO work on the shared host), and one ~20-75 ms 'off-cpu' stall when the
//    rig's 10 s capture ends (its pcapng file closed synchronously, lab/net/pcap/).
// Before -> after, 60 s runs at load 5-20: stalls 33-41 (1.0-1.5 s, worst 63-113 ms; device
// late 45-61 when one passed 100 ms) -> 1 (23-43 ms, the capture's end), lab.pacing 63-112 ms
// -> 22-43 ms, two bit-exact passes; a later 60 s run at load ~4.5 had 34 stalls again
// (lab.pacing 224 ms, 'host'), and a 5-minute run at load 2.8-4.4 had 25 (worst 375 ms, all
// but one 'host': the main thread runnable, waiting for a core): the host's share is not gone.
// This code, 5 minutes at load 1.7-3.3 (18:24 UTC): still not a pass, on the lab's receivers:
// rtp.lab.lost 6 (-> glitches 10, audio.mismatched 8128), rtp.device.late 1; the lab's stalls 5
// (0.18 s, worst 94 ms: 90 ms of it waiting on a run queue), lab.pacing 94 ms, GC longest
// 7.1 ms, all 60 windows analysed (300.5 s), DUT RSS 9000 -> 9000 KiB, rtp.device.lost 0.
// 2026-11-25 evening, four 5-minute runs: the lab's losses explained and gone.
//  - 974e4f3 at load 0.9-2.8: PASS (the first): 0 glitches, bit-exact, lab.pacing 28 ms.
//  - with the new figures (rtp.lab.losses, rtp.lab.socketOverflows: SO_MEMINFO; the DUT's
//    tx.*.sendErrors) at load 3-5: FAIL, rtp.lab.lost 4, each one datagram lost by the window
//    BEFORE at the very moment the next window's sockets joined the group (glitches at 10.001,
//    55.001, 115.000, 240.001 s), no socket overflow, no DUT send error. -> every window is now
//    fed from one socket per returned stream for the whole span (RtpSubscription fed mode).
//    A Python reproduction on a plain veth pair (2,384 socket joins, same options) lost nothing:
//    the kernel path that drops it is not found.
//  - fed windows, load 3-5: rtp.lab.lost 0, but two back-to-back stalls of the lab's senders
//    (83.6 + 40.6 ms, 'work:senders' on a CPU, cause not found) made 68 packets late at the DUT
//    while lab.pacing read 83 ms (< the 100 ms link offset) from the poll's start -> senders
//    measure lateness when each packet leaves, and lab.pacing includes it (the run would have
//    been the lab's error, not the DUT's fail).
//  - all of it, load 2.4-5.3: PASS: 0 glitches, 126.6 M samples bit-exact over 300.5 s x 4
//    streams, nothing lost or late at the DUT or the lab, lab.pacing 25 ms (3 stalls, worst
//    24.7 ms), PTP lock 6.5 s, DUT RSS 8952 -> 8952 KiB, rig capture by dumpcap, 0 dropped.
//  - the same code on main (load 2.8-3.8): FAIL, and the DUT's: its four transmit streams'
//    sends failed 95,085 times each (~95 s: 18 of 60 windows came back empty), nothing lost
//    within a window, so only the new hole-between-windows rule counted it (glitches 4; the
//    old judging would have passed it). Why the kernel refused is now kept (tx.*.lastSendError,
//    the errno); the next such run said ENETUNREACH (274 s, 54 windows empty): another test
//    (a helper's npm test: hil.live.test.ts, prefix 'a67h') had deleted this soak's namespaces
//    ('a67hs...') as its own stale leftovers. ci/netns.ts now removes exact names only.
//  - the final code on main, load ~4: PASS (60/60 windows, lab.pacing 28.8 ms, no send error).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canUseNetns } from '../netns.ts';
import { missingForDut } from '../../lab/dut/test-support.ts';
import { createTestRig, runHil, RUNNER_FIFO, type TestRig } from '../../lab/hil/test-rig.ts';
import type { Report } from '../../lab/report/schema.ts';

const usable = canUseNetns();
const missing = usable.ok ? missingForDut([]) : usable.reason;
const PREFIX = process.env.A67X_NETNS_PREFIX ?? 'a67hs';
const SUBNET = Number(process.env.A67X_SUBNET ?? 162);
/** As in hil.live.test.ts: 100 ms covers the lab's Node event loop on a busy 2-core host (lab.pacing judges it). */
const LINK_OFFSET_FRAMES = 4800;

describe.skipIf(missing !== undefined)(`real-time soak through the software DUT (${missing ?? 'root, aes67-dut built'})`, () => {
  let rig: TestRig | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'a67hs-'));
  afterAll(async () => {
    await rig?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('5 minutes, 4 streams and the grandmaster: no glitch, bit-exact, nothing late, DUT memory flat', async () => {
    rig = createTestRig(PREFIX, SUBNET, dir);
    await rig.startDut({ linkOffsetFrames: LINK_OFFSET_FRAMES });
    const out = path.join(dir, 'soak');
    // The lab's runner at SCHED_FIFO 20 when permitted (below the DUT's threads, 50 and 60):
    // at normal priority on a loaded host it stalled for up to 31.6 s (see above).
    const r = await runHil(['--rig', rig.writeRig('soak'), 'scenarios/soak/real-5min.yaml', '-o', out], 540_000, RUNNER_FIFO);
    expect(existsSync(path.join(out, 'report.json')), `${r.stdout}\n${r.stderr}`).toBe(true);
    const s = (JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as Report).scenarios[0];
    const f = s.figures;
    console.log(
      `soak: exit ${r.code}, ${s.verdict}, wall ${s.wallTimeS?.toFixed(1)} s; ` +
        s.expectations.map((e) => `${e.name}=${String(e.value)}${e.unit && e.unit !== 'count' ? ` ${e.unit}` : ''} ${e.verdict}`).join(', ') +
        `; RSS start ${String(f['dut.rssStartKiB'])} KiB, end ${String(f['dut.rssEndKiB'])} KiB, max ${String(f['dut.rssMaxKiB'])} KiB; samples ${String(f['dut.rssSamples'])}; ` +
        `windows ${String(f['latency.windows'])} with a round trip, empty ${String(f['windows.empty'] ?? 0)}${f['analysis.failures'] ? `, failures ${String(f['analysis.failures'])}` : ''}; ` +
        `glitch-analysed ${String(f['glitches.analysedSeconds'])} s x ${String(f['glitches.analysedChannels'])} channels, compared ${String(f['audio.comparedSamples'])} samples; ` +
        `lab stalls: ${String(f['lab.stalls'])}; worst ${String(f['lab.worstStallCause'])}; by cause ${String(f['lab.stalls.byCause'])}; GC ${String(f['lab.gc'])}; DUT late per stream: ${Object.entries(f).filter(([k]) => /^rx\..*\.late$/.test(k)).map(([k, v]) => `${k}=${String(v)}`).join(' ')}; ` +
        `where losses were: lab sockets dropped ${String(f['rtp.lab.socketOverflows'])}, ${String(f['rtp.lab.losses'] ?? 'no lab loss')}, DUT ${Object.entries(f).filter(([k]) => /^(tx\..*\.(sendErrors|ringGaps|lastSendError)|rx\..*\.socketOverflows)$/.test(k) && (typeof f[k] === 'string' || Number(f[k]) > 0)).map(([k, v]) => `${k}=${String(v)}`).join(' ') || 'no send error, ring gap or socket overflow'}; capture ${String(f['capture.by'])}, dropped ${String(f['capture.dropped'] ?? 0)}`,
    );
    const failed = s.expectations.filter((e) => e.verdict !== 'pass').map((e) => `${e.verdict} ${e.name} = ${String(e.value)} (${JSON.stringify(e.limit)})${e.message ? `: ${e.message}` : ''}`);
    expect([...(s.error ? [s.error] : []), ...failed]).toEqual([]);
    expect(r.code).toBe(0);
    // The whole five minutes were judged, not a slice: 4 streams' sine channels, windows over 300 s.
    expect(Number(f['glitches.analysedSeconds'])).toBeGreaterThan(295);
    expect(Number(f['glitches.analysedChannels'])).toBe(4);
    expect(s.expectations.find((e) => e.name === 'dut.rssGrowth')?.verdict).toBe('pass');
  }, 600_000);
});
