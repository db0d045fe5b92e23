import { describe, expect, it } from 'vitest';
import { addonBuilt, loadNative } from '../../native/index.ts';
import { runVirtual, virtualHost, type LabTransport, type TimedActor } from '../net/lab-transport.ts';
import { linearTimescale, mediaTimeOf, ptpTimeOfSample } from '../net/ptp-timescale.ts';
import { parseRtp } from '../net/rtp.ts';
import { ImpairmentModel, impairmentHook } from '../impair/impairment.ts';
import { Aes67Sender } from './aes67-sender.ts';
import { DanteAes67Sender } from './dante-aes67-sender.ts';
import { DanteAes67Receiver } from './dante-aes67-receiver.ts';
import { SapListener } from './sap-listener.ts';

const GM = '00-1D-C1-FF-FE-50-36-33';

function world(baseDelayNs = 30_000) {
  const native = loadNative();
  const clock = new native.VirtualClock(0);
  const network = new native.VirtualNetwork(clock, baseDelayNs);
  return { clock, network, tx: virtualHost(network, clock, '10.67.144.1'), rx: virtualHost(network, clock, '10.67.144.2'), tapHost: virtualHost(network, clock, '10.67.144.3'), timescale: linearTimescale() };
}

function danteFlow(w: ReturnType<typeof world>, extra: Partial<ConstructorParameters<typeof DanteAes67Sender>[0]> = {}) {
  return new DanteAes67Sender({ transport: w.tx, timescale: w.timescale, deviceName: 'Stagebox-A', channels: 8, signal: { kind: 'sine', frequencyHz: 997, levelDbfs: -20 }, grandmaster: GM, ...extra });
}

/** Each RTP arrival's margin against the 2 ms window, computed from the timescale alone. */
function tapMargins(t: LabTransport, group: string, timescale: ReturnType<typeof linearTimescale>, mediaclkOffset: number) {
  const s = t.open({ port: 5004, receiveQueueLimit: 1 << 20 });
  s.join(group);
  const margins: number[] = [];
  const actor: TimedActor = {
    poll() {
      for (let d = s.receive(); d; d = s.receive()) {
        const ptp = timescale.ptpTimeAt(d.receivedAt);
        const now = mediaTimeOf(ptp, 48000);
        const ts = BigInt((parseRtp(d.data).timestamp - mediaclkOffset) >>> 0);
        const sample = now - ((now - ts) & 0xffffffffn);
        margins.push(Number(ptpTimeOfSample(sample, 48000) + 2_000_000n - ptp));
      }
      return Infinity;
    },
  };
  return { actor, margins };
}

describe.skipIf(!addonBuilt())('DanteAes67Receiver', () => {
  it('subscribes to a Dante flow found by SAP; the worst margin is 2 ms − packet time − network delay', () => {
    const w = world(30_000);
    const flow = danteFlow(w);
    const listener = new SapListener({ transport: w.rx });
    const rx = new DanteAes67Receiver({ transport: w.rx, timescale: w.timescale, source: listener.sdpSource('Stagebox-A : 1') });
    expect(rx.status().state).toBe('unresolved');
    runVirtual([flow, listener, rx], w.network, w.clock, { untilNs: 1e9 });
    const st = rx.status();
    expect(st.state).toBe('subscribed');
    expect(st.reason).toBe('subscribed');
    expect(st.warnings).toEqual([]); // a Dante flow says a=recvonly
    expect(st.late).toBe(0);
    expect(st.packets).toBeGreaterThan(990);
    // Sent when its last sample exists (1 ms after the first, rounded up to the ns), 30 µs on the wire.
    expect(st.worstMarginNs).toBeGreaterThanOrEqual(2_000_000 - 1_000_000 - 30_000 - 1);
    expect(st.worstMarginNs).toBeLessThanOrEqual(2_000_000 - 1_000_000 - 30_000);
    expect(rx.audio()!.missingFrames).toBe(0);
    // A grandmaster change re-announces the flow (new version): it keeps playing, nothing lost.
    flow.setGrandmaster('00-1D-C1-FF-FE-00-00-07');
    runVirtual([flow, listener, rx], w.network, w.clock, { untilNs: 2e9 });
    expect(rx.stream!.ptpRefclk).toEqual({ gmid: '00-1D-C1-FF-FE-00-00-07', domain: 0 });
    expect(rx.status().packets).toBeGreaterThan(1990);
    expect(rx.audio()!.missingFrames).toBe(0);
    flow.close();
  });

  it('prefix mismatch: the subscription "succeeds" but no audio flows, and says why', () => {
    const w = world();
    const flow = danteFlow(w, { multicastPrefix: '239.100.0.0/16' });
    const listener = new SapListener({ transport: w.rx });
    const rx = new DanteAes67Receiver({ transport: w.rx, timescale: w.timescale, source: listener.sdpSource('Stagebox-A : 1') });
    runVirtual([flow, listener, rx], w.network, w.clock, { untilNs: 2e9 });
    const st = rx.status();
    expect(st.state).toBe('no-audio');
    expect(st.reason).toBe(`subscribed, no audio: multicast prefix (flow on ${flow.destination}, device prefix 239.69.0.0/16)`);
    expect(st.packets).toBe(0);
    // The audio was there: a receiver configured for that prefix plays it.
    const other = new DanteAes67Receiver({ transport: w.rx, timescale: w.timescale, source: flow.sdp(), multicastPrefix: '239.100.0.0/16' });
    runVirtual([flow, listener, other], w.network, w.clock, { untilNs: 2.5e9 });
    expect(other.status().state).toBe('subscribed');
    flow.close();
  });

  it('drops packets later than the 2 ms window and counts them, with the worst margin; all late is "no audio"', () => {
    const w = world(30_000);
    const flow = danteFlow(w, { sendDelayNs: 2_500_000 });
    const rx = new DanteAes67Receiver({ transport: w.rx, timescale: w.timescale, source: flow.sdp() });
    runVirtual([flow, rx], w.network, w.clock, { untilNs: 0.5e9 });
    const st = rx.status();
    expect(st.state).toBe('no-audio');
    expect(st.reason).toMatch(/every packet arrived after the 2.0 ms window \(worst margin -1.53\d ms\)/);
    expect(st.late).toBe(st.packets);
    expect(st.worstMarginNs).toBeLessThanOrEqual(-1_530_000);
    expect(st.worstMarginNs).toBeGreaterThanOrEqual(-1_530_001);
    flow.close();
  });

  it('with jitter, late counts and the worst margin equal what the arrival times say', () => {
    const w = world(30_000);
    w.network.setImpairment(impairmentHook(new ImpairmentModel({ seed: 41, delayNs: 500_000, jitter: { distribution: 'exponential', sdNs: 150_000 }, keepOrder: false })));
    const flow = danteFlow(w);
    const rx = new DanteAes67Receiver({ transport: w.rx, timescale: w.timescale, source: flow.sdp() });
    const ref = tapMargins(w.tapHost, flow.destination, w.timescale, flow.rtp.mediaclkOffset);
    runVirtual([flow, rx, ref.actor], w.network, w.clock, { untilNs: 5e9 });
    const st = rx.status();
    const late = ref.margins.filter((m) => m < 0).length;
    expect(late).toBeGreaterThan(0);
    expect(st.late).toBe(late);
    expect(st.worstMarginNs).toBe(Math.min(...ref.margins));
    expect(st.state).toBe('subscribed');
    expect(st.reason).toMatch(new RegExp(`; ${late} of ${st.packets} packets late \\(dropped, audible\\)`));
    expect(rx.audio()!.missingFrames).toBe(late * 48);
    flow.close();
  });

  it('prohibits what a Dante receiver cannot play, naming the reason; takes 125/250/333 µs and L16', () => {
    const w = world();
    const make = (o: Partial<ConstructorParameters<typeof Aes67Sender>[0]>) =>
      new Aes67Sender({ transport: w.tx, timescale: w.timescale, destination: '239.69.144.9', channels: 2, sampleRate: 48000, encoding: 'L24', framesPerPacket: 48, signal: { kind: 'silence' }, ...o }).sdp();
    const judge = (sdp: string) => new DanteAes67Receiver({ transport: w.rx, timescale: w.timescale, source: sdp }).status();
    expect(judge(make({ sampleRate: 96000, framesPerPacket: 96 })).reason).toBe('prohibited: 96000 Hz (Dante receives AES67 at 48 kHz only)');
    expect(judge(make({ encoding: 'L32' })).reason).toBe('prohibited: L32 (Dante receives L16 or L24)');
    expect(judge(make({ channels: 16 })).reason).toBe('prohibited: 16 channels (Dante receives at most 8 per flow)');
    expect(judge(make({ framesPerPacket: 192 })).reason).toBe('prohibited: packet time 4000 µs (Dante receives 125, 250, 333 µs or 1 ms)');
    expect(judge(make({ destination: '10.67.144.2' })).state).toBe('prohibited');
    for (const frames of [6, 12, 16, 48]) expect(judge(make({ framesPerPacket: frames, encoding: 'L16' })).state).toBe('subscribed');
    expect(judge(make({})).warnings).toEqual(['a=sendonly where Dante devices announce a=recvonly (effect on Dante unverified)']);
    const zeroOrigin = make({ sessionId: 0, sessionVersion: 0 });
    expect(zeroOrigin).toMatch(/^o=- 0 0 /m);
    expect(judge(zeroOrigin).state).toBe('prohibited');
    const sessionFilter = make({}).replace('t=0 0\r\n', 't=0 0\r\na=source-filter: incl IN IP4 239.69.144.9 10.67.144.1\r\n');
    expect(judge(sessionFilter)).toMatchObject({ state: 'unresolved', reason: expect.stringMatching(/session-level a=source-filter/) });
    expect(judge('v=0\r\n').state).toBe('prohibited');
  });

  it('shows "no audio" once a subscribed flow stops', () => {
    const w = world();
    const flow = danteFlow(w);
    const rx = new DanteAes67Receiver({ transport: w.rx, timescale: w.timescale, source: flow.sdp() });
    runVirtual([flow, rx], w.network, w.clock, { untilNs: 0.5e9 });
    expect(rx.status().state).toBe('subscribed');
    flow.close();
    runVirtual([rx, { poll: (now) => (now < 2e9 ? now + 0.1e9 : Infinity) }], w.network, w.clock, { untilNs: 2e9 });
    expect(rx.status()).toMatchObject({ state: 'no-audio', reason: expect.stringMatching(/no packets for 1\.\d+ s/) });
  });
});
