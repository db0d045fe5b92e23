// Crossing: SAP from VLC. VLC (cvlc 3.0, as the unprivileged user `nobody`: VLC refuses to
// run as root) in namespace A plays a tone file and announces its RTP stream by SAP
// (`--sout '#transcode{acodec=s16b,...}:rtp{dst=239.255.x.y,port=5004,sap,name=N}'`; VLC
// refuses SAP for 239.69.x.x, so the group is admin-scoped 239.255.x.y and the announcement
// goes to 239.255.255.255:9875, RFC 2974 §3). The software DUT in B listens for SAP; the
// test asks the DUT, through its control endpoint, to subscribe to the session by its SAP
// name (no SDP written by hand anywhere), and GStreamer in C records what the DUT loops back.
// The tone in that recording is judged by the lab's glitch detector and sine fit, the level
// against the tone file VLC played.
//
// VLC's announcement, as seen (tshark): SAP origin 0.0.0.0 when the interface has no other
// address, o= with a 64-bit session id above INT64_MAX and the host NAME (not an address)
// as unicast address, c= TTL 255, b=AS and b=RR, a=recvonly/type:broadcast/charset, no
// ptime, no ts-refclk; the first announcement ~3.5 s after start. Its RTP: 50 ms blocks
// split into 6 x 347 + 318 frames, sent in bursts. At ~5 % of start times one packet per
// block is stamped a frame early and the next block a frame late (VLC times the split in
// truncated microseconds; captured 4 times in ~45 runs, the model is
// driver/host/test/vlc_rtp_timing.hpp): the DUT plays them where the previous packet ended
// and counts them in anchoring.continued (before, 1 packet in 7 was dropped as a duplicate
// and CI failed here twice).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetns, type Netns } from '../../ci/netns.ts';
import { fitSine } from '../analyze/sine-fit.ts';
import { writeWav } from '../analyze/wav.ts';
import { createSignal } from '../signal/index.ts';
import { attachDut, collect, DUT_BINARY, type DutProcess, type DutStatusJson } from './dut-client.ts';
import { checkTone, missingForDut, readWav, chrtWorks, sleep } from './test-support.ts';

const usable = canUseNetns();
const missing = usable.ok ? missingForDut(['cvlc', 'runuser', 'gst-launch-1.0']) : usable.reason;
const SUBNET = 151;
const VLC_GROUP = `239.255.${SUBNET}.1`;
const OUT_GROUP = `239.69.${SUBNET}.2`;
const SESSION = 'VLC tone a67x';
const TONE_HZ = 997;
const rt = (cmd: string, args: string[]): [string, string[]] => (chrtWorks ? ['chrt', ['-f', '20', cmd, ...args]] : [cmd, args]);

describe.skipIf(missing !== undefined)(`VLC announces by SAP, aes67-dut subscribes by session name (${missing ?? 'root, cvlc, runuser, gst-launch-1.0'})`, () => {
  let net: Netns | undefined;
  let dut: DutProcess | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'a67xv-'));
  afterAll(async () => {
    await dut?.stop(2_000);
    net?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the DUT finds VLC\'s session by SAP, plays it, and the tone comes back with no glitch', async () => {
    net = createNetns({ prefix: 'a67xv', hosts: ['a', 'b', 'c'], subnet: SUBNET });
    // VLC runs as nobody: it must be able to read the folder and the tone file.
    chmodSync(dir, 0o755);
    const rate = 48_000;
    const seconds = 20; // VLC loops it (--loop)
    const tone = createSignal({ kind: 'sine', frequencyHz: TONE_HZ, levelDbfs: -6 }, rate).render(0, rate * seconds, 2);
    const toneFile = path.join(dir, 'tone.wav');
    writeWav(toneFile, { sampleRate: rate, channels: 2, encoding: 'L16', interleaved: tone, missingFrames: 0 });
    chmodSync(toneFile, 0o644);
    const played = fitSine(readWav(toneFile).channels[0].subarray(0, rate), rate);

    const config = {
      interface: 'eth0',
      device: { inputChannels: 2, outputChannels: 2, sampleRate: rate, ioBufferFrames: 64, linkOffsetFrames: rate / 10 },
      tx: [{ id: 'back', name: 'DUT loopback of VLC', destination: `${OUT_GROUP}:5004`, ptimeUs: 1000, channelMap: [1, 2], announce: false }],
      sap: { listen: true },
      control: { listen: `unix:${path.join(dir, 'dut.sock')}` },
      stateDir: dir,
    };
    const file = path.join(dir, 'dut.json');
    writeFileSync(file, JSON.stringify(config));
    dut = await attachDut(net.spawn('b', DUT_BINARY, ['--config', file]));

    const vlc = net.spawn('a', 'runuser', ['-u', 'nobody', '--', 'cvlc', '-q', '--loop', toneFile,
      '--sout', `#transcode{acodec=s16b,channels=2,samplerate=${rate}}:rtp{dst=${VLC_GROUP},port=5004,sap,name=${SESSION}}`], { env: { ...process.env, HOME: '/tmp' } });
    const vlcOut = collect(vlc);

    // The DUT's SAP listener hears VLC.
    const started = Date.now();
    let status: DutStatusJson = await dut.client.status();
    while (!status.sap.sessions.some((s) => s.name === SESSION) && Date.now() - started < 30_000) {
      await sleep(250);
      status = await dut.client.status();
    }
    const heard = status.sap.sessions.find((s) => s.name === SESSION);
    expect(heard, `the DUT heard VLC's SAP announcement; sessions ${JSON.stringify(status.sap.sessions)}\nVLC: ${vlcOut.stderr}`).toBeDefined();
    const heardAfterS = (Date.now() - started) / 1e3;

    // Subscribe by SAP name through the control endpoint.
    const id = await dut.client.addStream({ kind: 'rx', id: 'vlc', sap: SESSION, channels: [1, 2] });
    const sdpAsReceived = await dut.client.sdp(id);
    let rx = (await dut.client.status()).streams.rx.find((s) => s.id === id)!;
    while (!(rx.active && (rx.counters.accepted as number) > 500) && Date.now() - started < 45_000) {
      await sleep(200);
      rx = (await dut.client.status()).streams.rx.find((s) => s.id === id)!;
    }
    const playingAfterS = (Date.now() - started) / 1e3;
    expect(rx.active, JSON.stringify(rx)).toBe(true);
    expect(rx.source).toBe('sap');
    expect(rx.destination).toBe(`${VLC_GROUP}:5004`);
    expect(sdpAsReceived).toContain(`s=${SESSION}`);

    await sleep(500);
    const wav = path.join(dir, 'back.wav');
    const recorder = net.spawn('c', ...rt('gst-launch-1.0', ['-e', 'udpsrc', `address=${OUT_GROUP}`, 'port=5004', 'multicast-iface=eth0', 'buffer-size=4194304',
      `caps=application/x-rtp,media=audio,clock-rate=${rate},encoding-name=L24,channels=2,payload=96`,
      '!', 'rtpL24depay', '!', 'audioconvert', '!', 'audio/x-raw,format=S24LE', '!', 'wavenc', '!', 'filesink', `location=${wav}`]));
    const recOut = collect(recorder);
    await sleep(5_000);
    recorder.kill('SIGINT');
    const timer = setTimeout(() => recorder.kill('SIGKILL'), 5_000);
    await recOut.exited;
    clearTimeout(timer);
    const final = (await dut.client.status()).streams.rx.find((s) => s.id === id)!;
    expect(await dut.stop()).toBe(0);
    vlc.kill('SIGTERM');

    const w = readWav(wav);
    const tones = checkTone(w, TONE_HZ);
    const dropped = final.counters.dropped as Record<string, number>;
    console.log(
      `VLC SAP '${SESSION}': heard by the DUT ${heardAfterS.toFixed(1)} s after VLC started (SAP origin ${heard!.origin}, ${heard!.announcements} announcement(s)), 500 packets placed ${playingAfterS.toFixed(1)} s after; SDP as received:\n${sdpAsReceived}` +
        `DUT rx format ${JSON.stringify(final.format)}, received ${final.counters.received}, accepted ${final.counters.accepted}, dropped ${JSON.stringify(dropped)}, ` +
        `playout ${JSON.stringify(final.playout)}, anchoring ${JSON.stringify(final.anchoring)}; back: ${tones[0].seconds.toFixed(2)} s of tone at ` +
        `${tones.map((t) => t.fit.frequencyHz.toFixed(3)).join('/')} Hz, amplitude ${tones[0].fit.amplitude.toFixed(4)} (file ${played.amplitude.toFixed(4)}), ` +
        `glitches ${tones.map((t) => t.glitches.glitches.length).join('/')}`,
    );
    expect(final.format).toMatchObject({ encoding: 'L16', channels: 2, sampleRate: rate });
    expect(final.senderClocked).toBe(true);
    expect(Object.values(dropped).reduce((a, b) => a + b, 0), JSON.stringify(dropped)).toBe(0);
    expect(final.playout.glitches).toBe(0);
    expect(w.channels.length).toBe(2);
    for (const t of tones) {
      expect(t.seconds, `channel ${t.channel}: tone long enough`).toBeGreaterThan(3);
      expect(Math.abs(t.fit.frequencyHz - TONE_HZ), `channel ${t.channel} frequency`).toBeLessThan(0.5);
      expect(Math.abs(t.fit.amplitude / played.amplitude - 1), `channel ${t.channel} level`).toBeLessThan(0.02);
      expect(t.glitches.glitches, `channel ${t.channel}: no glitch`).toEqual([]);
    }
  }, 180_000);
});
