import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import path from 'node:path';
import * as sdpTransform from 'sdp-transform';
import { buildAes67Sdp, describeAes67, parseSdp, SdpError, type Aes67StreamDescription } from './sdp.ts';
import { buildSap, SAP_GROUP_DANTE, SAP_PORT } from './sap.ts';
import { tsharkFields, tsharkProblems } from './tshark.ts';
import { withTempDir, writeUdpCapture } from './test-support.ts';

// Shapes from the field: Dante (FIELD-NOTES "Dante SDP shape"), RAVENNA (FIELD-NOTES
// "RAVENNA SDP adds ..."), and an RFC 7273 §8 style refclk with a domain.
const DANTE = [
  'v=0', 'o=- 1423986 1423994 IN IP4 10.67.20.11', 's=AVIOUSB-1e1a2b : 2', 'c=IN IP4 239.69.83.67/32', 't=0 0',
  'a=keywds:Dante', 'm=audio 5004 RTP/AVP 97', 'i=2 channels: Left, Right', 'a=recvonly', 'a=rtpmap:97 L24/48000/2',
  'a=ptime:1', 'a=ts-refclk:ptp=IEEE1588-2008:00-1D-C1-FF-FE-12-34-56:0', 'a=mediaclk:direct=3271884240', '',
].join('\r\n');
const RAVENNA = [
  'v=0', 'o=- 17 3 IN IP4 10.67.20.12', 's=Stage Box 125', 't=0 0', 'a=clock-domain:PTPv2 0', 'm=audio 5004 RTP/AVP 98',
  'c=IN IP4 239.1.20.12/15', 'a=rtpmap:98 L16/48000/8', 'a=source-filter: incl IN IP4 239.1.20.12 10.67.20.12',
  'a=clock-domain:PTPv2 0', 'a=sync-time:0', 'a=framecount:6', 'a=ptime:0.12', 'a=maxptime:0.25',
  'a=ts-refclk:ptp=IEEE1588-2008:00-1d-c1-ff-fe-00-00-0a:0', 'a=mediaclk:direct=0', 'a=sendonly', '',
].join('\n');
const MONO = ['v=0', 'o=lab 5 6 IN IP4 10.67.20.13', 's=mono', 'c=IN IP4 10.67.20.99', 't=0 0', 'm=audio 6000 RTP/AVP 96', 'a=rtpmap:96 L16/44100', 'a=ptime:0.333', 'a=ts-refclk:ptp=IEEE1588-2008:traceable', ''].join('\n');

/** What tshark's SDP dissector reads from each SDP, carried in SAP. */
function tsharkView(sdps: string[]) {
  return withTempDir((dir) => {
    const file = path.join(dir, 'sdp.pcapng');
    writeUdpCapture(
      file,
      sdps.map((sdp, i) => ({ sourceIp: '10.67.20.1', destinationIp: SAP_GROUP_DANTE, sourcePort: SAP_PORT, destinationPort: SAP_PORT, payload: buildSap({ messageType: 'announce', msgIdHash: i, origin: '10.67.20.1', sdp }) })),
    );
    expect(tsharkProblems(file)).toEqual([]);
    const fields = ['sdp.owner.username', 'sdp.owner.sessionid', 'sdp.owner.version', 'sdp.owner.address', 'sdp.session_name', 'sdp.connection_info.address', 'sdp.connection_info.ttl', 'sdp.media.port', 'sdp.media', 'sdp.mime.type', 'sdp.sample_rate'];
    const attrs = tsharkFields(file, ['sdp.media_attr'], [], 'a');
    return tsharkFields(file, fields).map((r, i) => {
      const attr = (n: string) => attrs[i][0].split(',').find((a) => a.startsWith(`${n}:`))?.slice(n.length + 1) ?? '';
      return {
        username: r[0], sessionId: r[1], sessionVersion: r[2], address: r[3], name: r[4], destination: r[5], ttl: r[6], port: Number(r[7]),
        payloadType: Number(r[8].split(' ')[3]), encoding: r[9], sampleRate: Number(r[10]), rtpmap: attr('rtpmap'), ptime: attr('ptime'),
      };
    });
  });
}

describe('AES67 SDP', () => {
  it('describes field SDPs as tshark reads them', () => {
    const sdps = [DANTE, RAVENNA, MONO];
    const theirs = tsharkView(sdps);
    sdps.forEach((sdp, i) => {
      const d = describeAes67(sdp);
      const t = theirs[i];
      expect(d.origin).toEqual({ username: t.username, sessionId: t.sessionId, sessionVersion: t.sessionVersion, address: t.address });
      expect(d.name).toBe(t.name);
      expect(d.destination).toBe(t.destination);
      expect(d.ttl === undefined ? '' : String(d.ttl)).toBe(t.ttl);
      expect([d.port, d.payloadType, d.encoding, d.sampleRate]).toEqual([t.port, t.payloadType, t.encoding, t.sampleRate]);
      // tshark leaves the channel count inside the rtpmap value; RFC 3551 §6: absent means 1.
      expect(d.channels).toBe(Number(t.rtpmap.split('/')[2] ?? 1));
      expect(d.ptimeUs / 1000).toBeCloseTo(Number(t.ptime), 1);
    });
  });

  it('reads the AES67 attributes of each field shape', () => {
    expect(describeAes67(DANTE)).toMatchObject({
      ptpRefclk: { gmid: '00-1D-C1-FF-FE-12-34-56', domain: 0 },
      mediaclkOffset: 3271884240,
      channelLabels: ['Left', 'Right'],
      direction: 'recvonly',
      keywords: 'Dante',
      framesPerPacket: 48,
    });
    expect(describeAes67(RAVENNA)).toMatchObject({ sourceFilter: '10.67.20.12', clockDomain: 0, ptimeUs: 125, framesPerPacket: 6, maxptimeUs: 250, ptpRefclk: { gmid: '00-1D-C1-FF-FE-00-00-0A', domain: 0 } });
    expect(describeAes67(MONO)).toMatchObject({ channels: 1, ptpRefclk: 'traceable', framesPerPacket: 15, ptimeUs: 340 });
  });

  it('maps the AES67 packet times written as SDP fractions to their sample counts (AES67 §7.2)', () => {
    const at48k = (ptime: string) => describeAes67(MONO.replace('L16/44100', 'L24/48000').replace('a=ptime:0.333', `a=ptime:${ptime}`)).framesPerPacket;
    expect(['0.125', '0.12', '0.25', '0.333', '0.33', '1', '4'].map(at48k)).toEqual([6, 6, 12, 16, 16, 48, 192]);
  });

  const descriptionArb: fc.Arbitrary<Aes67StreamDescription> = fc
    .record({
      name: fc.stringMatching(/^[A-Za-z0-9 _:-]{1,30}$/),
      origin: fc.record({ username: fc.constantFrom('-', 'lab'), sessionId: fc.bigInt({ min: 0n, max: 2n ** 40n }).map(String), sessionVersion: fc.nat().map(String), address: fc.constantFrom('10.67.20.1', '10.67.20.2') }),
      destination: fc.tuple(fc.integer({ min: 224, max: 239 }), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.')),
      port: fc.integer({ min: 1024, max: 65535 }),
      ttl: fc.option(fc.integer({ min: 1, max: 255 }), { nil: undefined }),
      encoding: fc.constantFrom('L16' as const, 'L24' as const, 'L32' as const),
      sampleRate: fc.constantFrom(44100, 48000, 88200, 96000, 192000, 384000),
      channels: fc.integer({ min: 1, max: 64 }),
      packetUs: fc.constantFrom(125, 250, 333, 1000, 4000),
      payloadType: fc.integer({ min: 96, max: 127 }),
      mediaclkOffset: fc.option(fc.nat(), { nil: undefined }),
      direction: fc.option(fc.constantFrom('sendonly' as const, 'recvonly' as const), { nil: undefined }),
      gm: fc.option(fc.uint8Array({ minLength: 8, maxLength: 8 }), { nil: undefined }),
    })
    .map(({ packetUs, gm, ...r }) => {
      const framesPerPacket = Math.round((packetUs * r.sampleRate) / 1e6);
      const d: Aes67StreamDescription = { ...r, framesPerPacket, ptimeUs: Math.round((framesPerPacket * 1e6) / r.sampleRate) };
      if (gm) d.ptpRefclk = { gmid: Array.from(gm, (b) => b.toString(16).padStart(2, '0').toUpperCase()).join('-'), domain: 0 };
      for (const k of Object.keys(d) as (keyof Aes67StreamDescription)[]) if (d[k] === undefined) delete d[k];
      return d;
    });

  it('describes what it builds, and tshark reads the built SDP the same way', () => {
    fc.assert(
      fc.property(descriptionArb, (d) => {
        expect(describeAes67(buildAes67Sdp(d))).toEqual(d);
      }),
    );
    const sample = fc.sample(descriptionArb, { numRuns: 20, seed: 11 });
    const theirs = tsharkView(sample.map(buildAes67Sdp));
    sample.forEach((d, i) => expect([theirs[i].destination, theirs[i].port, theirs[i].sampleRate, theirs[i].encoding]).toEqual([d.destination, d.port, d.sampleRate, d.encoding]));
  });

  it('parses a text seen before as sdp-transform does, shared read only; a text past 8 KB each time anew', () => {
    for (const text of [DANTE, RAVENNA, MONO]) {
      const first = parseSdp(text);
      expect(parseSdp(text)).toEqual(sdpTransform.parse(text));
      expect(parseSdp(text)).toBe(first);
      expect(() => ((first as { name?: string }).name = 'changed')).toThrow(TypeError);
      expect(() => first.media[0].rtp.push({ payload: 1, codec: 'x', rate: 1 })).toThrow(TypeError);
    }
    const long = DANTE.replace('t=0 0', `t=0 0\r\n${Array.from({ length: 800 }, (_, i) => `a=x-pad:${i}`).join('\r\n')}`);
    expect(long.length).toBeGreaterThan(8192);
    expect(parseSdp(long)).toEqual(sdpTransform.parse(long));
    expect(parseSdp(long)).not.toBe(parseSdp(long));
    expect(Object.isFrozen(parseSdp(long))).toBe(false);
  });

  it('names the line and the reason of what it cannot accept', () => {
    const lineOf = (text: string, prefix: string) => text.split(/\r?\n/).findIndex((l) => l.startsWith(prefix)) + 1;
    const cases: [string, string, string][] = [
      [DANTE.replace('a=rtpmap:97 L24/48000/2', 'a=rtpmap:97 opus/48000/2'), 'unsupported-encoding', 'a=rtpmap:97'],
      [DANTE.replace('a=ptime:1', 'a=ptime:fast'), 'bad-ptime', 'a=ptime:'],
      [DANTE.replace('a=rtpmap:97 L24/48000/2\r\n', ''), 'no-rtpmap', 'm=audio'],
      [DANTE.replace('c=IN IP4 239.69.83.67/32', 'c=IN IP4 239.69.83.67/999'), 'bad-connection', 'c='],
      [DANTE.replace('00-1D-C1-FF-FE-12-34-56:0', 'nonsense'), 'bad-ts-refclk', 'a=ts-refclk'],
      [DANTE.replace('m=audio', 'm=video'), 'no-audio-media', '\0'],
      ['', 'empty', '\0'],
    ];
    for (const [text, reason, prefix] of cases) {
      let error: unknown;
      try {
        describeAes67(text);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SdpError);
      expect(error).toMatchObject({ reason, line: lineOf(text, prefix) });
      if (lineOf(text, prefix) > 0) expect((error as Error).message).toContain(`line ${lineOf(text, prefix)}`);
    }
  });
});
