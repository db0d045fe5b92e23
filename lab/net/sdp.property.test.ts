// Properties of the lab's SDP reader (describeAes67 in lab/net/sdp.ts) on any text: random
// text, random SDP-like lines, valid SDPs (built and field shapes) with lines deleted,
// doubled, swapped, replaced and cut, and lines of up to 100,000 characters. It returns a
// description whose numbers are in range, or throws an SdpError with a documented reason
// and a line of the text; never anything else, never a hang (bounded worker).
import { describe, expect, it } from 'vitest';
import { checkBounded } from './bounded-property.ts';
import { describeAes67, SdpError } from './sdp.ts';

describe('SDP reader properties', () => {
  it('any text: a description in range, or an SdpError naming a line and a documented reason', async () => {
    const r = await checkBounded('sdp text', { numRuns: 4000, seed: 0x53445001 });
    expect(r.runs).toBeGreaterThanOrEqual(4000);
  });

  it('a million-character attribute is read in one pass (no pathological regular expression)', () => {
    const sdp = `v=0\r\no=- 1 1 IN IP4 10.67.20.1\r\ns=x\r\nc=IN IP4 239.69.1.1/32\r\nt=0 0\r\nm=audio 5004 RTP/AVP 97\r\ni=2 ${' '.repeat(1_000_000)}x\r\na=rtpmap:97 L24/48000/2\r\na=ptime:${'1'.repeat(1_000_000)}\r\n`;
    expect(() => describeAes67(sdp)).toThrow(SdpError);
  });
});
