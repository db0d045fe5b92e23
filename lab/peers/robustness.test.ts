// Bad input from the network is counted and dropped, never thrown, and never grows memory
// without bound: random and hostile datagrams and byte streams into every receiving peer.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { addonBuilt, loadNative } from '../../native/index.ts';
import { runVirtual, virtualHost } from '../net/lab-transport.ts';
import { linearTimescale } from '../net/ptp-timescale.ts';
import { buildSap, SAP_GROUP_DANTE } from '../net/sap.ts';
import { MDNS_ENDPOINT, encodeDns } from '../net/mdns.ts';
import { MdnsBrowser } from '../net/mdns-browser.ts';
import { MdnsResponder } from '../net/mdns-responder.ts';
import { RtspParseError, RtspParser } from '../net/rtsp-message.ts';
import { RtspServer } from '../net/rtsp-server.ts';
import { VirtualStreamHub } from '../net/rtsp-stream.ts';
import { describeAes67 } from '../net/sdp.ts';
import { Aes67Sender } from './aes67-sender.ts';
import { RtpSubscription } from './rtp-subscription.ts';
import { SapListener } from './sap-listener.ts';

function world() {
  const native = loadNative();
  const clock = new native.VirtualClock(0);
  const network = new native.VirtualNetwork(clock, 1000);
  return { clock, network, a: virtualHost(network, clock, '10.67.149.1'), b: virtualHost(network, clock, '10.67.149.2') };
}

describe('RTSP parser', () => {
  it('either yields messages or throws its own RtspParseError, for any bytes in any split', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }), (chunks) => {
        const p = new RtspParser();
        try {
          for (const c of chunks) p.push(c);
        } catch (e) {
          if (!(e instanceof RtspParseError)) throw e;
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe.skipIf(!addonBuilt())('receiving peers under random datagrams', () => {
  it('RtpSubscription drops what is not its stream, by reason, and never throws', () => {
    const w = world();
    const sdp = new Aes67Sender({ transport: w.a, timescale: linearTimescale(), destination: '239.69.149.1', channels: 2, sampleRate: 48000, encoding: 'L24', framesPerPacket: 48, signal: { kind: 'silence' }, sourceFilter: false }).sdp();
    const sub = new RtpSubscription({ transport: w.b, timescale: linearTimescale(), stream: describeAes67(sdp), recordSeconds: 1 });
    const junk = w.a.open();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, rtpLike) => {
        if (rtpLike && bytes.length > 1) bytes[0] = 0x80; // version 2: deeper into the parser
        junk.send('239.69.149.1:5004', bytes);
        runVirtual([], w.network, w.clock, { untilNs: w.clock.now() + 10_000 });
        sub.drain();
      }),
      { numRuns: 600 },
    );
    const m = sub.metrics;
    const dropped = Object.values(m.dropped).reduce((a, b) => a + b, 0);
    expect(dropped + m.packets + m.duplicates).toBe(600);
    expect(Object.keys(m.dropped).every((k) => /^(rtp-[a-z-]+|payload-type|payload-length|before-recording|recording-full)$/.test(k))).toBe(true);
    sub.close();
  });

  it('SapListener: random packets and a flood of sessions are counted and bounded', () => {
    const w = world();
    const listener = new SapListener({ transport: w.b, maxSessions: 50 });
    const tx = w.a.open();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        tx.send(`${SAP_GROUP_DANTE}:9875`, bytes);
        runVirtual([listener], w.network, w.clock, { untilNs: w.clock.now() + 10_000 });
      }),
      { numRuns: 300 },
    );
    for (let i = 0; i < 200; i++) {
      const sdp = `v=0\r\no=- ${i + 1} 1 IN IP4 10.67.149.1\r\ns=flood ${i}\r\nc=IN IP4 239.69.1.1/32\r\nt=0 0\r\nm=audio 5004 RTP/AVP 97\r\na=rtpmap:97 L24/48000/2\r\na=ptime:1\r\n`;
      tx.send(`${SAP_GROUP_DANTE}:9875`, buildSap({ messageType: 'announce', msgIdHash: i + 1, origin: '10.67.149.1', sdp }));
    }
    runVirtual([listener], w.network, w.clock, { untilNs: w.clock.now() + 1e6 });
    expect(listener.sessions().length).toBe(50);
    // The least recently heard make room: the flood's last 50 are kept, the rest evicted.
    expect(listener.evicted).toBeGreaterThanOrEqual(150);
    expect(listener.sessions().map((s) => s.msgIdHash).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => 151 + i));
    listener.close();
  });

  it('mDNS responder and browser: random packets counted as bad; a record flood is bounded', () => {
    const w = world();
    const responder = new MdnsResponder({ transport: w.a, hostLabel: 'dev' });
    responder.addService({ instance: 'S', service: '_rtsp._tcp', subtypes: ['_ravenna_session'], port: 554 });
    const browser = new MdnsBrowser({ transport: w.b, maxRecords: 100 });
    const tx = virtualHost(w.network, w.clock, '10.67.149.3').open({ port: 5353 });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        tx.send(MDNS_ENDPOINT, bytes);
        runVirtual([responder, browser], w.network, w.clock, { untilNs: w.clock.now() + 10_000 });
      }),
      { numRuns: 300 },
    );
    expect(responder.stats.bad).toBeGreaterThan(0);
    const answers = Array.from({ length: 300 }, (_, i) => ({ name: '_ravenna_session._sub._rtsp._tcp.local', type: 'PTR' as const, ttl: 4500, data: `x${i}._rtsp._tcp.local` }));
    tx.send(MDNS_ENDPOINT, encodeDns({ type: 'response', id: 0, flags: 0, answers }));
    runVirtual([responder, browser], w.network, w.clock, { untilNs: w.clock.now() + 5e9 });
    expect(browser.stats.cacheFull).toBeGreaterThan(0);
    expect(browser.instances().length).toBeLessThanOrEqual(100);
    expect(browser.find('S')).toBeUndefined(); // the flood filled the cache first; the real instance waits for room
  });

  it('RTSP server: random byte streams from many clients are answered 400 or ignored, connections bounded', () => {
    const native = loadNative();
    const clock = new native.VirtualClock(0);
    const network = new native.VirtualNetwork(clock, 0);
    const hub = new VirtualStreamHub(() => clock.now());
    const server = new RtspServer({ streams: hub.host('10.67.149.1'), port: 554, host: '10.67.149.1', maxConnections: 8 });
    server.setSession('S', 'v=0\r\n');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const c = hub.host('10.67.149.2').connect('10.67.149.1', 554);
        c.write(bytes);
        runVirtual([server], network, clock, { untilNs: clock.now() + 1e6 });
      }),
      { numRuns: 200 },
    );
    expect(server.openConnections).toBeLessThanOrEqual(8);
    expect(server.stats.errors['too-many-connections']).toBeGreaterThan(0);
  });
});
