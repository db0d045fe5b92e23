import { describe, expect, it } from 'vitest';
import path from 'node:path';
import * as sdpTransform from 'sdp-transform';
import { addonBuilt, loadNative } from '../../native/index.ts';
import { runVirtual, virtualHost } from '../net/lab-transport.ts';
import { linearTimescale } from '../net/ptp-timescale.ts';
import { MdnsBrowser } from '../net/mdns-browser.ts';
import { RavennaSessionClient } from '../net/rtsp-client.ts';
import { VirtualStreamHub } from '../net/rtsp-stream.ts';
import { describeAes67 } from '../net/sdp.ts';
import { withTempDir } from '../net/test-support.ts';
import { tsharkFields } from '../net/tshark.ts';
import { Aes67Receiver } from './aes67-receiver.ts';
import { RavennaSender } from './ravenna-sender.ts';
import { tsharkSeriousExpert } from './test-support.ts';
import { VirtualCapture } from './virtual-capture.ts';

const GM = '00-1D-C1-FF-FE-50-36-33';
const SESSION = 'Studio 3 stage, 125us';

function world() {
  const native = loadNative();
  const clock = new native.VirtualClock(0);
  const network = new native.VirtualNetwork(clock, 40_000);
  const hub = new VirtualStreamHub(() => clock.now(), 60_000);
  return { clock, network, hub, tx: virtualHost(network, clock, '10.67.148.1'), rx: virtualHost(network, clock, '10.67.148.2'), timescale: linearTimescale() };
}

function ravenna(w: ReturnType<typeof world>) {
  return new RavennaSender({
    transport: w.tx,
    timescale: w.timescale,
    streams: w.hub.host('10.67.148.1'),
    sessionName: SESSION,
    deviceName: 'Horus-1',
    destination: '239.1.148.1',
    channels: 8,
    sampleRate: 48000,
    encoding: 'L24',
    framesPerPacket: 6,
    grandmaster: GM,
    signal: { kind: 'sine', frequencyHz: 997, levelDbfs: -20, channelStepHz: 100 },
  });
}

describe.skipIf(!addonBuilt())('RavennaSender in virtual time', () => {
  it('is discovered by DNS-SD, described over RTSP, subscribed; an ANNOUNCE with a changed SDP is followed', () => {
    const w = world();
    withTempDir((dir) => {
      const file = path.join(dir, 'ravenna.pcapng');
      const cap = new VirtualCapture(w.network, file);
      const sender = ravenna(w);
      const browser = new MdnsBrowser({ transport: w.rx });
      const session = new RavennaSessionClient({ browser, streams: w.hub.host('10.67.148.2'), sessionName: SESSION });
      const receiver = new Aes67Receiver({ transport: w.rx, timescale: w.timescale, source: session });
      const actors = [sender, browser, session, receiver];
      runVirtual(actors, w.network, w.clock, { untilNs: 3e9 });

      expect(browser.find(SESSION)).toMatchObject({ address: '10.67.148.1', port: 554 });
      expect(session.url).toBe('rtsp://10.67.148.1:554/by-name/Studio%203%20stage%2C%20125us');
      expect(receiver.sdp).toBe(sender.sdp());
      // RAVENNA's SDP additions (FIELD-NOTES "RAVENNA"), read back by the lab's SDP reader and sdp-transform.
      const text = receiver.sdp!;
      expect(text).toContain('a=clock-domain:PTPv2 0');
      expect(text).toContain('a=sync-time:0');
      expect(text).toContain('a=framecount:6');
      expect(text).toContain(`a=ts-refclk:ptp=IEEE1588-2008:${GM.toLowerCase()}:0`);
      expect(text).toContain('a=source-filter: incl IN IP4 239.1.148.1 10.67.148.1');
      const d = describeAes67(text);
      expect([d.encoding, d.sampleRate, d.channels, d.framesPerPacket, d.ptimeUs, d.clockDomain, d.sourceFilter, d.payloadType]).toEqual(['L24', 48000, 8, 6, 125, 0, '10.67.148.1', 98]);
      expect(sdpTransform.parse(text).media[0].sourceFilter).toMatchObject({ filterMode: 'incl', srcList: '10.67.148.1' });
      const first = receiver.current!;
      expect(first.metrics.packets).toBeGreaterThan(10_000);
      expect(first.audio().missingFrames).toBe(0);

      // The session changes (4 channels on another group): ANNOUNCE, the receiver follows.
      sender.update({ channels: 4, destination: '239.1.148.2' });
      runVirtual(actors, w.network, w.clock, { untilNs: 3.5e9 });
      expect(session.client!.announcements).toBe(1);
      expect(receiver.sdp).toBe(sender.sdp());
      expect(receiver.subscriptions).toHaveLength(2);
      expect(receiver.current!.stream).toMatchObject({ channels: 4, destination: '239.1.148.2' });
      expect(receiver.current!.metrics.packets).toBeGreaterThan(3000);
      expect(receiver.current!.audio().missingFrames).toBe(0);
      // A new grandmaster changes only the description: a second ANNOUNCE, no resubscription.
      sender.update({ grandmaster: '00-1D-C1-FF-FE-00-00-09' });
      runVirtual(actors, w.network, w.clock, { untilNs: 3.6e9 });
      expect(session.client!.announcements).toBe(2);
      expect(receiver.subscriptions).toHaveLength(2);
      expect(receiver.stream!.ptpRefclk).toEqual({ gmid: '00-1D-C1-FF-FE-00-00-09', domain: 0 });
      expect(sender.rtsp.stats).toMatchObject({ describes: 1, announces: 2, announceReplies: 2 });
      sender.close();
      runVirtual([browser], w.network, w.clock, { untilNs: 5e9 });
      expect(browser.find(SESSION)).toBeUndefined(); // goodbye
      cap.close();

      // What went on the (virtual) wire: mDNS and RTP, dissected by tshark.
      expect(tsharkSeriousExpert(file, ['-d', 'udp.port==5004,rtp'])).toEqual([]);
      const ptr = tsharkFields(file, ['dns.ptr.domain_name'], ['-Y', 'mdns && dns.flags.response == 1 && ip.src == 10.67.148.1'], 'a');
      expect(ptr.some((r) => r[0].includes(`${SESSION}._rtsp._tcp.local`))).toBe(true);
      expect(ptr.some((r) => r[0].includes('Horus-1._rtsp._tcp.local'))).toBe(true);
      const rtp = tsharkFields(file, ['ip.dst', 'rtp.p_type'], ['-d', 'udp.port==5004,rtp', '-Y', 'rtp']);
      expect(new Set(rtp.map((r) => r.join('/')))).toEqual(new Set(['239.1.148.1/98', '239.1.148.2/98']));
    });
  });

  it('takes 125/250/333 µs and 44.1-384 kHz L16/L24, and refuses AM824 and unicast naming why', () => {
    const w = world();
    const base = { transport: w.tx, timescale: w.timescale, streams: w.hub.host('10.67.148.1'), sessionName: 'S', deviceName: 'D', destination: '239.1.148.9', channels: 2, grandmaster: GM, signal: { kind: 'silence' as const } };
    let port = 1000;
    for (const [rate, frames, enc] of [[48000, 6, 'L16'], [48000, 12, 'L24'], [48000, 16, 'L24'], [44100, 6, 'L24'], [384000, 48, 'L16'], [96000, 192, 'L24']] as const) {
      const s = new RavennaSender({ ...base, sampleRate: rate, framesPerPacket: frames, encoding: enc, rtspPort: port++ });
      const d = describeAes67(s.sdp());
      expect([d.sampleRate, d.framesPerPacket, d.encoding]).toEqual([rate, frames, enc]);
      s.close();
    }
    expect(() => new RavennaSender({ ...base, sampleRate: 48000, framesPerPacket: 48, encoding: 'AM824', rtspPort: port++ })).toThrow(/AM824 .* do not implement/);
    expect(() => new RavennaSender({ ...base, sampleRate: 48000, framesPerPacket: 48, encoding: 'L24', destination: '10.67.148.2', rtspPort: port++ })).toThrow(/must be a multicast group/);
    expect(() => new RavennaSender({ ...base, sampleRate: 48000, framesPerPacket: 48, encoding: 'L24', sessionName: 'a.b', rtspPort: port++ })).toThrow(/contains a dot/);
  });
});
