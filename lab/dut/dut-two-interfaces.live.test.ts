// Interface-specific multicast binding (help-wanted list in ../shared/seed): the software DUT
// in a namespace with TWO links on different subnets, and the SAME multicast group and port
// sent on both, with different tones:
//
//   ns l1 (10.67.152.1) --- eth1 [ DUT ns: 10.67.152.2 / 10.67.153.2 ] eth2 --- ns l2 (10.67.153.1)
//   GStreamer 997 Hz -> 239.69.152.1:5004            GStreamer 1499 Hz -> 239.69.152.1:5004
//
// The DUT is bound to eth1. A neighbour application in the DUT's namespace (Node dgram, plain
// socket bound to 0.0.0.0:5004, joined on eth2 only, the OS default IP_MULTICAST_ALL=1)
// makes the kernel accept link 2's packets too: this is the trap — such a socket receives
// both links' streams (the test shows that it does). The DUT must receive only link 1's
// stream (its counters: nothing dropped as another SSRC or source, no SSRC change), the
// tone it loops back must be link 1's frequency, and what it sends (RTP and SAP) must leave
// on eth1 only — although the namespace's multicast route points at eth2 — as tshark on
// both links sees it. All namespaces and processes are removed by the test.
//
// The DUT sends on port 5006, not the senders' 5004, so that GStreamer's recorder in l1
// hears nothing but the DUT. udpsrc binds 0.0.0.0:<port>, joins, and only then sets
// IP_MULTICAST_ALL=0 (strace of gst-launch-1.0 1.22: bind, IP_MULTICAST_LOOP,
// IP_ADD_MEMBERSHIP, IP_MULTICAST_ALL 0); udpsink's auto-multicast has joined the sender's
// own group in l1 and loops its packets back. With both on 5004, a sender packet that came
// in that window was the recording's first packet: one glitch at sample 48, seen twice in
// clean-clone rehearsals. Reproduced in a copy of this rig with dumpcap beside the recorder
// (5 runs in 49 with two busy loops, 0 in 12 without): the recording was [sender packet seq
// 16488 to 239.69.45.1][the DUT's stream from seq 589 on, sample for sample as dumpcap saw
// it]; once [sender, DUT, sender, DUT, ... 4 of each] then the DUT alone. The wire had no
// glitch. With the DUT on 5006: 0 in 30 under the same load.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNamespaces, type Namespaces } from '../../ci/netns.ts';
import { attachDut, collect, DUT_BINARY, type DutProcess } from './dut-client.ts';
import { checkTone, missingForDut, readWav, sleep } from './test-support.ts';

const usable = canUseNetns();
const missing = usable.ok ? missingForDut(['gst-launch-1.0', 'tshark']) : usable.reason;
const PREFIX = process.env.A67X_NETNS_PREFIX ?? 'a67xi';
const NET1 = Number(process.env.A67X_SUBNET ?? 152);
const NET2 = NET1 + 1;
const GROUP = `239.69.${NET1}.1`;
const OUT_GROUP = `239.69.${NET1}.2`;
const OUT_PORT = '5006';
const TONE_1 = 997;
const TONE_2 = 1499;
const ip = (args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000, encoding: 'utf8' });

/** The DUT's namespace with eth1 to l1 and eth2 to l2 (names: ci/netns.ts). */
function twoLinks(): Namespaces {
  const spaces = createNamespaces(PREFIX, ['dut', 'l1', 'l2']);
  const dutNs = spaces.ns('dut');
  try {
    for (const key of ['dut', 'l1', 'l2']) ip(['-n', spaces.ns(key), 'link', 'set', 'lo', 'up']);
    ([[1, spaces.ns('l1'), NET1], [2, spaces.ns('l2'), NET2]] as const).forEach(([n, peer, net]) => {
      // Both ends born in their namespaces: no name in the root namespace to clash.
      ip(['-n', dutNs, 'link', 'add', `eth${n}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peer]);
      ip(['-n', dutNs, 'addr', 'add', `10.67.${net}.2/24`, 'dev', `eth${n}`]);
      ip(['-n', peer, 'addr', 'add', `10.67.${net}.1/24`, 'dev', 'eth0']);
      ip(['-n', dutNs, 'link', 'set', `eth${n}`, 'up']);
      ip(['-n', peer, 'link', 'set', 'eth0', 'up']);
      ip(['-n', peer, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
    });
    // The namespace's multicast route points at the OTHER link: the DUT's TX must follow its
    // interface (IP_MULTICAST_IF), not the routing table.
    ip(['-n', dutNs, 'route', 'add', '224.0.0.0/4', 'dev', 'eth2']);
  } catch (e) {
    spaces.destroy();
    throw e;
  }
  return spaces;
}

// A plain receiver as most applications write one (Node's dgram: bound to 0.0.0.0:5004,
// joined on eth2 only, IP_MULTICAST_ALL left at the OS default). Prints the packets it got
// per source as JSON. argv: group, eth2's address, seconds.
const NEIGHBOUR = `
const dgram = require('node:dgram');
const [group, iface, seconds] = process.argv.slice(1);
const seen = {};
const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
s.on('message', (_m, r) => { seen[r.address] = (seen[r.address] || 0) + 1; });
s.bind(5004, '0.0.0.0', () => s.addMembership(group, iface));
setTimeout(() => { console.log(JSON.stringify(seen)); process.exit(0); }, Number(seconds) * 1000);
`;

describe.skipIf(missing !== undefined)(`aes67-dut bound to one of two interfaces in one namespace (${missing ?? 'root, gst-launch-1.0, tshark'})`, () => {
  let spaces: Namespaces | undefined;
  let dut: DutProcess | undefined;
  const procs: ChildProcess[] = [];
  const dir = mkdtempSync(path.join(tmpdir(), 'a67xi-'));
  /** Starts a command in a namespace; afterAll kills what is left. */
  function spawnNs(ns: string, cmd: string, args: string[]): ChildProcess {
    const c = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(c);
    return c;
  }
  const spawnIn = (ns: string, cmd: string, args: string[]) => collect(spawnNs(ns, cmd, args));
  afterAll(async () => {
    await dut?.stop(2_000);
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    spaces?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('receives only its own interface\'s stream (no duplicates, its tone) and sends only on it', async () => {
    spaces = twoLinks();
    const NS = { dut: spaces.ns('dut'), l1: spaces.ns('l1'), l2: spaces.ns('l2') };
    const sender = (ns: string, freq: number) =>
      spawnNs(ns, 'gst-launch-1.0', ['-q', 'audiotestsrc', 'is-live=true', `freq=${freq}`, 'volume=0.5', 'samplesperbuffer=48',
        '!', 'audio/x-raw,format=S24BE,rate=48000,channels=2', '!', 'rtpL24pay', 'min-ptime=1000000', 'max-ptime=1000000', 'pt=96',
        '!', 'udpsink', `host=${GROUP}`, 'port=5004', 'multicast-iface=eth0']);
    // tshark on both links: every UDP datagram (source, destination, port). Each must also see
    // its own link's sender, or an empty answer would prove nothing. (IGMP is left out: the
    // kernel's reports for the neighbour's join on eth2 are not the DUT's.)
    const tsharkOn = (ns: string) => spawnIn(ns, 'tshark', ['-i', 'eth0', '-l', '-f', 'udp', '-T', 'fields', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'udp.dstport']);
    const link1 = tsharkOn(NS.l1);
    const link2 = tsharkOn(NS.l2);
    // Until each says it captures (on a loaded host tshark took longer than a fixed 1.5 s to
    // start: both links came back empty, 2 runs in 8 here), and a little more.
    const capturing = async (t: ReturnType<typeof tsharkOn>, link: string) => {
      for (let i = 0; i < 300 && !/Capturing on/.test(t.stderr); i++) await sleep(100);
      if (!/Capturing on/.test(t.stderr)) throw new Error(`tshark on ${link} did not start capturing within 30 s: ${t.stderr.trim() || 'no output'}`);
    };
    await Promise.all([capturing(link1, 'link 1'), capturing(link2, 'link 2')]);
    await sleep(500);
    const s1 = sender(NS.l1, TONE_1);
    const s2 = sender(NS.l2, TONE_2);

    const config = {
      interface: 'eth1',
      device: { inputChannels: 2, outputChannels: 2, ioBufferFrames: 64, linkOffsetFrames: 4800 },
      rx: [{ id: 'in', sdp: ['v=0', `o=- 1 1 IN IP4 10.67.${NET1}.1`, 's=link 1', `c=IN IP4 ${GROUP}/32`, 't=0 0', 'm=audio 5004 RTP/AVP 96', 'a=rtpmap:96 L24/48000/2', 'a=ptime:1', ''].join('\r\n'), channels: [1, 2] }],
      tx: [{ id: 'back', name: 'DUT on eth1', destination: `${OUT_GROUP}:${OUT_PORT}`, ptimeUs: 1000, channelMap: [1, 2] }],
      sap: { intervalSeconds: 1 },
      control: { listen: `unix:${path.join(dir, 'dut.sock')}` },
      stateDir: dir,
    };
    const file = path.join(dir, 'dut.json');
    writeFileSync(file, JSON.stringify(config));
    dut = await attachDut(spawnNs(NS.dut, DUT_BINARY, ['--config', file]));
    const neighbour = spawnIn(NS.dut, process.execPath, ['-e', NEIGHBOUR, GROUP, `10.67.${NET2}.2`, '4']);

    await sleep(1_500);
    const wav = path.join(dir, 'back.wav');
    const recorder = spawnNs(NS.l1, 'gst-launch-1.0', ['-e', 'udpsrc', `address=${OUT_GROUP}`, `port=${OUT_PORT}`, 'multicast-iface=eth0', 'buffer-size=4194304',
      'caps=application/x-rtp,media=audio,clock-rate=48000,encoding-name=L24,channels=2,payload=96',
      '!', 'rtpL24depay', '!', 'audioconvert', '!', 'audio/x-raw,format=S24LE', '!', 'wavenc', '!', 'filesink', `location=${wav}`]);
    const recOut = collect(recorder);
    await sleep(4_000);
    const status = await dut.client.status();
    recorder.kill('SIGINT');
    const timer = setTimeout(() => recorder.kill('SIGKILL'), 5_000);
    await recOut.exited;
    clearTimeout(timer);
    await neighbour.exited;
    expect(await dut.stop()).toBe(0);
    s1.kill('SIGTERM');
    s2.kill('SIGTERM');
    await sleep(300);
    for (const p of procs) if (p.spawnargs.includes('tshark')) p.kill('SIGINT');
    await Promise.all([link1.exited, link2.exited]);

    const neighbourSaw = JSON.parse(neighbour.stdout.trim() || '{}') as Record<string, number>;
    const rx = status.streams.rx[0];
    const dropped = rx.counters.dropped as Record<string, number>;
    const rows = (s: string) => s.split('\n').filter((l) => l.trim() !== '').map((l) => l.split('\t'));
    const dut1 = `10.67.${NET1}.2`;
    const dut2 = `10.67.${NET2}.2`;
    const rows1 = rows(link1.stdout);
    const rows2 = rows(link2.stdout);
    const out1 = rows1.filter(([src]) => src === dut1).map(([, dst, port]) => [dst, port]);
    const out2 = rows2.filter(([src, dst]) => src === dut2 || src === dut1 || dst === OUT_GROUP);
    const sender2Seen = rows2.filter(([src]) => src === `10.67.${NET2}.1`).length;
    const tones = checkTone(readWav(wav), TONE_1);
    console.log(
      `two links, group ${GROUP}:5004 on both: neighbour socket (0.0.0.0:5004, joined on eth2, IP_MULTICAST_ALL default) got ${JSON.stringify(neighbourSaw)}; ` +
        `DUT on eth1: received ${rx.counters.received}, accepted ${rx.counters.accepted}, dropped ${JSON.stringify(dropped)}, ssrcChanges ${JSON.stringify(rx.counters.ssrcChanges)}; ` +
        `back: ${tones[0].seconds.toFixed(2)} s at ${tones.map((t) => t.fit.frequencyHz.toFixed(3)).join('/')} Hz, glitches ${tones.map((t) => t.glitches.glitches.length).join('/')}; ` +
        `DUT packets seen on link 1: ${out1.length} (${[...new Set(out1.map((r) => r.join(':')))].join(', ')}), on link 2: ${out2.length} (tshark there saw ${sender2Seen} of link 2's sender)`,
    );
    // The trap is real: a default socket in the same namespace gets both links' streams.
    expect(neighbourSaw[`10.67.${NET1}.1`], 'the neighbour socket got link 1 (the DUT joined there)').toBeGreaterThan(100);
    expect(neighbourSaw[`10.67.${NET2}.1`], 'the neighbour socket got link 2').toBeGreaterThan(100);
    // The DUT: one stream, no duplicate, no foreign packet.
    expect(Object.values(dropped).reduce((a, b) => a + b, 0), JSON.stringify(dropped)).toBe(0);
    expect(rx.counters.received).toBe(rx.counters.accepted);
    expect(rx.playout.glitches).toBe(0);
    // ~1000 packets a second from one sender, not ~2000 from two (the DUT ran ~7 s before the status).
    const perSecond = (rx.counters.received as number) / status.uptimeS;
    expect(perSecond).toBeLessThan(1100);
    expect(perSecond).toBeGreaterThan(500);
    for (const t of tones) {
      expect(t.seconds).toBeGreaterThan(2.5);
      expect(Math.abs(t.fit.frequencyHz - TONE_1), `channel ${t.channel}: link 1's tone`).toBeLessThan(0.5);
      // Every sample, the first packet's too (see the top: the recorder's port is the DUT's alone).
      expect(t.glitches.glitches).toEqual([]);
    }
    // TX: RTP and SAP leave on eth1; nothing from the DUT on link 2.
    expect(out1.some(([dst, port]) => dst === OUT_GROUP && port === OUT_PORT)).toBe(true);
    expect(out1.some(([dst, port]) => dst === '239.255.255.255' && port === '9875'), 'SAP on link 1').toBe(true);
    expect(sender2Seen, 'tshark on link 2 was capturing').toBeGreaterThan(1000);
    expect(out2, `nothing from the DUT (or to ${OUT_GROUP}) on link 2`).toEqual([]);
  }, 90_000);
});
