import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { projectRoot } from '../../native/index.ts';
import { sharedCaptures } from '../net/pcap/shared-captures.ts';
import { tsharkFields } from '../net/tshark.ts';
import { withTempDir } from '../net/test-support.ts';
import { analyzeCapture } from '../analyze/analyze-capture.ts';
import { CaptureFormatError } from '../net/pcap/reader.ts';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(projectRoot, 'lab/cli/bin.ts'), ...args], { encoding: 'utf8', cwd: projectRoot, timeout: 60_000 });
}

const captures = sharedCaptures();
const ptpCaptures = captures.filter((c) => c.includes('/ptp/'));

describe('aes67-lab analyze', () => {
  it.skipIf(captures.length === 0)('prints the JSON document the issue specifies', () => {
    const file = captures.find((c) => c.endsWith('l16_48000_2ch_1ms.pcap'))!;
    const r = cli('analyze', file, '--json', '--profile', 'aes67-strict');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.schemaVersion).toBe(1);
    const s = doc.streams[0];
    for (const k of ['destination', 'ssrc', 'payloadType', 'packets', 'lost', 'duplicates', 'reordered', 'encoding', 'channels', 'sampleRate', 'ptimeUs', 'pitUs', 'tsdfUs', 'jitterUs', 'dscp', 'checks']) expect(s).toHaveProperty(k);
    expect(Object.keys(s.pitUs).sort()).toEqual(['avg', 'max', 'min']);
    expect(s.tsdfUs).toHaveProperty('max');
    expect(s.destination).toMatch(/^\d+\.\d+\.\d+\.\d+:\d+$/);
    for (const c of s.checks) expect(Object.keys(c).sort()).toEqual(['limit', 'name', 'value', 'verdict']);
    expect(s.checks.map((c: { name: string }) => c.name)).toContain('sample-rate');
    expect(Object.keys(doc.ptp.messages).sort()).toEqual(['announce', 'delayReq', 'delayResp', 'followUp', 'other', 'sync']);
    for (const k of ['grandmasters', 'domains', 'twoStep']) expect(doc.ptp).toHaveProperty(k);
    expect(Array.isArray(doc.sap)).toBe(true);
  });

  it.each(ptpCaptures)('%s: PTP message counts, grandmasters, domains and two-step equal tshark', (file) => {
    const doc = analyzeCapture(file);
    const rows = tsharkFields(file, ['ptp.v2.messagetype', 'ptp.v2.an.grandmasterclockidentity', 'ptp.v2.domainnumber', 'ptp.v2.flags.twostep', 'ptp.versionptp']).filter((r) => r.some((v) => v !== ''));
    const v2 = rows.filter((r) => r[0] !== '');
    const count = (t: number) => v2.filter((r) => Number(r[0]) === t).length;
    expect(doc.ptp.messages).toEqual({ sync: count(0), followUp: count(8), delayReq: count(1), delayResp: count(9), announce: count(0xb), other: v2.length - [0, 8, 1, 9, 0xb].reduce((n, t) => n + count(t), 0) });
    expect(doc.ptp.grandmasters).toEqual([...new Set(v2.map((r) => r[1]).filter((g) => g !== ''))]);
    expect(doc.ptp.domains).toEqual([...new Set(v2.map((r) => Number(r[2])))].sort((a, b) => a - b));
    const syncs = v2.filter((r) => Number(r[0]) === 0);
    expect(doc.ptp.twoStep).toBe(syncs.length === 0 ? null : syncs.some((r) => r[3] === '1' || r[3] === 'True'));
    // Two-step Syncs whose Follow_Up (same source and sequence id) never came, by tshark's fields.
    const ids = tsharkFields(file, ['ptp.v2.messagetype', 'ptp.v2.clockidentity', 'ptp.v2.sourceportid', 'ptp.v2.sequenceid', 'ptp.v2.flags.twostep']).filter((r) => r[0] !== '');
    const followUps = new Set(ids.filter((r) => Number(r[0]) === 8).map((r) => `${r[1]}/${r[2]}#${r[3]}`));
    const orphans = ids.filter((r) => Number(r[0]) === 0 && (r[4] === '1' || r[4] === 'True') && !followUps.has(`${r[1]}/${r[2]}#${r[3]}`));
    expect(doc.ptp.syncWithoutFollowUp).toBe(orphans.length);
    // PTPv1 (IEEE 1588-2002) is recognised and set aside, not misread as v2.
    expect(doc.ptp.notV2).toBe(rows.filter((r) => r[4] === '1').length);
  });

  it('gives a clear error with the byte offset for empty, foreign and truncated files, never a crash', () => {
    withTempDir((dir) => {
      const empty = path.join(dir, 'empty.pcap');
      writeFileSync(empty, '');
      let r = cli('analyze', empty);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/empty file.*byte offset 0/);
      const text = path.join(dir, 'notes.pcap');
      writeFileSync(text, 'these are not packets\n');
      r = cli('analyze', text, '--json');
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/unknown magic.*byte offset 0/);
      r = cli('analyze', path.join(dir, 'missing.pcap'));
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/no such file/i);
      const source = captures.find((c) => c.endsWith('st2110-30_24bit_48khz_1ms_2ch.pcap'));
      if (source) {
        const cut = path.join(dir, 'cut.pcap');
        const bytes = readFileSync(source);
        writeFileSync(cut, bytes.subarray(0, bytes.length - 50));
        r = cli('analyze', cut, '--json');
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/truncated packet.*byte offset \d+/);
        const doc = JSON.parse(r.stdout);
        expect(doc.captureError.offset).toBeGreaterThan(0);
        expect(doc.streams[0].packets).toBe(127); // every whole packet before the cut
      }
      r = cli('analyze', empty, '--profile', 'nonsense');
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/--profile nonsense: use one of/);
    });
  });

  it('analyzes random and mutated bytes without anything but a CaptureFormatError', () => {
    const base = captures.find((c) => c.endsWith('PTP_clock.pcap'));
    const seed = base ? readFileSync(base) : Buffer.from([0xd4, 0xc3, 0xb2, 0xa1]);
    withTempDir((dir) => {
      const file = path.join(dir, 'fuzz.pcap');
      fc.assert(
        fc.property(fc.nat(seed.length - 1), fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.nat(seed.length), (at, patch, cut) => {
          const b = Uint8Array.from(seed.subarray(0, Math.max(cut, 1)));
          b.set(patch.subarray(0, Math.max(0, b.length - at)), Math.min(at, b.length));
          writeFileSync(file, b);
          try {
            analyzeCapture(file);
          } catch (e) {
            expect(e).toBeInstanceOf(CaptureFormatError);
          }
        }),
        { numRuns: 300 },
      );
    });
  });
});
