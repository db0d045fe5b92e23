// Memory under hostile input (issue 9, Bounds), the engine (C++) and the lab (TypeScript)
// side by side in one run:
// - a SAP flood of 100,000 distinct sessions into each SapListener (maxSessions 1024,
//   maxSdpBytes 8192): the heap when the table first fills, what the configured limit
//   legitimately needs, is the baseline; the flood's peak is shown against it as a ratio
//   (1.0: flat) and against the bound computed from the configuration;
// - zlib payloads (small on the wire) inflating to SDPs at the 8 KiB limit, 3,000 sessions:
//   the most the table can hold; beside it 60 kB SDPs with the cap lifted to the 64 KiB a
//   datagram can carry (the listeners before the cap), as a ratio;
// - RTP into one RtpReceiver: 1,000 unknown sources, 1,000 unknown SSRCs without a source
//   filter, oversize datagrams, garbage: heap growth and peak after warm-up;
// - the whole emulated device (EmulatedDut) while a real stream plays: 1,000 unknown
//   senders on its group, oversize and undersize datagrams, RTP to groups and ports it never
//   joined (driver/host/bounds/emulated_dut_bounds_test.cpp): growth and peak, and why each
//   was dropped.
// C++ figures come from the GoogleTest bounds tests run here (exact: a counting operator new
// in the test binary; they print them as [ bounds-json ] lines); TS figures are the retained
// JS heap after a full garbage collection. Never fails on a figure; only on a broken run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../native/index.ts';
import { floodLabSapListener } from '../lab/peers/sap-listener-flood.ts';
import { recordBench } from './bench-json.ts';

type Figures = Record<string, number | string>;

// Runs a GoogleTest binary's bounds tests and returns their figure lines by name (a name
// printed twice, as sap-flood is for two limits, gives a list).
function engineFigures(binary: string, filter: string, dir = 'engine'): Map<string, Figures[]> {
  const file = path.join(projectRoot, 'build', dir, binary);
  if (!existsSync(file)) throw new Error(`bounds: ${file} is missing; build it with npm run build`);
  const r = spawnSync(file, [`--gtest_filter=${filter}`], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`bounds: ${binary} ${filter} failed (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  const out = new Map<string, Figures[]>();
  for (const line of r.stdout.split('\n')) {
    const m = /^\[ bounds-json \] (.*)$/.exec(line);
    if (!m) continue;
    const f = JSON.parse(m[1]) as Figures;
    out.set(String(f.name), [...(out.get(String(f.name)) ?? []), f]);
  }
  return out;
}

function one(figures: Map<string, Figures[]>, name: string, match: (f: Figures) => boolean = () => true): Record<string, number> {
  const f = (figures.get(name) ?? []).find(match);
  if (!f) throw new Error(`bounds: the engine tests printed no "${name}" figures`);
  return f as Record<string, number>;
}

const SESSIONS = 100_000;
const MAX_SESSIONS = 1024;
const MAX_SDP = 8192;
const ZLIB_SESSIONS = 3000;
// What one kept JS session may retain (as lab/peers/sap-listener.bounds.test.ts reckons it):
// the SDP text at two bytes a character, the description derived from it, the objects.
const tsBound = (maxSessions: number, maxSdp: number) => maxSessions * (4 * maxSdp + 4096);

const sap = engineFigures('engine_sap_test', 'SapListenerBounds.*');
const rtp = engineFigures('engine_rtp_test', 'RtpReceiverBounds.*');
const dut = engineFigures('driver_host_bounds_test', 'EmulatedDutBounds.*', path.join('driver', 'host'));
const cpp = one(sap, 'sap-flood', (f) => f.maxSessions === MAX_SESSIONS);
const cppZ = one(sap, 'sap-zlib');
const ts = floodLabSapListener({ sessions: SESSIONS, maxSessions: MAX_SESSIONS });
const tsZ = floodLabSapListener({ sessions: ZLIB_SESSIONS, maxSessions: MAX_SESSIONS, padTo: MAX_SDP - 100, compressed: true });
const tsTooLarge = floodLabSapListener({ sessions: ZLIB_SESSIONS, maxSessions: MAX_SESSIONS, padTo: 60_000, compressed: true });
const tsUncapped = floodLabSapListener({ sessions: ZLIB_SESSIONS, maxSessions: MAX_SESSIONS, padTo: 60_000, compressed: true, maxSdpBytes: 65536 });
if (ts.kept !== MAX_SESSIONS || ts.evicted !== SESSIONS - MAX_SESSIONS) throw new Error(`bounds: lab flood kept ${ts.kept}, evicted ${ts.evicted}`);
if (tsTooLarge.dropped['sdp-too-large'] !== ZLIB_SESSIONS) throw new Error(`bounds: lab dropped ${JSON.stringify(tsTooLarge.dropped)}`);

const kb = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a');
const row = (label: string, c: string, t: string) => console.log(`  ${label.padEnd(56)} ${c.padStart(14)} ${t.padStart(14)}`);

console.log(`SAP flood: ${SESSIONS.toLocaleString('en')} distinct sessions, maxSessions ${MAX_SESSIONS}, maxSdpBytes ${MAX_SDP}`);
row('', 'engine (C++)', 'lab (TS)');
row('idle listener', kb(cpp.idleBytes), kb(ts.idleBytes));
row(`table full (${MAX_SESSIONS} sessions): the baseline`, kb(cpp.fullBytes), kb(ts.fullBytes));
row('flood peak', kb(cpp.peakBytes), kb(ts.peakBytes));
row('flood end', kb(cpp.endBytes), kb(ts.endBytes));
row('peak / full table', ratio(cpp.peakBytes, cpp.fullBytes), ratio(ts.peakBytes, ts.fullBytes));
row('bound from the configuration', kb(cpp.boundBytes), kb(tsBound(MAX_SESSIONS, MAX_SDP)));
row('peak / bound', ratio(cpp.peakBytes, cpp.boundBytes), ratio(ts.peakBytes, tsBound(MAX_SESSIONS, MAX_SDP)));
row('evicted, counted', String(cpp.evicted), String(ts.evicted));

console.log(`SAP zlib payloads: ${ZLIB_SESSIONS.toLocaleString('en')} sessions, small on the wire`);
row('', 'engine (C++)', 'lab (TS)');
row(`peak, SDPs at the ${MAX_SDP} B limit`, kb(cppZ.atLimitPeakBytes), kb(tsZ.peakBytes));
row('peak / bound', ratio(cppZ.atLimitPeakBytes, cppZ.boundBytes), ratio(tsZ.peakBytes, tsBound(MAX_SESSIONS, MAX_SDP)));
row('peak, 60 kB SDPs: dropped as sdp-too-large', kb(cppZ.tooLargePeakBytes), kb(tsTooLarge.peakBytes));
row('peak, 60 kB SDPs, cap lifted (before the cap)', kb(cppZ.uncappedPeakBytes), kb(tsUncapped.peakBytes));
row('cap lifted / at the limit', ratio(cppZ.uncappedPeakBytes, cppZ.atLimitPeakBytes), ratio(tsUncapped.peakBytes, tsZ.peakBytes));

console.log('RTP into one RtpReceiver (engine), after a warm-up');
const rtpRows = [
  ['1,000 unknown sources, source filter', one(rtp, 'rtp-unknown-sources-filtered')],
  ['1,000 unknown SSRCs, no filter', one(rtp, 'rtp-unknown-ssrcs-unfiltered')],
  ['oversize datagrams up to 65,507 B', one(rtp, 'rtp-oversize')],
  ['200,000 garbage datagrams', one(rtp, 'rtp-garbage')],
] as const;
row('', 'heap growth', 'heap peak');
for (const [label, f] of rtpRows) row(`${label} (${f.datagrams} datagrams)`, `${f.heapGrowthBytes} B`, `${f.heapPeakBytes} B`);

console.log('The emulated device (EmulatedDut) while a real stream plays, 1 s of flood after a warm-up');
const dutRows = [
  ['SDP source filter (source-specific join)', one(dut, 'dut-flood-filtered')],
  ['no source filter', one(dut, 'dut-flood-unfiltered')],
] as const;
row('', 'heap growth', 'heap peak');
for (const [label, f] of dutRows) {
  row(`${label} (${f.datagrams} datagrams)`, `${f.heapGrowthBytes} B`, `${f.heapPeakBytes} B`);
  console.log(`    of ${f.strangers} from 1,000 strangers: other-ssrc ${f.otherSsrc}, probation ${f.probation}, wrong-source ${f.wrongSource} (the rest never reached the socket); ` +
    `oversize ${f.droppedOversize} of ${f.oversize}; undersize ${f.undersize}: truncated ${f.truncated}, bad payload size ${f.badPayloadSize}; ${f.elsewhere} to groups/ports not joined`);
}

recordBench('bounds', {
  note: 'C++: exact, from the GoogleTest bounds tests (counting operator new). TS: retained JS heap after a full GC. SAP baseline: the full table.',
  sapFlood: { sessions: SESSIONS, maxSessions: MAX_SESSIONS, maxSdpBytes: MAX_SDP, engine: cpp, lab: { ...ts, boundBytes: tsBound(MAX_SESSIONS, MAX_SDP) }, enginePeakOverFull: cpp.peakBytes / cpp.fullBytes, labPeakOverFull: ts.peakBytes / ts.fullBytes },
  sapZlib: { sessions: ZLIB_SESSIONS, engine: cppZ, lab: { atLimit: tsZ, tooLarge: tsTooLarge, uncapped: tsUncapped }, engineUncappedOverAtLimit: cppZ.uncappedPeakBytes / cppZ.atLimitPeakBytes, labUncappedOverAtLimit: tsUncapped.peakBytes / tsZ.peakBytes },
  rtp: Object.fromEntries(rtpRows.map(([label, f]) => [label, f])),
  device: Object.fromEntries(dutRows.map(([label, f]) => [label, f])),
});
