// PTP, DNS / mDNS, RTSP and captured-frame parsing (lab/net/stream-parser-properties.ts):
// only each parser's documented outcome, whatever the bytes, and never a hang (each
// property runs in a bounded worker: a run over its time limit fails naming its input;
// the generous test timeouts are for loading the worker on a loaded 2-core machine).
import { describe, expect, it } from 'vitest';
import { checkBounded } from './bounded-property.ts';
import { sharedCaptures } from './pcap/shared-captures.ts';

const module = new URL('./stream-parser-properties.ts', import.meta.url);
const captures = sharedCaptures();
if (captures.length === 0) console.warn('../shared/captures is absent: the damaged-real-PTP property is skipped');

describe('network parser properties: PTP, DNS, RTSP, captured frames', () => {
  it('parsePtp: random and header-shaped bytes give a result, never an exception', async () => {
    expect((await checkBounded('ptp random and header-shaped bytes', { numRuns: 3000, seed: 0x50545001, module })).runs).toBeGreaterThanOrEqual(3000);
  }, 180_000);
  it.skipIf(captures.length === 0)('parsePtp: real PTP datagrams from ../shared/captures parse, and damaged give a result', async () => {
    expect((await checkBounded('ptp datagrams from ../shared/captures, damaged', { numRuns: 1500, seed: 0x50545002, module })).runs).toBeGreaterThanOrEqual(1500);
  }, 180_000);
  it('decodeDns: a message or a DnsParseError, nothing else', async () => {
    expect((await checkBounded('dns random bytes and damaged RAVENNA answers', { numRuns: 2000, seed: 0x444e5301, module })).runs).toBeGreaterThanOrEqual(2000);
  }, 180_000);
  it('RtspParser: messages or an RtspParseError, and it never holds more than its limits', async () => {
    expect((await checkBounded('rtsp byte streams', { numRuns: 1000, seed: 0x52545301, module })).runs).toBeGreaterThanOrEqual(1000);
  }, 180_000);
  it('UdpDecoder: never throws, payloads inside their frames, fragments bounded', async () => {
    expect((await checkBounded('captured frames into UdpDecoder', { numRuns: 500, seed: 0x55445001, module })).runs).toBeGreaterThanOrEqual(500);
  }, 180_000);
});
