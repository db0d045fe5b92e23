import { describe, expect, it } from 'vitest';
import { addonBuilt, loadNative } from '../../native/index.ts';
import { runRealTime, runVirtual, udpTransport, type TimedActor } from './lab-transport.ts';
import { formatRequest, parseRtspUrl, ravennaSessionUrl, RtspParseError, RtspParser, type RtspMessage } from './rtsp-message.ts';
import { RtspServer } from './rtsp-server.ts';
import { RtspClient } from './rtsp-client.ts';
import { tcpStreams, VirtualStreamHub, type ByteStream } from './rtsp-stream.ts';

const SDP = 'v=0\r\no=- 1 1 IN IP4 10.67.146.1\r\ns=Studio A mix, 2ch\r\nc=IN IP4 239.69.146.1/15\r\nt=0 0\r\nm=audio 5004 RTP/AVP 98\r\na=rtpmap:98 L24/48000/2\r\na=ptime:1\r\n';
const NAME = 'Studio A mix, 2ch';
const isRoot = process.getuid?.() === 0;

describe('RTSP messages', () => {
  it('parses requests and responses split at any byte, pipelined, with bodies and LF-only lines', () => {
    const text =
      'DESCRIBE rtsp://10.0.0.1:554/by-name/A%20B RTSP/1.0\r\nCSeq: 7\r\nAccept: application/sdp\r\n\r\n' +
      `RTSP/1.0 200 OK\r\ncseq: 7\r\nContent-Type: application/sdp\r\nContent-Length: ${Buffer.byteLength(SDP)}\r\n\r\n${SDP}` +
      'OPTIONS * RTSP/1.0\nCSeq: 8\n\n';
    const whole = new RtspParser().push(Buffer.from(text));
    const parser = new RtspParser();
    const split: RtspMessage[] = [];
    for (const b of Buffer.from(text)) split.push(...parser.push(Uint8Array.of(b)));
    expect(split).toEqual(whole);
    expect(whole.map((m) => (m.kind === 'request' ? m.method : m.status))).toEqual(['DESCRIBE', 200, 'OPTIONS']);
    expect(whole[1].body).toBe(SDP);
    expect(whole[1].headers.get('cseq')).toBe('7');
  });

  it('refuses oversized or broken framing with a reason', () => {
    expect(() => new RtspParser().push(Buffer.from('GARBAGE\r\n\r\n'))).toThrow(RtspParseError);
    expect(() => new RtspParser().push(Buffer.from('RTSP/1.0 200 OK\r\nContent-Length: 99999999\r\n\r\n'))).toThrow(/body-too-long/);
    expect(() => new RtspParser().push(Buffer.alloc(20000, 0x41))).toThrow(/header-too-long/);
    expect(() => new RtspParser().push(Buffer.from('RTSP/1.0 200 OK\r\nContent-Length: x\r\n\r\n'))).toThrow(/bad-content-length/);
  });

  it('builds RAVENNA by-name URLs that round-trip names with spaces and commas', () => {
    const url = ravennaSessionUrl('10.0.0.1', 8554, NAME);
    expect(url).toBe('rtsp://10.0.0.1:8554/by-name/Studio%20A%20mix%2C%202ch');
    expect(decodeURIComponent(parseRtspUrl(url).path.slice('/by-name/'.length))).toBe(NAME);
    expect(parseRtspUrl('rtsp://h/x').port).toBe(554);
    expect(() => parseRtspUrl('http://h/x')).toThrow(/not an rtsp:\/\/ URL/);
  });
});

/** A raw client: writes bytes and collects parsed responses. */
function rawClient(s: ByteStream) {
  const parser = new RtspParser();
  const got: RtspMessage[] = [];
  const actor: TimedActor = {
    poll() {
      const b = s.read();
      if (b) got.push(...parser.push(b));
      return s.nextArrival();
    },
  };
  return { actor, got, send: (t: string) => s.write(t) };
}

describe.skipIf(!addonBuilt())('RTSP server and client on the virtual stream hub', () => {
  function setup() {
    const native = loadNative();
    const clock = new native.VirtualClock(0);
    const network = new native.VirtualNetwork(clock, 0);
    const hub = new VirtualStreamHub(() => clock.now(), 100_000);
    const server = new RtspServer({ streams: hub.host('10.67.146.1'), port: 554, host: '10.67.146.1' });
    server.setSession(NAME, SDP);
    return { clock, network, hub, server };
  }

  it('answers DESCRIBE by name and by id, OPTIONS, and errors with the right status', () => {
    const w = setup();
    const c = rawClient(w.hub.host('10.67.146.2').connect('10.67.146.1', 554));
    const url = ravennaSessionUrl('10.67.146.1', 554, NAME);
    c.send(formatRequest('DESCRIBE', url, [['CSeq', 1], ['Accept', 'application/sdp']]));
    c.send(formatRequest('DESCRIBE', `rtsp://10.67.146.1:554/by-id/${w.server.idOf(NAME)}`, [['CSeq', 2]]));
    c.send(formatRequest('OPTIONS', '*', [['CSeq', 3]]));
    c.send(formatRequest('DESCRIBE', ravennaSessionUrl('10.67.146.1', 554, 'nope'), [['CSeq', 4]]));
    c.send(formatRequest('SETUP', url, [['CSeq', 5]]));
    c.send(formatRequest('DESCRIBE', url, [['CSeq', 6], ['Accept', 'text/html']]));
    c.send('DESCRIBE rtsp://x/by-name/y RTSP/1.0\r\n\r\n');
    runVirtual([w.server, c.actor], w.network, w.clock, { untilNs: 10e6 });
    const r = c.got as Extract<RtspMessage, { kind: 'response' }>[];
    expect(r.map((m) => [m.headers.get('cseq'), m.status])).toEqual([['1', 200], ['2', 200], ['3', 200], ['4', 404], ['5', 405], ['6', 406], [undefined, 400]]);
    expect(r[0].body).toBe(SDP);
    expect(r[0].headers.get('content-type')).toBe('application/sdp');
    expect(r[1].body).toBe(SDP);
    expect(r[2].headers.get('public')).toBe('OPTIONS, DESCRIBE');
    expect(r[4].headers.get('allow')).toBe('OPTIONS, DESCRIBE');
    expect(w.server.stats.errors).toMatchObject({ 'not-found': 1, method: 1, 'not-acceptable': 1, 'no-cseq': 1 });
  });

  it('the client describes, keeps the connection, answers ANNOUNCE with 200 and takes the new SDP', () => {
    const w = setup();
    const client = new RtspClient({ streams: w.hub.host('10.67.146.2'), url: ravennaSessionUrl('10.67.146.1', 554, NAME) });
    runVirtual([w.server, client], w.network, w.clock, { untilNs: 5e6 });
    expect(client.state).toBe('described');
    expect(client.current()).toBe(SDP);
    const changed = SDP.replace('o=- 1 1', 'o=- 1 2').replace('/48000/2', '/48000/4');
    w.server.setSession(NAME, changed);
    runVirtual([w.server, client], w.network, w.clock, { untilNs: 10e6 });
    expect(client.current()).toBe(changed);
    expect(client.announcements).toBe(1);
    expect(w.server.stats).toMatchObject({ announces: 1, announceReplies: 1, connections: 1 });
    expect(w.server.stats.errors).toEqual({});
  });

  it('retries a refused connection with backoff and describes once the server is up', () => {
    const native = loadNative();
    const clock = new native.VirtualClock(0);
    const network = new native.VirtualNetwork(clock, 0);
    const hub = new VirtualStreamHub(() => clock.now());
    const client = new RtspClient({ streams: hub.host('10.67.146.2'), url: 'rtsp://10.67.146.1:554/by-name/x', retryNs: 100e6 });
    runVirtual([client], network, clock, { untilNs: 50e6 });
    expect(client.state).toBe('failed');
    expect(client.error).toMatch(/ECONNREFUSED/);
    const server = new RtspServer({ streams: hub.host('10.67.146.1'), port: 554, host: '10.67.146.1' });
    server.setSession('x', SDP);
    runVirtual([client, server], network, clock, { untilNs: 500e6 });
    expect(client.state).toBe('described');
    expect(client.connects).toBe(2); // refused at 0; the retry at 100 ms finds the server (up since 50 ms)
  });
});

describe.skipIf(!addonBuilt() || !isRoot)('RTSP over real TCP on loopback', () => {
  // Loopback ports of this helper's range: 45300-45309.
  it('serves DESCRIBE and ANNOUNCE to the lab client over node:net', async () => {
    const t = udpTransport('lo');
    const server = new RtspServer({ streams: tcpStreams('127.0.0.1'), port: 45300, host: '127.0.0.1' });
    server.setSession(NAME, SDP);
    const client = new RtspClient({ streams: tcpStreams('127.0.0.1'), url: ravennaSessionUrl('127.0.0.1', 45300, NAME) });
    await runRealTime([server, client], t, { durationNs: 300e6 });
    expect(client.current()).toBe(SDP);
    const changed = SDP.replace('o=- 1 1', 'o=- 1 2');
    server.setSession(NAME, changed);
    await runRealTime([server, client], t, { durationNs: 300e6 });
    expect(client.current()).toBe(changed);
    expect(server.stats.announceReplies).toBe(1);
    client.close();
    server.close();
  });
});
