// Crossing: Wireshark's dissectors read everything the software DUT and the lab's peers put
// on the wire. In namespaces: the lab's PTP grandmaster (`aes67-lab emulate grandmaster`),
// the lab's Dante-style sender (RTP + SAP), the lab's RAVENNA-style sender (RTP, mDNS,
// RTSP), the lab's AES67 sender (8 channels, 250 µs, SAP), and the DUT with PTP on (so it sends Delay_Req), an RX stream by RTSP URL (so it
// speaks RTSP) and a TX stream announced by SAP. The lab's own capture (`aes67-lab capture`,
// libpcap through `cap`, pcapng written by the lab) runs in the DUT's namespace, where both
// the flooded multicast and the DUT's unicast RTSP pass. tshark then reads that file:
// - it opens with nothing on stderr (a lab-written pcapng tshark accepts as it is);
// - no packet is malformed and no expert-info entry has severity error (warnings listed);
// - it recognised every protocol: ptp, sap, sdp, rtsp, mdns, rtp (RTP by decode-as on the
//   media port: RTP has no well-known port), and the DUT's own Delay_Req, SAP and RTSP.
// Seen and written down, not failures: tshark 4.0's one-pass summary (-z expert, no display
// filter) adds a note "Malformed SDP: Invalid SDP line (no '=' delimiter)" to every SAP
// packet — the DUT's, the lab's senders', and VLC 3.0's alike (checked by hand on a VLC
// capture) — that disappears when the dissection tree is built (-V, -Y), which is what
// the checks below and Wireshark's GUI use. A hand-made pair of SAP packets, identical but
// for RFC 2974's optional payload type "application/sdp\0", shows it comes with that field
// only (presumably the tree-less pass does not step over the type string); and warnings "DNS query/response
// retransmission" for the RAVENNA sender's mDNS probes and repeated announcements, which
// RFC 6762 §8.1/§8.3 asks for.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetns, type Netns } from '../../ci/netns.ts';
import { projectRoot } from '../../native/index.ts';
import { tsharkFields } from '../net/tshark.ts';
import { attachDut, collect, DUT_BINARY, type DutProcess } from './dut-client.ts';
import { missingForDut, sleep } from './test-support.ts';

const usable = canUseNetns();
const missing = usable.ok ? missingForDut(['tshark']) : usable.reason;
const SUBNET = 154;
const LAB = path.join(projectRoot, 'lab/cli/bin.ts');
// RTP has no well-known port: tell tshark where it is (5004 is every stream's port here).
const DECODE_AS = ['-d', 'udp.port==5004,rtp'];

describe.skipIf(missing !== undefined)(`tshark dissects what aes67-dut and the lab's peers send (${missing ?? 'root, tshark'})`, () => {
  let net: Netns | undefined;
  let dut: DutProcess | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'a67xw-'));
  afterAll(async () => {
    await dut?.stop(2_000);
    net?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('PTP, SAP/SDP, RTSP, mDNS, RTP: all recognised, nothing malformed, no expert error', async () => {
    net = createNetns({ prefix: 'a67xw', hosts: ['dut', 'gm', 'dante', 'rav', 'aes67'], subnet: SUBNET });
    const dutAddress = net.host('dut').address;
    const lab = (host: string, args: string[]) => {
      const child = net!.spawn(host, process.execPath, ['--import', 'tsx', LAB, ...args], { cwd: projectRoot });
      return { child, out: collect(child) };
    };
    const waitFor = async (what: string, get: () => string, re: RegExp, ms = 30_000) => {
      const t0 = Date.now();
      while (!re.test(get()) && Date.now() - t0 < ms) await sleep(100);
      const m = get().match(re);
      if (!m) throw new Error(`${what}: no ${re} within ${ms} ms:\n${get()}`);
      return m;
    };

    const file = path.join(dir, 'all.pcapng');
    const capture = lab('dut', ['capture', '--interface', 'eth0', '--seconds', '60', '--max-packets', '200000', '-o', file]);
    await waitFor('aes67-lab capture', () => capture.out.stderr, /capturing on eth0/);

    const gm = lab('gm', ['emulate', 'grandmaster', '--interface', 'eth0', '--seconds', '40']);
    const dante = lab('dante', ['emulate', 'dante', '--interface', 'eth0', '--device-name', 'Lab Dante', '--sap-interval', '1', '--seconds', '40']);
    const rav = lab('rav', ['emulate', 'ravenna', '--interface', 'eth0', '--session-name', 'Lab RAVENNA', '--destination', `239.69.${SUBNET}.3`,
      '--rtsp-port', '8554', '--ptime-us', '1000', '--seconds', '40']);
    const aes67 = lab('aes67', ['emulate', 'sender', '--interface', 'eth0', '--destination', `239.69.${SUBNET}.4`, '--channels', '8', '--ptime-us', '250',
      '--session-name', 'Lab AES67', '--sap', '239.255.255.255', '--sap-interval', '1', '--seconds', '40']);
    const url = (await waitFor('aes67-lab emulate ravenna', () => rav.out.stderr, /: (rtsp:\/\/\S+)/))[1];

    const config = {
      interface: 'eth0',
      device: { inputChannels: 2, outputChannels: 2, ioBufferFrames: 64, linkOffsetFrames: 4800 },
      ptp: { domain: 0 },
      rx: [{ id: 'ravenna', rtsp: url, timing: 'sender', channels: [1, 2] }],
      tx: [{ id: 'out', name: 'DUT under Wireshark', destination: `239.69.${SUBNET}.2:5004`, ptimeUs: 1000, channelMap: [1, 2] }],
      sap: { intervalSeconds: 1 },
      control: { listen: `unix:${path.join(dir, 'dut.sock')}` },
      stateDir: dir,
    };
    const configFile = path.join(dir, 'dut.json');
    writeFileSync(configFile, JSON.stringify(config));
    dut = await attachDut(net.spawn('dut', DUT_BINARY, ['--config', configFile]));
    const t0 = Date.now();
    let status = await dut.client.status();
    while (!(status.ptp.locked && status.streams.rx[0]?.active) && Date.now() - t0 < 30_000) {
      await sleep(500);
      status = await dut.client.status();
    }
    await sleep(3_000);
    status = await dut.client.status();
    expect(await dut.stop()).toBe(0); // SAP deletions, RTSP connection closed
    for (const p of [gm, dante, rav, aes67]) p.child.kill('SIGTERM'); // Dante's SAP deletion, mDNS goodbyes
    await Promise.all([gm, dante, rav, aes67].map((p) => p.out.exited));
    await sleep(500);
    capture.child.kill('SIGTERM');
    await capture.out.exited;
    expect(existsSync(file), capture.out.stderr).toBe(true);
    console.log(`capture: ${capture.out.stdout.trim()} (${statSync(file).size} bytes); DUT ptp locked ${status.ptp.locked}, rx ${JSON.stringify(status.streams.rx[0]?.counters)}`);

    if (process.env.A67X_KEEP) execFileSync('cp', [file, process.env.A67X_KEEP]);
    // The file opens in tshark with nothing on stderr (tshark warns there about a damaged or cut file).
    const opened = spawnSync('tshark', ['-r', file, '-q'], { encoding: 'utf8' });
    expect(opened.status, opened.stderr).toBe(0);
    expect(opened.stderr.split('\n').filter((l) => l.trim() !== '' && !/running as user "root"/i.test(l))).toEqual([]);

    // Every protocol recognised.
    const rows = tsharkFields(file, ['frame.protocols', 'ip.src', 'ptp.v2.messagetype', 'rtsp.method', 'sap.flags.t'], DECODE_AS);
    const protocols = new Map<string, number>();
    for (const [stack] of rows) for (const p of new Set(stack.split(':'))) protocols.set(p, (protocols.get(p) ?? 0) + 1);
    const fromDut = rows.filter((r) => r[1] === dutAddress);
    const summary = ['ptp', 'sap', 'sdp', 'rtsp', 'mdns', 'rtp'].map((p) => `${p} ${protocols.get(p) ?? 0}`).join(', ');
    // Expert entries of every severity, for the record; errors and malformed must be none.
    const expert = execFileSync('tshark', ['-r', file, ...DECODE_AS, '-q', '-z', 'expert'], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
    const bad = tsharkFields(file, ['frame.number', 'frame.protocols', '_ws.expert.message'], [...DECODE_AS, '-Y', '_ws.malformed || _ws.expert.severity >= 0x800000 || _ws.expert.group == 0x07000000']);
    // tshark's summary (-z expert) has sections "Errors (n)", "Warns (n)", "Notes (n)", "Chats (n)".
    const section = (name: string) => Number(expert.match(new RegExp(`^${name} \\((\\d+)\\)`, 'm'))?.[1] ?? 0);
    const warnings = tsharkFields(file, ['frame.number', 'frame.protocols', '_ws.expert.message'], [...DECODE_AS, '-Y', '_ws.expert.severity == 0x600000']);
    console.log(`tshark on ${rows.length} packets: ${summary}; from the DUT: ${fromDut.length} (Delay_Req ${fromDut.filter((r) => Number(r[2]) === 1).length}, ` +
      `RTSP requests ${fromDut.filter((r) => r[3] !== '').map((r) => r[3]).join(',')}, SAP ${fromDut.filter((r) => r[4] !== '').length}); ` +
      `malformed/error ${bad.length}, warnings ${warnings.length}${warnings.length ? `: ${[...new Set(warnings.map((w) => `${w[1]}: ${w[2]}`))].slice(0, 5).join(' | ')}` : ''}\n${expert}`);
    for (const p of ['ptp', 'sap', 'sdp', 'rtsp', 'mdns', 'rtp']) expect(protocols.get(p) ?? 0, `tshark recognised ${p}`).toBeGreaterThan(0);
    expect(fromDut.some((r) => Number(r[2]) === 1), 'the DUT\'s Delay_Req').toBe(true);
    // Every PTP message of an E2E two-step exchange, as tshark names them: Sync 0, Delay_Req 1, Follow_Up 8, Delay_Resp 9, Announce 11.
    const ptpTypes = new Set(rows.filter((r) => r[2] !== '').map((r) => Number(r[2])));
    for (const t of [0, 1, 8, 9, 11]) expect(ptpTypes.has(t), `PTP message type ${t} seen (have ${[...ptpTypes].join(',')})`).toBe(true);
    expect(rows.some((r) => r[0].split(':').includes('rtsp') && r[1] === net!.host('rav').address), 'the RAVENNA sender\'s RTSP reply').toBe(true);
    expect(fromDut.some((r) => r[3] === 'DESCRIBE'), 'the DUT\'s RTSP DESCRIBE').toBe(true);
    expect(fromDut.some((r) => r[4] === '0'), 'the DUT\'s SAP announcement').toBe(true);
    expect(fromDut.some((r) => r[4] === '1'), 'the DUT\'s SAP deletion').toBe(true);
    expect(fromDut.some((r) => r[0].split(':').includes('rtp')), 'the DUT\'s RTP').toBe(true);
    // The peers' part.
    for (const host of ['gm', 'dante', 'rav', 'aes67']) expect(rows.some((r) => r[1] === net!.host(host).address), `${host} was heard`).toBe(true);
    expect(bad, 'malformed packets, expert errors or Malformed-group entries').toEqual([]);
    expect(section('Errors'), `no expert error in tshark's summary:\n${expert}`).toBe(0);
  }, 150_000);
});
