// The engine's DNS codec and DNS-SD browser (C++, engine/mdns) crossed with independent
// implementations: dns-packet (the codec multicast-dns and the lab's mDNS peers use)
// writes random mDNS responses the engine must read to the same records, and damaged
// copies the engine must either refuse or read as dns-packet does; the engine's browser
// finds the lab's RavennaSender (its MdnsResponder, lab/net/mdns-responder.ts, answering
// the engine's own questions) in virtual time, agrees with the lab's MdnsBrowser, sees the
// goodbye; and EngineRavennaSession goes from the session name to its SDP and follows
// its ANNOUNCE, all in the engine.
import fc from 'fast-check';
import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { addonBuilt, loadNative } from '../index.ts';
import { EngineRavennaSession } from '../mdns.ts';
import type { NativeRtspClient } from '../rtsp.ts';
import { runVirtual, virtualHost } from '../../lab/net/lab-transport.ts';
import { MdnsBrowser } from '../../lab/net/mdns-browser.ts';
import { linearTimescale } from '../../lab/net/ptp-timescale.ts';
import { VirtualStreamHub } from '../../lab/net/rtsp-stream.ts';
import { RavennaSender } from '../../lab/peers/ravenna-sender.ts';

const TYPES: Record<string, number> = { A: 1, PTR: 12, TXT: 16, SRV: 33 };
const native = addonBuilt() ? loadNative() : (undefined as never);

// Labels as DNS-SD instance names are: UTF-8 with spaces and commas, no dots (dns-packet splits on them).
const label = fc.stringMatching(/^[A-Za-z0-9 _,()-]{1,20}$/).filter((l) => l.trim() === l && l !== '');
const utf8Label = fc.oneof(label, fc.constantFrom('Régie 1', 'Studio ü', 'スタジオ'));
const nameArb = fc.array(utf8Label, { minLength: 1, maxLength: 4 }).map((l) => `${l.join('.')}.local`);
const recordArb = fc.oneof(
  fc.record({ type: fc.constant('PTR' as const), name: nameArb, ttl: fc.nat({ max: 2 ** 31 - 1 }), flush: fc.boolean(), data: nameArb }),
  fc.record({ type: fc.constant('A' as const), name: nameArb, ttl: fc.nat({ max: 2 ** 31 - 1 }), flush: fc.boolean(), data: fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.')) }),
  fc.record({
    type: fc.constant('SRV' as const),
    name: nameArb,
    ttl: fc.nat({ max: 2 ** 31 - 1 }),
    flush: fc.boolean(),
    data: fc.record({ priority: fc.nat(65535), weight: fc.nat(65535), port: fc.nat(65535), target: nameArb }),
  }),
  fc.record({ type: fc.constant('TXT' as const), name: nameArb, ttl: fc.nat({ max: 2 ** 31 - 1 }), flush: fc.boolean(), data: fc.array(fc.stringMatching(/^[ -~]{0,40}$/), { minLength: 1, maxLength: 4 }) }),
);
type Rec = typeof recordArb extends fc.Arbitrary<infer T> ? T : never;

/** What the engine should say about a record dns-packet has (or would have) decoded. */
function expected(r: { type: string; name: string; ttl?: number; flush?: boolean; data: unknown }) {
  const data = r.type === 'TXT' ? (r.data as (string | Buffer)[]).map((s) => Buffer.from(s).toString('latin1')) : r.data;
  return { name: r.name, type: TYPES[r.type], class: 1, flush: r.flush ?? false, ttl: r.ttl ?? 0, data };
}

/** The engine's record as dns-packet shows one: TXT strings as text, names without the engine's escapes of '.' and '\\' in labels (dns-packet joins labels as they are). */
function fromEngine(r: { name: string; type: number; class: number; flush: boolean; ttl: number; data: unknown }) {
  const plain = (n: string) => n.replace(/\\(.)/g, '$1');
  let data = r.data;
  if (r.type === 16) data = (r.data as Buffer[]).map((b) => b.toString('latin1'));
  if (r.type === 12) data = plain(r.data as string);
  if (r.type === 33) data = { ...(r.data as object), target: plain((r.data as { target: string }).target) };
  return { ...r, name: plain(r.name), data };
}

describe.skipIf(!addonBuilt())('engine DNS codec crossed with dns-packet', () => {
  it('reads every random mDNS response dns-packet writes to the same records', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 6 }), fc.array(recordArb, { maxLength: 6 }), (answers: Rec[], additionals: Rec[]) => {
        const bytes = dnsPacket.encode({ type: 'response', id: 0, flags: dnsPacket.AUTHORITATIVE_ANSWER, answers, additionals } as dnsPacket.Packet);
        const r = native.parseDns(bytes);
        if (r.error !== undefined) throw new Error(`engine refused: ${r.error}`);
        expect(r.response).toBe(true);
        expect(r.answers.map(fromEngine)).toEqual(answers.map(expected));
        expect(r.additionals.map(fromEngine)).toEqual(additionals.map(expected));
      }),
      { numRuns: 1000 },
    );
  });

  it('damaged packets: never a crash, and where both read one, the same records', () => {
    const damaged = fc.tuple(fc.array(recordArb, { minLength: 1, maxLength: 5 }), fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(255)), { minLength: 1, maxLength: 4 }), fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }));
    let bothRead = 0;
    fc.assert(
      fc.property(damaged, ([answers, edits, cut]) => {
        const bytes = Buffer.from(dnsPacket.encode({ type: 'response', id: 0, flags: 0x8400, answers } as dnsPacket.Packet));
        for (const [at, value] of edits) bytes[Math.min(bytes.length - 1, Math.floor(at * bytes.length))] = value;
        const input = cut === undefined ? bytes : bytes.subarray(0, Math.floor(cut * bytes.length));
        const engine = native.parseDns(input);
        let lab: dnsPacket.DecodedPacket | undefined;
        try {
          lab = dnsPacket.decode(input);
        } catch {
          lab = undefined;
        }
        if (engine.error !== undefined || !lab) return;
        // Only the types the engine reads into fields, with data dns-packet could read in full.
        const keep = (r: { type: string }) => ['A', 'PTR', 'SRV', 'TXT'].includes(r.type);
        const labRecords = [...(lab.answers ?? [])].filter(keep) as unknown as { type: string; name: string; ttl: number; flush: boolean; data: unknown; class: string }[];
        const engineRecords = engine.answers.filter((r) => [1, 12, 16, 33].includes(r.type));
        if (labRecords.some((r) => r.class !== 'IN') || engineRecords.length !== labRecords.length) return;
        bothRead++;
        expect(engineRecords.map(fromEngine)).toEqual(labRecords.map(expected));
      }),
      { numRuns: 3000 },
    );
    expect(bothRead).toBeGreaterThan(100); // the comparison really ran
  });
});

function world() {
  const clock = new native.VirtualClock(0);
  const network = new native.VirtualNetwork(clock, 40_000);
  const hub = new VirtualStreamHub(() => clock.now(), 60_000);
  return { clock, network, hub, tx: virtualHost(network, clock, '10.67.181.1'), rx: virtualHost(network, clock, '10.67.181.2') };
}

const SESSION = 'Stage box 3, Régie';

function ravenna(w: ReturnType<typeof world>, rtspPort = 8554) {
  return new RavennaSender({
    transport: w.tx,
    timescale: linearTimescale(),
    streams: w.hub.host('10.67.181.1'),
    sessionName: SESSION,
    deviceName: 'Horus-181',
    rtspPort,
    destination: '239.1.181.1',
    channels: 2,
    sampleRate: 48000,
    encoding: 'L24',
    framesPerPacket: 48,
    grandmaster: '00-1D-C1-FF-FE-50-36-33',
    signal: { kind: 'silence' },
  });
}

describe.skipIf(!addonBuilt())('engine DNS-SD browser against the lab RavennaSender on the virtual network', () => {
  it('finds the session by its name, as the lab browser does, and sees its goodbye', () => {
    const w = world();
    const sender = ravenna(w);
    const engine = new native.DnsSdBrowser({ network: w.network, host: '10.67.181.2' });
    const lab = new MdnsBrowser({ transport: w.rx });
    const actors = [sender, lab, { poll: () => engine.poll() ?? Infinity }];
    runVirtual(actors, w.network, w.clock, { untilNs: 3e9 });
    const found = engine.find(SESSION);
    const theirs = lab.find(SESSION)!;
    expect(found).toEqual({ name: SESSION, fqdn: `${SESSION}._rtsp._tcp.local`, host: theirs.host, address: '10.67.181.1', port: 8554, txt: theirs.txt });
    expect(theirs).toMatchObject({ address: '10.67.181.1', port: 8554 });
    expect(engine.instances()).toHaveLength(1); // the device's own instance (_ravenna) is another subtype
    // The lab's responder read the engine's questions (dns-packet decoding the engine's writer).
    expect(sender.mdns.stats.queries).toBeGreaterThan(lab.stats.queries);
    expect(engine.stats()).toMatchObject({ cacheFull: 0, sendErrors: 0, dropped: { truncated: 0, 'bad-name': 0, 'bad-pointer': 0, 'bad-rdata': 0, 'too-many-records': 0 } });
    sender.close(); // goodbye: TTL 0
    runVirtual([lab, { poll: () => engine.poll() ?? Infinity }], w.network, w.clock, { untilNs: 5e9 });
    expect(engine.stats().goodbyes).toBeGreaterThan(0);
    expect(engine.find(SESSION)).toBeNull();
    expect(lab.find(SESSION)).toBeUndefined();
  });

  it('EngineRavennaSession: from the session name to its SDP, and the ANNOUNCE followed', () => {
    const w = world();
    const sender = ravenna(w, 9554);
    const follower = new EngineRavennaSession({
      browser: new native.DnsSdBrowser({ network: w.network, host: '10.67.181.2' }),
      makeClient: (o) => new native.RtspClient(o) as NativeRtspClient,
      streams: w.hub.host('10.67.181.2'),
      sessionName: SESSION,
    });
    runVirtual([sender, follower], w.network, w.clock, { untilNs: 3e9 });
    expect(follower.url).toBe(sender.url);
    expect(follower.current()).toBe(sender.sdp());
    sender.update({ channels: 8 });
    runVirtual([sender, follower], w.network, w.clock, { untilNs: 3.5e9 });
    expect(follower.current()).toBe(sender.sdp());
    expect(follower.current()).toContain('L24/48000/8');
    expect(follower.events.map((e) => e.kind)).toEqual(['description', 'changed']);
    expect(sender.rtsp.stats).toMatchObject({ describes: 1, announces: 1, announceReplies: 1, errors: {} });
    follower.close();
    sender.close();
  });
});
