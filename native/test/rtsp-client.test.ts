// The engine's RTSP client (C++, through the addon) against the lab's independent RTSP
// server and RavennaSender (TypeScript, lab/net/rtsp-server.ts, lab/peers/ravenna-sender.ts)
// over the lab's VirtualStreamHub in virtual time: DESCRIBE by name and by id, OPTIONS
// first, 404 then the session appearing, ANNOUNCE with a changed SDP followed (and its
// 200 counted by the server), the server dropping and coming back. Everything the client
// concludes is checked against what the lab's side says it served.
import { describe, expect, it } from 'vitest';
import { addonBuilt, loadNative } from '../index.ts';
import { EngineRtspSession, type NativeRtspClient, type RtspClientOptions } from '../rtsp.ts';
import { runVirtual, virtualHost } from '../../lab/net/lab-transport.ts';
import { linearTimescale } from '../../lab/net/ptp-timescale.ts';
import { ravennaSessionUrl } from '../../lab/net/rtsp-message.ts';
import { RtspServer } from '../../lab/net/rtsp-server.ts';
import { VirtualStreamHub } from '../../lab/net/rtsp-stream.ts';
import { RavennaSender } from '../../lab/peers/ravenna-sender.ts';

const SERVER = '10.67.180.1';
const CLIENT = '10.67.180.2';
const NAME = 'Stage box 1, mix';
const SDP = `v=0\r\no=- 7 1 IN IP4 ${SERVER}\r\ns=${NAME}\r\nc=IN IP4 239.1.180.1/15\r\nt=0 0\r\nm=audio 5004 RTP/AVP 98\r\na=rtpmap:98 L24/48000/2\r\na=ptime:1\r\n`;

function world(latencyNs = 100_000) {
  const native = loadNative();
  const clock = new native.VirtualClock(0);
  const network = new native.VirtualNetwork(clock, 0);
  const hub = new VirtualStreamHub(() => clock.now(), latencyNs);
  const session = (options: RtspClientOptions) => new EngineRtspSession(new native.RtspClient(options) as NativeRtspClient, hub.host(CLIENT));
  return { native, clock, network, hub, session };
}

describe.skipIf(!addonBuilt())('engine RtspClient against the lab RtspServer on the virtual stream hub', () => {
  it('describes a session by name and by id and keeps the connection', () => {
    const w = world();
    const server = new RtspServer({ streams: w.hub.host(SERVER), port: 554, host: SERVER });
    server.setSession(NAME, SDP);
    server.setSession('other', SDP.replace('s=Stage', 's=Other'));
    const byName = w.session({ url: ravennaSessionUrl(SERVER, 554, NAME) });
    const byId = w.session({ url: `rtsp://${SERVER}:554/by-id/${server.idOf('other')}` });
    runVirtual([server, byName, byId], w.network, w.clock, { untilNs: 50e6 });
    expect(byName.client.state()).toBe('described');
    expect(byName.current()).toBe(SDP);
    expect(byName.events).toEqual([{ kind: 'description', at: expect.any(Number), sdp: SDP, changed: true }]);
    // DESCRIBE out and 200 back: two hub latencies.
    expect(byName.events[0].at).toBe(2 * w.hub.latencyNs);
    expect(byId.current()).toBe(SDP.replace('s=Stage', 's=Other'));
    expect(server.stats).toMatchObject({ connections: 2, requests: 2, describes: 2, errors: {} });
    expect(server.openConnections).toBe(2);
    expect(byName.client.stats()).toMatchObject({ connects: 1, connected: 1, requests: 1, describes: 1, unexpectedResponses: 0, errors: {} });
  });

  it('sends OPTIONS first when asked, then DESCRIBE', () => {
    const w = world();
    const server = new RtspServer({ streams: w.hub.host(SERVER), port: 8554, host: SERVER });
    server.setSession(NAME, SDP);
    const s = w.session({ url: ravennaSessionUrl(SERVER, 8554, NAME), sendOptions: true });
    runVirtual([server, s], w.network, w.clock, { untilNs: 50e6 });
    expect(s.current()).toBe(SDP);
    expect(server.stats).toMatchObject({ requests: 2, describes: 1, errors: {} });
    expect(s.client.stats().requests).toBe(2);
  });

  it('reports 404 with the status, retries with backoff and describes once the session exists', () => {
    const w = world();
    const server = new RtspServer({ streams: w.hub.host(SERVER), port: 554, host: SERVER });
    const s = w.session({ url: ravennaSessionUrl(SERVER, 554, NAME), retryNs: 100e6 });
    runVirtual([server, s], w.network, w.clock, { untilNs: 250e6 });
    const errors = s.events.filter((e) => e.kind === 'error');
    // Attempts at 0, ~100 ms and ~300 ms (the backoff doubles): two done by 250 ms.
    expect(errors.map((e) => e.kind === 'error' && [e.error, e.status])).toEqual([['not-found', 404], ['not-found', 404]]);
    expect(errors[0].kind === 'error' && errors[0].message).toBe(`DESCRIBE ${ravennaSessionUrl(SERVER, 554, NAME)}: 404 Not Found`);
    expect(server.stats.errors).toEqual({ 'not-found': 2 });
    expect(s.client.state()).toBe('backoff');
    expect(s.current()).toBeNull();
    server.setSession(NAME, SDP);
    runVirtual([server, s], w.network, w.clock, { untilNs: 600e6 });
    expect(s.client.state()).toBe('described');
    expect(s.current()).toBe(SDP);
    expect(s.client.stats()).toMatchObject({ connects: 3, describes: 1, errors: { 'not-found': 2 } });
    expect(server.openConnections).toBe(1); // the failed attempts' connections were closed by the client
  });

  it('follows the RavennaSender: an ANNOUNCE with a changed SDP is taken and answered 200 with its CSeq', () => {
    const w = world(60_000);
    const tx = virtualHost(w.network, w.clock, SERVER);
    const sender = new RavennaSender({
      transport: tx,
      timescale: linearTimescale(),
      streams: w.hub.host(SERVER),
      sessionName: NAME,
      deviceName: 'Horus-180',
      destination: '239.1.180.1',
      channels: 8,
      sampleRate: 48000,
      encoding: 'L24',
      framesPerPacket: 6,
      grandmaster: '00-1D-C1-FF-FE-50-36-33',
      signal: { kind: 'silence' },
    });
    const s = w.session({ url: sender.url });
    runVirtual([sender, s], w.network, w.clock, { untilNs: 20e6 });
    expect(s.current()).toBe(sender.sdp());
    const first = sender.sdp();

    sender.update({ channels: 4, destination: '239.1.180.2' });
    runVirtual([sender, s], w.network, w.clock, { untilNs: 40e6 });
    expect(s.current()).toBe(sender.sdp());
    expect(s.current()).not.toBe(first);
    expect(s.current()).toContain('a=rtpmap:98 L24/48000/4');
    sender.update({ grandmaster: '00-1D-C1-FF-FE-00-00-09' });
    runVirtual([sender, s], w.network, w.clock, { untilNs: 60e6 });
    expect(s.current()).toBe(sender.sdp());
    expect(s.events.map((e) => e.kind)).toEqual(['description', 'changed', 'changed']);
    // The lab's server saw two ANNOUNCEs answered, none refused (it counts a non-200 as announce-<status>).
    expect(sender.rtsp.stats).toMatchObject({ describes: 1, announces: 2, announceReplies: 2, errors: {} });
    expect(s.client.stats()).toMatchObject({ announcements: 2, serverRequests: 2, refusedServerRequests: 0, connects: 1 });
    sender.close();
  });

  it('reconnects with backoff after the server drops, and re-describes when it is back', () => {
    const w = world();
    let server = new RtspServer({ streams: w.hub.host(SERVER), port: 554, host: SERVER });
    server.setSession(NAME, SDP);
    const s = w.session({ url: ravennaSessionUrl(SERVER, 554, NAME), retryNs: 50e6, retryMaxNs: 400e6 });
    runVirtual([server, s], w.network, w.clock, { untilNs: 10e6 });
    expect(s.client.state()).toBe('described');
    server.close(); // FIN to every client, listener gone
    const actors = [s];
    runVirtual(actors, w.network, w.clock, { untilNs: 1_000e6 });
    const errors = s.events.filter((e) => e.kind === 'error').map((e) => e.kind === 'error' && e.error);
    expect(errors[0]).toBe('closed');
    expect(errors.slice(1).every((e) => e === 'connect-failed')).toBe(true);
    // The drop, then attempts 50, 100, 200 and 400 ms apart (400 is the limit): four refused by 1 s.
    expect(errors.length).toBe(5);
    expect(s.current()).toBe(SDP); // the description is kept while the server is away

    server = new RtspServer({ streams: w.hub.host(SERVER), port: 554, host: SERVER });
    const changed = SDP.replace('o=- 7 1', 'o=- 7 2').replace('/48000/2', '/48000/4');
    server.setSession(NAME, changed);
    runVirtual([server, s], w.network, w.clock, { untilNs: 1_500e6 });
    expect(s.client.state()).toBe('described');
    expect(s.current()).toBe(changed);
    const last = s.events[s.events.length - 1];
    expect(last).toMatchObject({ kind: 'description', changed: true, sdp: changed });
    expect(server.stats).toMatchObject({ connections: 1, describes: 1, errors: {} });
  });

  it('refuses to start on a URL it cannot use, naming the fix', () => {
    const native = loadNative();
    expect(() => new native.RtspClient({ url: 'http://10.0.0.1/by-name/x' })).toThrow(/not an RTSP URL \(the scheme is not rtsp:\/\/\): write rtsp:\/\/host\[:port\]\/path/);
    expect(() => new native.RtspClient({ url: 'rtsp://10.0.0.1/by-name/a b' })).toThrow(/must be percent-encoded/);
  });
});
