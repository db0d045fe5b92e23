// Live crossing over real TCP between network namespaces: `aes67-lab emulate ravenna` (the
// lab's RAVENNA sender, its own RTSP server on node:net) in namespace A; the engine's
// RtspTcpClient (C++ on a non-blocking POSIX socket) in namespace B: one client by name,
// one by id, and one that first finds the session by name with the engine's own DNS-SD
// browser (real mDNS on B's interface). The session changes mid-run (ANNOUNCE), the emulator then exits (the
// server drops) and a second one comes up with another session shape: the engine's
// clients must follow each step. tshark captures on B's interface: it dissects the whole
// exchange (RTSP, SDP, TCP, and the RTP and mDNS beside it) without malformed packets or
// expert errors; the RTSP bytes it saw, read back by the lab's parser, are the requests
// and answers the engine reports. Namespaces a67t*, subnet 10.67.180.0/24, created and
// deleted here.
import { afterAll, describe, expect, it } from 'vitest';
import { chmodSync } from 'node:fs';
import path from 'node:path';
import { addonBuilt, projectRoot } from '../index.ts';
import { canUseNetns, createNetns, type Netns } from '../../ci/netns.ts';
import { watch } from '../../ci/watched-child.ts';
import { withTempDir } from '../../lab/net/test-support.ts';
import { tsharkFields } from '../../lab/net/tshark.ts';
import { RtspParser, ravennaSessionUrl, type RtspMessage } from '../../lab/net/rtsp-message.ts';
import { tsharkExpert } from '../../lab/peers/test-support.ts';
import type { RtspClientEvent, RtspClientStats } from '../rtsp.ts';
import type { DnsSdBrowserStats, EngineDnsSdInstance } from '../mdns.ts';

const usable = canUseNetns();
const BIN = path.join(projectRoot, 'lab/cli/bin.ts');
const CLIENT = path.join(projectRoot, 'native/test/rtsp-client-process.ts');
const NAME = 'Stage box 7, mix';

function emulate(net: Netns, args: string[], seconds: number) {
  const child = net.spawn('a', process.execPath, ['--import', 'tsx', BIN, 'emulate', 'ravenna', '--interface', 'eth0', '--session-name', NAME, '--device-name', 'lab-ravenna-180', '--frames', '48', '--json', '--seconds', String(seconds), ...args], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  return { ...watch(child, (seconds + 40) * 1000, 'emulating RAVENNA session'), stop: () => child.kill('SIGINT') };
}

interface ClientResult {
  url: string;
  state: string;
  current: string | null;
  stats: RtspClientStats;
  events: RtspClientEvent[];
  browser?: { found: EngineDnsSdInstance | null; discoveredAfterNs: number | null; stats: DnsSdBrowserStats };
}

/** The TCP payloads of each RTSP connection, per direction, read by the lab's RTSP parser. */
function rtspConversations(file: string): { client: string; toServer: RtspMessage[]; toClient: RtspMessage[] }[] {
  const rows = tsharkFields(file, ['tcp.stream', 'ip.src', 'tcp.srcport', 'tcp.payload'], ['-Y', 'tcp.port == 554 && tcp.len > 0']);
  const streams = new Map<string, { client: string; up: Buffer[]; down: Buffer[] }>();
  for (const [stream, src, port, hex] of rows) {
    const fromServer = port === '554';
    const s = streams.get(stream) ?? { client: '', up: [], down: [] };
    if (!fromServer) s.client = `${src}:${port}`;
    (fromServer ? s.down : s.up).push(Buffer.from(hex.replace(/:/g, ''), 'hex'));
    streams.set(stream, s);
  }
  return [...streams.values()].map((s) => ({ client: s.client, toServer: new RtspParser().push(Buffer.concat(s.up)), toClient: new RtspParser().push(Buffer.concat(s.down)) }));
}

describe.skipIf(!usable.ok || !addonBuilt())(`engine RtspTcpClient against aes67-lab emulate ravenna between namespaces (${usable.reason ?? 'root'})`, () => {
  let net: Netns | undefined;
  afterAll(() => net?.destroy());

  it('describes by name, by id and after finding it by DNS-SD, follows the ANNOUNCE, reconnects to a new server, and tshark reads it all cleanly', async () => {
    net = createNetns({ prefix: 'a67t', hosts: ['a', 'b'], subnet: 180 });
    const server = net.host('a').address;
    await withTempDir(async (dir) => {
      chmodSync(dir, 0o777); // tshark drops privileges to write its file
      const file = path.join(dir, 'rtsp.pcapng');
      const capture = net!.spawn('b', 'tshark', ['-q', '-i', 'eth0', '-a', 'duration:90', '-w', file]);
      const cap = { ...watch(capture, 110_000, 'Capturing on'), stop: () => capture.kill('SIGINT') };
      await cap.ready;

      const first = emulate(net!, ['--destination', '239.1.180.1', '--channels', '2', '--change-at', '5', '--change-channels', '4'], 9);
      await first.ready;
      const byName = ravennaSessionUrl(server, 554, NAME);
      const byId = `rtsp://${server}:554/by-id/1`; // the emulator's one session is its first
      const options = { retryNs: 250e6, retryMaxNs: 1e9, sendOptions: false };
      const clients = watch(
        net!.spawn('b', process.execPath, ['--import', 'tsx', CLIENT, JSON.stringify({ seconds: 16, clients: [{ url: byName, ...options }, { url: byId, ...options, sendOptions: true }, { discover: { interfaceName: 'eth0', sessionName: NAME }, ...options }] })], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] }),
        60_000,
      );
      const one = await first.exited;
      expect(one.code, one.stderr).toBe(0);
      const second = emulate(net!, ['--destination', '239.1.180.2', '--channels', '6'], 30);
      await second.ready;
      const done = await clients.exited;
      second.stop();
      const two = await second.exited;
      await new Promise((r) => setTimeout(r, 300));
      cap.stop();
      await cap.exited;
      expect(done.code, done.stderr).toBe(0);
      expect(two.code, two.stderr).toBe(0);

      const sent1 = JSON.parse(one.stdout.trim().split('\n').pop()!) as { sdps: string[]; stats: { rtsp: { describes: number; announces: number; announceReplies: number; errors: object } } };
      const sent2 = JSON.parse(two.stdout.trim().split('\n').pop()!) as { sdps: string[]; stats: { rtsp: { describes: number; errors: object } } };
      const { results } = JSON.parse(done.stdout.trim()) as { results: ClientResult[] };
      expect(sent1.sdps).toHaveLength(2);
      expect(sent2.sdps[0]).not.toBe(sent1.sdps[1]);

      for (const r of results) {
        // First server: described, then the change followed; it goes away; the new server is described.
        const kinds = r.events.map((e) => (e.kind === 'error' ? e.error : e.kind));
        const firstError = kinds.indexOf('closed');
        expect(kinds.slice(0, firstError), r.url).toEqual(['description', 'changed']);
        expect(kinds.slice(firstError + 1, -1).every((k) => k === 'connect-failed'), kinds.join()).toBe(true);
        expect(kinds[kinds.length - 1]).toBe('description');
        const descriptions = r.events.filter((e) => e.kind !== 'error') as Extract<RtspClientEvent, { sdp: string }>[];
        expect(descriptions.map((e) => e.sdp)).toEqual([sent1.sdps[0], sent1.sdps[1], sent2.sdps[0]]);
        expect(descriptions[2].changed).toBe(true);
        expect(r.state).toBe('described');
        expect(r.current).toBe(sent2.sdps[0]);
        expect(r.stats).toMatchObject({ describes: 2, announcements: 1, refusedServerRequests: 0, unexpectedResponses: 0 });
        expect(r.stats.parser.refused).toEqual({ 'line-too-long': 0, 'header-too-long': 0, 'too-many-headers': 0, 'bad-start-line': 0, 'bad-header': 0, 'bad-content-length': 0, 'body-too-long': 0 });
      }
      expect(results.map((r) => r.url)).toEqual([byName, byId, byName]);
      // The third found the session through the engine's DNS-SD browser, at the emulator's address and RTSP port.
      expect(results[2].browser?.found).toMatchObject({ name: NAME, fqdn: `${NAME}._rtsp._tcp.local`, address: server, port: 554 });
      expect(results[2].browser?.found?.host).toMatch(/^lab-ravenna-180\.local$/i);
      expect(results[2].browser?.stats.dropped).toEqual({ truncated: 0, 'bad-name': 0, 'bad-pointer': 0, 'bad-rdata': 0, 'too-many-records': 0 });
      // The lab's server: three clients described it and each answered its ANNOUNCE.
      expect(sent1.stats.rtsp).toMatchObject({ describes: 3, announces: 3, announceReplies: 3, errors: {} });
      expect(sent2.stats.rtsp).toMatchObject({ describes: 3, errors: {} });

      // On the wire: every RTSP connection read back from tshark's capture.
      const conversations = rtspConversations(file);
      const requests = conversations.flatMap((c) => c.toServer.filter((m) => m.kind === 'request'));
      expect(requests.filter((m) => m.kind === 'request' && m.method === 'DESCRIBE').map((m) => m.kind === 'request' && m.url).sort()).toEqual([byId, byId, byName, byName, byName, byName].sort());
      expect(requests.filter((m) => m.kind === 'request' && m.method === 'OPTIONS')).toHaveLength(2); // the by-id client asks OPTIONS first
      for (const m of requests) expect(m.headers.get('cseq')).toMatch(/^\d+$/);
      const announces = conversations.flatMap((c) => c.toClient.filter((m) => m.kind === 'request' && m.method === 'ANNOUNCE').map((a) => ({ a, c })));
      expect(announces).toHaveLength(3);
      for (const { a, c } of announces) {
        expect(a.body).toBe(sent1.sdps[1]);
        const reply = c.toServer.find((m) => m.kind === 'response' && m.headers.get('cseq') === a.headers.get('cseq'));
        expect(reply, `no answer to ANNOUNCE CSeq ${a.headers.get('cseq')}`).toMatchObject({ kind: 'response', status: 200 });
      }
      const bodies = conversations.flatMap((c) => c.toClient.filter((m) => m.kind === 'response' && m.body !== '').map((m) => m.body));
      expect(new Set(bodies)).toEqual(new Set([sent1.sdps[0], sent2.sdps[0]]));

      // tshark's dissectors: RTSP and SDP by name, RTP on 5004, nothing malformed. A
      // connect while no server listened is answered by the kernel's RST, which tshark
      // warns about: exactly one per connect-failed the clients reported.
      const rtsp = tsharkFields(file, ['rtsp.method', 'rtsp.status', 'sdp.version'], ['-Y', 'rtsp']);
      expect(rtsp.filter((r) => r[0] === 'DESCRIBE')).toHaveLength(6);
      expect(rtsp.filter((r) => r[0] === 'ANNOUNCE' && r[2] === '0')).toHaveLength(3); // its SDP dissected too
      // The engine's mDNS questions, as tshark reads them.
      const questions = tsharkFields(file, ['dns.qry.name', 'dns.qry.type'], ['-Y', `mdns && ip.src == ${net!.host('b').address} && dns.flags.response == 0`], 'a');
      expect(questions.some((q) => q[0].split(',').includes('_ravenna_session._sub._rtsp._tcp.local') && q[1].split(',').includes('12'))).toBe(true);
      const expert = tsharkExpert(file, ['-o', 'dns.retransmission_timer:0', '-d', 'udp.port==5004,rtp']).filter((e) => e.severity === 'Errors' || e.severity === 'Warns');
      const resets = expert.filter((e) => e.protocol === 'TCP' && /Connection reset \(RST\)/.test(e.summary));
      const others = expert.filter((e) => !resets.includes(e) && !(e.protocol === 'mDNS' && /^DNS (query|response) retransmission/.test(e.summary)));
      expect(others).toEqual([]);
      const refused = results.reduce((n, r) => n + (r.stats.errors['connect-failed'] ?? 0), 0);
      expect(refused).toBeGreaterThan(0);
      expect(resets.reduce((n, e) => n + e.count, 0)).toBe(refused);
      const rst = tsharkFields(file, ['ip.src'], ['-Y', 'tcp.flags.reset == 1']);
      expect(rst.every((r) => r[0] === server)).toBe(true);
    });
  }, 120_000);
});
