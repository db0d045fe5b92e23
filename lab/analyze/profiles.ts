// Verdicts per profile. JT-NM Tested 2022 limits are the ones the issue states (PIT avg
// within 0.99–1.01 ptime, max ≤ 17 ptime; TS-DF narrow < 1 ptime, wide ≤ 17 ptime; Δ min ≥ 0,
// avg ≤ 2.5 ms, max ≤ 20 ptime). jtnm-2020 has no narrow TS-DF tier and no Δ avg limit (the
// lab's reading of the 2020 test plan); aes67-strict adds AES67-2018 format rules, DSCP 34
// (AF41) and zero loss.

export type ProfileName = 'jtnm-2022' | 'jtnm-2020' | 'aes67-strict';
export const PROFILES: ProfileName[] = ['jtnm-2022', 'jtnm-2020', 'aes67-strict'];

export type Verdict = 'pass' | 'warn' | 'fail' | 'n/a';

export interface Check {
  name: string;
  verdict: Verdict;
  value: number | string | boolean | null;
  limit: string;
}

export interface StreamFigures {
  ptimeUs: number | null;
  lost: number;
  duplicates: number;
  reordered: number;
  pitUs: { min: number; avg: number; max: number } | null;
  tsdfUs: number | null;
  deltaUs: { min: number; avg: number; max: number } | null;
  dscpValues: number[];
  multicastMacMatch: boolean | null;
  streamsInGroup: number;
  encoding: string | null;
  sampleRate: number | null;
  formatMismatches: string[];
  ssrcChanges: number;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export function streamChecks(s: StreamFigures, profile: ProfileName): Check[] {
  const checks: Check[] = [];
  const p = s.ptimeUs;
  const add = (name: string, verdict: Verdict, value: Check['value'], limit: string) => checks.push({ name, verdict, value: typeof value === 'number' ? round(value) : value, limit });
  const strict = profile === 'aes67-strict';
  add('loss', s.lost > 0 ? (strict ? 'fail' : 'warn') : 'pass', s.lost, strict ? '0' : '0 (warn above)');
  add('duplicates', s.duplicates > 0 ? 'warn' : 'pass', s.duplicates, '0');
  add('reordered', s.reordered > 0 ? 'warn' : 'pass', s.reordered, '0');
  add('ssrc-changes', s.ssrcChanges > 0 ? 'warn' : 'pass', s.ssrcChanges, '0');
  if (p && s.pitUs) {
    add('pit.avg', s.pitUs.avg >= 0.99 * p && s.pitUs.avg <= 1.01 * p ? 'pass' : 'fail', s.pitUs.avg, `${round(0.99 * p)}..${round(1.01 * p)} µs (0.99–1.01 ptime)`);
    add('pit.max', s.pitUs.max <= 17 * p ? 'pass' : 'fail', s.pitUs.max, `≤ ${17 * p} µs (17 ptime)`);
  } else {
    add('pit.avg', 'n/a', null, 'needs the packet time');
  }
  if (p && s.tsdfUs !== null) {
    if (profile === 'jtnm-2022') add('tsdf', s.tsdfUs < p ? 'pass' : s.tsdfUs <= 17 * p ? 'warn' : 'fail', s.tsdfUs, `narrow < ${p} µs (1 ptime), wide ≤ ${17 * p} µs (17 ptime)`);
    else if (strict) add('tsdf', s.tsdfUs < p ? 'pass' : 'fail', s.tsdfUs, `< ${p} µs (1 ptime)`);
    else add('tsdf', s.tsdfUs <= 17 * p ? 'pass' : 'fail', s.tsdfUs, `≤ ${17 * p} µs (17 ptime)`);
  } else {
    add('tsdf', 'n/a', null, 'needs the sample rate and packet time');
  }
  if (s.deltaUs && Math.abs(s.deltaUs.avg) > 1e6) {
    // A whole second or more apart: the capture clock is not PTP time, or the SDP's mediaclk
    // offset is unknown; the figure says nothing about the sender.
    add('delta', 'n/a', s.deltaUs.avg, 'capture and media clock over 1 s apart (capture not PTP-timestamped, or mediaclk offset unknown)');
  } else if (p && s.deltaUs) {
    add('delta.min', s.deltaUs.min >= 0 ? 'pass' : 'fail', s.deltaUs.min, '≥ 0 µs');
    if (profile !== 'jtnm-2020') add('delta.avg', s.deltaUs.avg <= 2500 ? 'pass' : 'fail', s.deltaUs.avg, '≤ 2500 µs');
    add('delta.max', s.deltaUs.max <= 20 * p ? 'pass' : 'fail', s.deltaUs.max, `≤ ${20 * p} µs (20 ptime)`);
  } else {
    add('delta', 'n/a', null, 'needs the sample rate');
  }
  const dscpOk = s.dscpValues.length === 1 && (!strict || s.dscpValues[0] === 34);
  add('dscp', dscpOk ? 'pass' : strict ? 'fail' : 'warn', s.dscpValues.join(','), strict ? 'one value, 34 (AF41)' : 'one value');
  add('multicast-mac', s.multicastMacMatch === null ? 'n/a' : s.multicastMacMatch ? 'pass' : 'fail', s.multicastMacMatch, '01:00:5e + low 23 bits of the group');
  add('one-stream-per-group', s.streamsInGroup <= 1 ? 'pass' : 'warn', s.streamsInGroup, '1');
  add('format-vs-sdp', s.formatMismatches.length === 0 ? 'pass' : 'fail', s.formatMismatches.join('; ') || 'none', 'packets agree with the SDP');
  if (strict) {
    add('encoding', s.encoding === 'L16' || s.encoding === 'L24' ? 'pass' : 'fail', s.encoding, 'L16 or L24 (AES67-2018 §7.1)');
    add('sample-rate', s.sampleRate === 48000 ? 'pass' : 'fail', s.sampleRate, '48000 Hz (AES67-2018 §7.1)');
    add('ptime', p !== null && [125, 250, 333, 1000, 4000].includes(p) ? 'pass' : 'fail', p, '125, 250, 333, 1000 or 4000 µs (AES67-2018 §7.2)');
  }
  return checks;
}
