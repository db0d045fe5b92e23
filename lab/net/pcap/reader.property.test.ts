// Properties of the capture reader (lab/net/pcap/reader.ts) on pcap and pcapng files: random
// bytes behind each capture magic, files the lab's pcapng writer makes, and the real
// captures in ../shared/captures (their first 96 KiB, the small ones whole), damaged with
// bit flips, extreme length words, cuts, insertions and deletions. Reading to the end gives
// frames that fit the file with a read window of at most max(1 MiB, file size), or a
// CaptureFormatError at an offset inside the file; nothing else, and never a hang
// (bounded worker).
import { describe, expect, it } from 'vitest';
import { checkBounded } from '../bounded-property.ts';
import { sharedCaptures } from './shared-captures.ts';

const captures = sharedCaptures();
if (captures.length === 0) console.warn('../shared/captures is absent: the damaged-real-capture property is skipped');

describe('capture reader properties', () => {
  it('random bytes after a pcap or pcapng magic: frames that fit, or a CaptureFormatError', async () => {
    const r = await checkBounded('capture random bytes', { numRuns: 1500, seed: 0x50434101 });
    expect(r.runs).toBeGreaterThanOrEqual(1500);
  });

  it('pcapng files from the lab\'s writer, damaged: frames that fit, or a CaptureFormatError', async () => {
    const r = await checkBounded('capture written by the pcapng writer, damaged', { numRuns: 1000, seed: 0x50434102 });
    expect(r.runs).toBeGreaterThanOrEqual(1000);
  });

  it.skipIf(captures.length === 0)('real captures from ../shared/captures, damaged: frames that fit, or a CaptureFormatError', async () => {
    const r = await checkBounded('capture from ../shared/captures, damaged', { numRuns: 600, seed: 0x50434103 });
    expect(r.runs).toBeGreaterThanOrEqual(600);
  });
});
