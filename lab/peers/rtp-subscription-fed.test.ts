// Subscriptions fed by their caller from one socket (as the HIL runner's overlapping windows
// are): under loss, duplication and reordering, one fed over the whole run counts and
// records exactly what a subscription with its own socket does, and one fed from the
// middle on records the same audio from its first packet (what its window needs).
import { describe, expect, it } from 'vitest';
import { addonBuilt, loadNative } from '../../native/index.ts';
import { runVirtual, virtualHost, type TimedActor } from '../net/lab-transport.ts';
import { linearTimescale } from '../net/ptp-timescale.ts';
import { describeAes67 } from '../net/sdp.ts';
import { ImpairmentModel, impairmentHook } from '../impair/impairment.ts';
import { Aes67Sender } from './aes67-sender.ts';
import { openStreamSocket, RtpSubscription } from './rtp-subscription.ts';

describe.skipIf(!addonBuilt())('RtpSubscription fed by its caller (native addon built)', () => {
  it('counts and records what one with its own socket does, from whenever it starts being fed', () => {
    const native = loadNative();
    const clock = new native.VirtualClock(0);
    const network = new native.VirtualNetwork(clock, 30_000);
    const tx = virtualHost(network, clock, '10.67.144.1');
    const rx = virtualHost(network, clock, '10.67.144.2');
    const timescale = linearTimescale();
    network.setImpairment(impairmentHook(new ImpairmentModel({ seed: 7, loss: 0.02, duplicate: { probability: 0.01 }, reorder: { probability: 0.01, holdNs: 3_500_000 }, delayNs: 1_000_000 })));
    const sender = new Aes67Sender({ transport: tx, timescale, destination: '239.69.144.1', sourceFilter: true, channels: 2, sampleRate: 48000, encoding: 'L24', framesPerPacket: 48, signal: { kind: 'sine', frequencyHz: 997, levelDbfs: -20 }, mediaclkOffset: 1234 });
    const stream = describeAes67(sender.sdp());
    const own = new RtpSubscription({ transport: rx, timescale, stream, recordSeconds: 3 });
    const shared = openStreamSocket(rx, stream);
    const whole = new RtpSubscription({ transport: rx, timescale, stream, recordSeconds: 3, fed: true });
    let later: RtpSubscription | undefined;
    const feeder: TimedActor = {
      poll(now) {
        own.drain();
        if (!later && now >= 1e9) later = new RtpSubscription({ transport: rx, timescale, stream, recordSeconds: 3, fed: true });
        for (let d = shared.receive(); d; d = shared.receive()) for (const s of later ? [whole, later] : [whole]) s.take(d);
        return Infinity;
      },
    };
    runVirtual([sender, feeder], network, clock, { untilNs: 2e9 });
    sender.close();
    runVirtual([feeder], network, clock, { untilNs: 2.1e9 });
    expect(own.metrics.lost).toBeGreaterThan(0);
    expect(own.metrics.duplicates + own.metrics.reordered).toBeGreaterThan(0);
    expect(whole.metrics).toEqual(own.metrics);
    expect(whole.audio()).toEqual(own.audio());
    // The later one: the same samples, from its own first packet on.
    const a = own.audio();
    const b = later!.audio();
    const skip = Number(b.firstSample - a.firstSample);
    expect(skip).toBeGreaterThan(40_000);
    expect(b.interleaved).toEqual(a.interleaved.subarray(skip * 2, skip * 2 + b.interleaved.length));
    expect(b.interleaved.length).toBe(a.interleaved.length - skip * 2);
    shared.close();
    own.close();
  });
});
