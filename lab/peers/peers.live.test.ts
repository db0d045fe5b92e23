// The emulated peers live between network namespaces: each device runs as `aes67-lab
// emulate ...` in its own namespace, the lab's receiving side (live-receiver.ts) in
// another, tshark captures on the receiver's interface, and independent tools cross the
// discovery and RTSP paths (the multicast-dns package's querier, ffprobe's RTSP client).
import { afterAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { chmodSync } from 'node:fs';
import { projectRoot } from '../../native/index.ts';
import { canUseNetns, createNetns, type Netns } from '../../ci/netns.ts';
import { watch } from '../../ci/watched-child.ts';
import { withTempDir } from '../net/test-support.ts';
import { tsharkFields } from '../net/tshark.ts';
import { describeAes67 } from '../net/sdp.ts';
import { tsharkSeriousExpert } from './test-support.ts';

const usable = canUseNetns();
const BIN = path.join(projectRoot, 'lab/cli/bin.ts');
const RECEIVER = path.join(projectRoot, 'lab/peers/live-receiver.ts');
const L24_LSB = 2 ** -23;

/** tshark on a host's interface until stopped (SIGINT, it then closes the file), at most 60 s. */
function startCapture(net: Netns, host: string, file: string) {
  const child = net.spawn(host, 'tshark', ['-q', '-i', 'eth0', '-a', 'duration:60', '-w', file]);
  return { ...watch(child, 80_000, 'Capturing on'), stop: () => child.kill('SIGINT') };
}

function startReceiver(net: Netns, host: string, options: object) {
  const child = net.spawn(host, process.execPath, ['--import', 'tsx', RECEIVER, JSON.stringify(options)], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  return watch(child, 60_000, 'listening on');
}

/** An emulator that outlives the receiver: stopped with SIGINT (a clean stop, as a user's Ctrl-C) once the receiver is done. */
function startEmulator(net: Netns, host: string, args: string[]) {
  const child = net.spawn(host, process.execPath, ['--import', 'tsx', BIN, 'emulate', ...args, '--seconds', '40'], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  return { ...watch(child, 60_000), stop: () => child.kill('SIGINT') };
}

type Fit = { frequencyHz: number; amplitude: number; maxResidual: number };
type Subscription = { stream: { channels: number; destination: string; framesPerPacket: number }; metrics: { packets: number; expected: number; lost: number; duplicates: number; ssrcChanges: number }; frames: number; missingFrames: number; mismatchedFrames: number; fits: Fit[] };
const SIGNAL = { kind: 'sine', frequencyHz: 997, levelDbfs: -20, channelStepHz: 100 };

/**
 * Every frame that arrived is the sender's signal at its absolute index (to 2 LSB), and every
 * missing frame belongs to a lost packet. Live on a loaded 2-core host the receiving process
 * can stall longer than its socket buffer holds (the native UDP socket has no SO_RCVBUF
 * option yet, and net.core.rmem_default is not per namespace), so a little loss is allowed
 * and must be accounted for; a gap in the audio without a lost packet is not.
 */
function expectSignalIntact(s: Subscription, channels: number, minFrames: number) {
  expect(s.stream.channels).toBe(channels);
  expect(s.frames).toBeGreaterThan(minFrames);
  expect(s.mismatchedFrames).toBe(0);
  expect(s.missingFrames).toBe(s.metrics.lost * s.stream.framesPerPacket);
  expect(s.metrics.lost / s.metrics.expected, JSON.stringify(s.metrics)).toBeLessThan(0.05);
  expect(s.metrics.duplicates).toBe(0);
  // Without loss the recording is one continuous sine per channel, at its own frequency.
  if (s.metrics.lost === 0) {
    s.fits.forEach((f, c) => {
      expect(f.frequencyHz).toBeCloseTo(997 + 100 * c, 1);
      expect(f.maxResidual).toBeLessThan(8 * L24_LSB);
    });
  }
}

describe.skipIf(!usable.ok)(`emulated peers between namespaces (${usable.reason ?? 'root'})`, () => {
  let net: Netns | undefined;
  afterAll(() => net?.destroy());

  it('a Dante-style flow is found by the lab\'s SAP listener and subscribed by the Aes67Receiver and the Dante receiver; tshark dissects SAP and RTP cleanly', async () => {
    net = createNetns({ prefix: 'a67e1-', hosts: ['a', 'b'], subnet: 141 });
    await withTempDir(async (dir) => {
      const file = path.join(dir, 'dante.pcapng');
      chmodForCapture(dir);
      const cap = startCapture(net!, 'b', file);
      await cap.ready;
      const rx = startReceiver(net!, 'b', { interface: 'eth0', seconds: 11, mode: 'sap', name: 'AVIO-LAB : 1', expectSignal: SIGNAL });
      await rx.ready;
      const tx = startEmulator(net!, 'a', ['dante', '--interface', 'eth0', '--device-name', 'AVIO-LAB', '--channels', '2', '--labels', 'Left,Right', '--sap-interval', '1', '--channel-step', '100', '--json']);
      const r = await rx.exited;
      tx.stop();
      const t = await tx.exited;
      expect(t.code, t.stderr).toBe(0);
      expect(r.code, r.stderr).toBe(0);
      await new Promise((r) => setTimeout(r, 300)); // the last packets reach the capture
      cap.stop();
      await cap.exited;
      const sent = JSON.parse(t.stdout.trim().split('\n').pop()!);
      const got = JSON.parse(r.stdout);
      expect(got.sap.sessions.map((s: { name: string; from: string }) => [s.name, s.from.split(':')[0]])).toEqual([['AVIO-LAB : 1', '10.67.141.1']]);
      expect(got.sdp).toBe(sent.sdp);
      expect(describeAes67(got.sdp).channelLabels).toEqual(['Left', 'Right']);
      expect(got.subscriptions).toHaveLength(1);
      expectSignalIntact(got.subscriptions[0], 2, 3 * 48000);
      // The Dante receiver subscribed; its window verdict depends on this host's real-time
      // scheduling, so only the states that mean "routed" are accepted here.
      expect(got.dante.packets).toBeGreaterThan(2000);
      expect(['subscribed', 'no-audio']).toContain(got.dante.state);
      expect(typeof got.dante.worstMarginNs).toBe('number');
      expect(got.danteAudio.mismatchedFrames).toBe(0);

      expect(tsharkSeriousExpert(file, ['-d', 'udp.port==5004,rtp'])).toEqual([]);
      const sap = tsharkFields(file, ['ip.dst', 'udp.dstport', 'sdp.session_name'], ['-Y', 'sap && ip.src == 10.67.141.1']);
      expect(sap.length).toBeGreaterThanOrEqual(5);
      expect(new Set(sap.map((s) => s.join('|')))).toEqual(new Set(['239.255.255.255|9875|AVIO-LAB : 1']));
      const rtp = tsharkFields(file, ['ip.dst', 'ip.dsfield.dscp', 'rtp.p_type'], ['-d', 'udp.port==5004,rtp', '-Y', 'rtp']);
      expect(rtp.length).toBeGreaterThan(sent.stats.packets - 200);
      expect(new Set(rtp.map((s) => s.join('|')))).toEqual(new Set([`${sent.destination}|34|97`]));
    });
  });

  it('a RAVENNA-style session is discovered over mDNS, described over RTSP and subscribed; its ANNOUNCE is followed; multicast-dns and ffprobe read it too; tshark dissects mDNS, RTSP and RTP cleanly', async () => {
    net?.destroy();
    net = createNetns({ prefix: 'a67e2-', hosts: ['a', 'b', 'c'], subnet: 142 });
    await withTempDir(async (dir) => {
      const file = path.join(dir, 'ravenna.pcapng');
      chmodForCapture(dir);
      const cap = startCapture(net!, 'b', file);
      await cap.ready;
      const name = 'Stage box 1, mix';
      const rx = startReceiver(net!, 'b', { interface: 'eth0', seconds: 15, mode: 'ravenna', name, expectSignal: SIGNAL });
      await rx.ready;
      // 1 ms packets here: at 125 µs (8000 packets/s, covered in virtual time) a receiving Node
      // process on a loaded 2-core host overruns its socket buffer.
      const tx = startEmulator(net!, 'a', ['ravenna', '--interface', 'eth0', '--session-name', name, '--device-name', 'horus-lab', '--destination', '239.1.142.1', '--channels', '2', '--frames', '48', '--channel-step', '100', '--change-at', '6', '--change-channels', '4', '--change-destination', '239.1.142.2', '--json']);
      // An independent querier (the multicast-dns package) and RTSP client (ffprobe) from host c.
      await new Promise((r) => setTimeout(r, 3500));
      const mdnsScript = [
        "const m = require('multicast-dns')();",
        'const seen = [];',
        "m.on('response', (r) => { for (const a of [...r.answers, ...r.additionals]) seen.push({ name: a.name, type: a.type, data: Buffer.isBuffer(a.data) ? a.data.toString() : Array.isArray(a.data) ? a.data.map(String) : a.data }); });",
        "m.query({ questions: [{ name: '_ravenna_session._sub._rtsp._tcp.local', type: 'PTR' }] });",
        'setTimeout(() => { console.log(JSON.stringify(seen)); m.destroy(); }, 1500);',
      ].join('\n');
      const mdnsOut = net!.exec('c', process.execPath, ['-e', mdnsScript], 15_000);
      const url = `rtsp://10.67.142.1:554/by-name/${encodeURIComponent(name)}`;
      const probe = watch(net!.spawn('c', 'ffprobe', ['-v', 'debug', '-rtsp_transport', 'udp', url]), 15_000);
      const probed = await probe.exited;
      const r = await rx.exited;
      tx.stop();
      const t = await tx.exited;
      expect(t.code, t.stderr).toBe(0);
      expect(r.code, r.stderr).toBe(0);
      await new Promise((r) => setTimeout(r, 300)); // the last packets reach the capture
      cap.stop();
      await cap.exited;
      const sent = JSON.parse(t.stdout.trim().split('\n').pop()!);
      const got = JSON.parse(r.stdout);

      // The lab's own client: discovered, described, subscribed, and the change followed.
      expect(got.mdns.instances.find((i: { name: string }) => i.name === name)).toMatchObject({ address: '10.67.142.1', port: 554, host: 'horus-lab.local' });
      expect(got.rtsp).toMatchObject({ url, state: 'described', describes: 1, announcements: 1 });
      expect(got.sdp).toBe(sent.sdps[1]);
      expect(got.subscriptions).toHaveLength(2);
      expect(got.subscriptions[0].stream.destination).toBe('239.1.142.1');
      expect(got.subscriptions[1].stream.destination).toBe('239.1.142.2');
      // Each stream ran for seconds (the emulator's own start-up on a loaded host varies).
      expectSignalIntact(got.subscriptions[0], 2, 2 * 48000);
      expectSignalIntact(got.subscriptions[1], 4, 2 * 48000);

      // multicast-dns (independent querier) sees the PTR, SRV and A records.
      const records = JSON.parse(mdnsOut.trim());
      expect(records).toEqual(expect.arrayContaining([
        { name: '_ravenna_session._sub._rtsp._tcp.local', type: 'PTR', data: `${name}._rtsp._tcp.local` },
        { name: 'horus-lab.local', type: 'A', data: '10.67.142.1' },
      ]));
      expect(records.find((x: { type: string }) => x.type === 'SRV').data).toMatchObject({ port: 554, target: 'horus-lab.local' });
      // ffprobe's RTSP client reads the DESCRIBE answer (its debug log prints the SDP) and then
      // stops at SETUP, which a RAVENNA session server answers 405 here.
      expect(probed.stderr).toContain('a=framecount:48');
      expect(probed.stderr).toMatch(/405 Method Not Allowed|method SETUP failed/);

      // On the wire (captured on host b): clean dissection, mDNS with IP TTL 255, RTSP as sent.
      expect(tsharkSeriousExpert(file, ['-d', 'udp.port==5004,rtp'])).toEqual([]);
      const ttls = tsharkFields(file, ['ip.ttl'], ['-Y', 'mdns && ip.src == 10.67.142.1']);
      expect(new Set(ttls.map((x) => x[0]))).toEqual(new Set(['255']));
      const rtsp = tsharkFields(file, ['ip.src', 'rtsp.method', 'rtsp.status', 'rtsp.url'], ['-Y', 'rtsp && ip.dst == 10.67.142.2 || rtsp && ip.src == 10.67.142.2']);
      const summary = rtsp.map((x) => `${x[0]} ${x[1] || x[2]}`);
      expect(summary).toEqual(['10.67.142.2 DESCRIBE', '10.67.142.1 200', '10.67.142.1 ANNOUNCE', '10.67.142.2 200']);
      expect(rtsp[0][3]).toBe(url);
      const rtp = tsharkFields(file, ['ip.dst', 'ip.dsfield.dscp'], ['-d', 'udp.port==5004,rtp', '-Y', 'rtp']);
      expect(new Set(rtp.map((x) => x.join('|')))).toEqual(new Set(['239.1.142.1|34', '239.1.142.2|34']));
    });
  });
});

/** tshark drops privileges to write its capture file: let it write into the test's temp folder. */
function chmodForCapture(dir: string) {
  chmodSync(dir, 0o777);
}
