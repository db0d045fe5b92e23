// The ledger from RTP datagrams built by the lab's own serializer (lab/net/rtp.ts): drops and
// delays kept, untouched ones not; holes in the media (a reboot's pause, a jump forward),
// silences (a clock stepped back), SSRC changes and 16/32-bit wraps seen in send order.
import { describe, expect, it } from 'vitest';
import { serializeRtp } from '../net/rtp.ts';
import { LossLedger } from './loss-ledger.ts';

const rtp = (seq: number, ts: number, ssrc = 0x1234) => serializeRtp({ padding: false, marker: false, payloadType: 97, sequenceNumber: seq & 0xffff, timestamp: ts >>> 0, ssrc, csrcs: [], payload: new Uint8Array(288) });
const ep = '239.69.1.1:5004';

describe('LossLedger', () => {
  it('keeps what the impairment dropped, delayed or duplicated, and not what it passed', () => {
    const l = new LossLedger();
    l.record(ep, 'in', rtp(1, 0), 0, [0]);
    l.record(ep, 'in', rtp(2, 48), 1e6, []);
    l.record(ep, 'in', rtp(3, 96), 2e6, [5e5]);
    l.record(ep, 'out', rtp(4, 144), 3e6, [0, 0]);
    expect(l.packets.map((p) => [p.sequence, p.direction, p.copies])).toEqual([
      [2, 'in', []],
      [3, 'in', [5e5]],
      [4, 'out', [0, 0]],
    ]);
    expect(l.unsent).toEqual([]);
    expect(l.silences).toEqual([]);
  });

  it('sees sequence and timestamp wraps, SSRC changes and media the wire never carried', () => {
    const l = new LossLedger();
    let t = 0;
    let ts = 0xffffffff - 100;
    for (let s = 65530; s < 65540; s++, ts += 48, t += 1e6) l.record(ep, 'in', rtp(s, ts), t, [0]);
    // A reboot: 300 ms silent, a new SSRC and sequence, the media clock running on.
    ts += 48 * 299;
    t += 299e6;
    l.record(ep, 'in', rtp(7, ts, 0x5eb0), t, [0]);
    l.record(ep, 'in', rtp(8, ts + 48, 0x5eb0), t + 1e6, [0]);
    expect(l.streamFacts(ep)).toMatchObject({ ssrcs: 2, sequenceWraps: 1, timestampWraps: 1, framesPerPacket: 48 });
    expect(l.unsent).toEqual([{ endpoint: ep, fromTimestamp: (0xffffffff - 100 + 10 * 48) >>> 0, frames: 48 * 299, resumedAt: 10e6 + 299e6, newSsrc: true }]);
    expect(l.silences).toEqual([]);
  });

  it('a wire silent while the media carries on (a clock stepped back) is a silence, not a hole', () => {
    const l = new LossLedger();
    for (let k = 0; k < 5; k++) l.record(ep, 'in', rtp(k, k * 48), k * 1e6, [0]);
    l.record(ep, 'in', rtp(5, 5 * 48), 4e6 + 1e9, [0]);
    expect(l.unsent).toEqual([]);
    expect(l.silences).toEqual([{ endpoint: ep, fromTimestamp: 5 * 48, lastSentAt: 4e6, resumedAt: 4e6 + 1e9, intervalNs: 1e6 }]);
  });
});
