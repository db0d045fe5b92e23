import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { addonBuilt, loadNative } from '../../native/index.ts';
import { runVirtual, virtualHost } from './lab-transport.ts';
import { decodeDns, encodeDns, MDNS_ENDPOINT, RAVENNA_SESSION_SUBTYPE, RTSP_SERVICE } from './mdns.ts';
import { MdnsResponder } from './mdns-responder.ts';
import { MdnsBrowser } from './mdns-browser.ts';
import { withTempDir } from './test-support.ts';
import { tsharkFields } from './tshark.ts';
import { tsharkExpert, tsharkSeriousExpert } from '../peers/test-support.ts';
import { VirtualCapture } from '../peers/virtual-capture.ts';

const NAME = 'Régie 1, mix 2ch';

function world() {
  const native = loadNative();
  const clock = new native.VirtualClock(0);
  const network = new native.VirtualNetwork(clock, 40_000);
  return { clock, network, a: virtualHost(network, clock, '10.67.147.1'), b: virtualHost(network, clock, '10.67.147.2'), c: virtualHost(network, clock, '10.67.147.3') };
}

describe.skipIf(!addonBuilt())('mDNS / DNS-SD in virtual time', () => {
  it('probes 3 times 250 ms apart, announces twice 1 s apart, and a browser resolves the instance (tshark reads every packet cleanly)', () => {
    const w = world();
    withTempDir((dir) => {
      const file = path.join(dir, 'mdns.pcapng');
      const cap = new VirtualCapture(w.network, file);
      const responder = new MdnsResponder({ transport: w.a, hostLabel: 'ravenna-a' });
      responder.addService({ instance: NAME, service: RTSP_SERVICE, subtypes: [RAVENNA_SESSION_SUBTYPE], port: 8554, txt: ['ver=1'] });
      const browser = new MdnsBrowser({ transport: w.b });
      runVirtual([responder, browser], w.network, w.clock, { untilNs: 3e9 });
      cap.close();
      expect(browser.find(NAME)).toEqual({ name: NAME, fqdn: `${NAME}._rtsp._tcp.local`, host: 'ravenna-a.local', address: '10.67.147.1', port: 8554, txt: ['ver=1'] });
      expect(responder.stats).toMatchObject({ probes: 3, announcements: 2, conflicts: 0 });
      expect(tsharkSeriousExpert(file)).toEqual([]);
      expect(tsharkExpert(file).filter((e) => e.summary.includes('Malformed'))).toEqual([]);
      const rows = tsharkFields(file, ['frame.time_relative', 'ip.src', 'dns.flags.response', 'dns.qry.name', 'dns.resp.name', 'dns.srv.port', 'dns.a'], ['-Y', 'mdns'], 'a');
      const fromA = rows.filter((r) => r[1] === '10.67.147.1');
      const probes = fromA.filter((r) => r[2] === '0');
      expect(probes).toHaveLength(3);
      const t = probes.map((r) => Number(r[0]));
      expect(t[1] - t[0]).toBeCloseTo(0.25, 6);
      expect(t[2] - t[1]).toBeCloseTo(0.25, 6);
      expect(probes.every((r) => r[3] === `${NAME}._rtsp._tcp.local`)).toBe(true);
      const answers = fromA.filter((r) => r[2] === '1');
      expect(answers.length).toBeGreaterThanOrEqual(2);
      // Every answer carries the instance's SRV port and the host's address (additionals included).
      for (const r of answers) {
        expect(r[5]).toBe('8554');
        expect(r[6]).toBe('10.67.147.1');
        // (names are joined by "," and this one contains a comma: look for each whole name)
        for (const name of [`${NAME}._rtsp._tcp.local`, 'ravenna-a.local']) expect(r[4]).toContain(name);
      }
      responder.close();
      browser.close();
    });
  });

  it('renames on a conflict while probing, says goodbye on removal, and the browser follows both', () => {
    const w = world();
    const first = new MdnsResponder({ transport: w.a, hostLabel: 'dev-a' });
    first.addService({ instance: 'Mix', service: RTSP_SERVICE, subtypes: [RAVENNA_SESSION_SUBTYPE], port: 554 });
    const browser = new MdnsBrowser({ transport: w.c });
    runVirtual([first, browser], w.network, w.clock, { untilNs: 3e9 });
    const second = new MdnsResponder({ transport: w.b, hostLabel: 'dev-b' });
    second.addService({ instance: 'Mix', service: RTSP_SERVICE, subtypes: [RAVENNA_SESSION_SUBTYPE], port: 555 });
    // The browser's next query (or the second's probe) makes the first answer; the second hears it.
    runVirtual([first, second, browser], w.network, w.clock, { untilNs: 40e9 });
    expect(second.stats.conflicts).toBe(1);
    expect(second.instanceOf('Mix', RTSP_SERVICE)).toBe('Mix (2)');
    expect(browser.instances().map((i) => [i.name, i.address, i.port]).sort()).toEqual([['Mix (2)', '10.67.147.2', 555], ['Mix', '10.67.147.1', 554]]);
    first.removeService('Mix', RTSP_SERVICE);
    runVirtual([first, second, browser], w.network, w.clock, { untilNs: 40.5e9 });
    expect(browser.find('Mix')).toBeDefined(); // a goodbye removes the record one second later (RFC 6762 §10.1)
    runVirtual([first, second, browser], w.network, w.clock, { untilNs: 41.5e9 });
    expect(browser.find('Mix')).toBeUndefined();
    expect(first.stats.goodbyes).toBe(1);
  });

  it('answers a legacy unicast query (source port not 5353) by unicast, echoing its ID, TTL at most 10 s; counts bad packets', () => {
    const w = world();
    const responder = new MdnsResponder({ transport: w.a, hostLabel: 'dev-a' });
    responder.addService({ instance: 'Mix', service: RTSP_SERVICE, subtypes: [RAVENNA_SESSION_SUBTYPE], port: 554 });
    runVirtual([responder], w.network, w.clock, { untilNs: 3e9 });
    const q = w.b.open();
    q.send(MDNS_ENDPOINT, encodeDns({ type: 'query', id: 4242, flags: 0, questions: [{ name: '_ravenna_session._sub._rtsp._tcp.local', type: 'PTR' }] }));
    q.send(MDNS_ENDPOINT, Buffer.from([1, 2, 3]));
    runVirtual([responder], w.network, w.clock, { untilNs: 3.1e9 });
    const d = q.receive()!;
    expect(d.source).toBe('10.67.147.1:5353');
    const p = decodeDns(d.data);
    expect(p.id).toBe(4242);
    expect(p.questions?.[0].name).toBe('_ravenna_session._sub._rtsp._tcp.local');
    expect(p.answers?.[0]).toMatchObject({ type: 'PTR', data: 'Mix._rtsp._tcp.local' });
    for (const r of [...(p.answers ?? []), ...(p.additionals ?? [])]) expect((r as { ttl: number }).ttl).toBeLessThanOrEqual(10);
    expect(responder.stats.bad).toBe(1);
  });

  it('names what DNS cannot carry', () => {
    const w = world();
    const r = new MdnsResponder({ transport: w.a, hostLabel: 'dev-a' });
    expect(() => r.addService({ instance: 'a.b', service: RTSP_SERVICE, port: 554 })).toThrow(/contains a dot/);
    expect(() => r.addService({ instance: 'x'.repeat(64), service: RTSP_SERVICE, port: 554 })).toThrow(/63/);
    expect(() => r.addService({ instance: 'ok', service: 'rtsp', port: 554 })).toThrow(/_name._tcp/);
    expect(() => new MdnsResponder({ transport: w.b, hostLabel: 'bad label' })).toThrow(/host name/);
  });
});
