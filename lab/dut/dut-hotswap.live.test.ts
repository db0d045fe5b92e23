// Patching streams into the running software DUT (POST /streams), judged on the wire, as an
// engineer adds one more stream in Dante Controller or a RAVENNA web UI: GStreamer in A sends
// a 997 Hz tone that the DUT in B plays on channels 1-2 and loops back out as TX 'stays';
// TX 'back' loops channels 3-4 (silent at first). dumpcap in C captures what the DUT sends.
// Half-way the lab adds TX 'added' (channels 1-2), then an RX stream from ffmpeg (a 1499 Hz
// tone, ffmpeg's own SDP) on channels 3-4. The capture is decoded by the lab's own pcapng
// reader, RTP parser and PCM decoder (not the engine's):
// - 'stays' goes on as if nothing happened: every packet's sequence number +1 and RTP
//   timestamp +48, no silence inside it, no glitch in its tone (the lab's glitch detector);
// - 'added' starts on the packet grid the others are on and carries, at every RTP timestamp,
//   exactly the samples 'stays' carries at that timestamp: its timestamps follow the media
//   clock like theirs;
// - 'back' steps +48 through the RX stream's arrival and then carries ffmpeg's tone with no
//   glitch; the running RX stream was not anchored again, the new one anchored once, and
//   neither patch stopped IO (configurationChanges).
// Before EmulatedDut swapped bindings while IO runs (issue 9) each patch stopped and
// restarted IO: 'stays' and 'back' took timestamp jumps of ~+300 and the RX stream was
// anchored again. Every process is killed, every namespace deleted.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetns, type Netns } from '../../ci/netns.ts';
import { detectChannelGlitches } from '../measure/glitches.ts';
import { audioOf, packetsTo, silentRuns, steps, type CapturedPacket } from './captured-stream.ts';
import { attachDut, collect, DUT_BINARY, type DutProcess } from './dut-client.ts';
import { chrtWorks, missingForDut, sleep, which } from './test-support.ts';

const usable = canUseNetns();
const missing = usable.ok ? (missingForDut(['gst-launch-1.0', 'ffmpeg']) ?? (which('dumpcap') ? undefined : 'missing dumpcap')) : usable.reason;
const PREFIX = process.env.A67HS_NETNS_PREFIX ?? 'a67hs';
const SUBNET = Number(process.env.A67HS_SUBNET ?? 158);
const IN1 = `239.69.${SUBNET}.1`;
const IN2 = `239.69.${SUBNET}.2`;
const STAYS = `239.69.${SUBNET}.11`;
const BACK = `239.69.${SUBNET}.12`;
const ADDED = `239.69.${SUBNET}.13`;
const PORT = 5004;
const TONE1_HZ = 997;
const TONE2_HZ = 1499;
// Another build of aes67-dut to judge (e.g. main's, to see this test fail without the fix).
const BINARY = process.env.A67HS_DUT_BINARY ?? DUT_BINARY;

/** Where `added` carries other samples than `reference` at the same RTP timestamp. */
function sameAudioAtSameTimestamps(added: CapturedPacket[], reference: CapturedPacket[]): { compared: number; differences: string[] } {
  const byTimestamp = new Map<number, Float32Array>();
  for (const p of reference) byTimestamp.set(p.timestamp, p.left);
  let compared = 0;
  const differences: string[] = [];
  for (const [k, p] of added.entries()) {
    const r = byTimestamp.get(p.timestamp);
    if (!r) continue;
    compared++;
    for (let i = 0; i < p.left.length; i++) {
      if (p.left[i] !== r[i]) {
        if (differences.length < 3) differences.push(`packet ${k} (timestamp ${p.timestamp}) sample ${i}: ${p.left[i]} vs ${r[i]}`);
        break;
      }
    }
  }
  return { compared, differences };
}

describe.skipIf(missing !== undefined)(`aes67-dut: streams patched in while IO runs (${missing ?? 'root, gst-launch-1.0, ffmpeg, dumpcap'})`, () => {
  let net: Netns | undefined;
  let dut: DutProcess | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'a67hs-'));

  beforeAll(() => {
    net = createNetns({ prefix: PREFIX, hosts: ['a', 'b', 'c'], subnet: SUBNET });
  });
  afterAll(async () => {
    await dut?.stop(2_000);
    net?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('adds a TX stream on the others\' packet grid and an RX stream anchored alone, and nothing else steps', async () => {
    const pcap = path.join(dir, 'out.pcapng');
    const dumpcap = net!.spawn('c', 'dumpcap', ['-i', 'eth0', '-f', `udp and dst net 239.69.${SUBNET}.0/24 and dst port ${PORT}`, '-a', 'duration:40', '-w', pcap]);
    const capture = collect(dumpcap);
    for (let i = 0; i < 100 && !/Capturing on/.test(capture.stderr); i++) await sleep(50);
    await sleep(300);
    const rt = (cmd: string, args: string[]): [string, string[]] => (chrtWorks ? ['chrt', ['-f', '20', cmd, ...args]] : [cmd, args]);
    net!.spawn('a', ...rt('gst-launch-1.0', [
      '-q', 'audiotestsrc', 'is-live=true', `freq=${TONE1_HZ}`, 'volume=0.5', 'samplesperbuffer=48',
      '!', 'audio/x-raw,format=S24BE,rate=48000,channels=2', '!', 'rtpL24pay', 'min-ptime=1000000', 'max-ptime=1000000', 'pt=96',
      '!', 'udpsink', `host=${IN1}`, `port=${PORT}`, 'multicast-iface=eth0',
    ]));
    const sdp1 = ['v=0', `o=- 1 1 IN IP4 10.67.${SUBNET}.1`, 's=GStreamer', `c=IN IP4 ${IN1}/32`, 't=0 0', `m=audio ${PORT} RTP/AVP 96`, 'a=rtpmap:96 L24/48000/2', 'a=ptime:1', ''].join('\r\n');
    const config = {
      interface: 'eth0',
      device: { inputChannels: 4, outputChannels: 4, ioBufferFrames: 64, linkOffsetFrames: 4800 },
      rx: [{ id: 'in1', sdp: sdp1, channels: [1, 2] }],
      tx: [
        { id: 'stays', name: 'DUT stays', destination: `${STAYS}:${PORT}`, ptimeUs: 1000, channelMap: [1, 2] },
        { id: 'back', name: 'DUT back', destination: `${BACK}:${PORT}`, ptimeUs: 1000, channelMap: [3, 4] },
      ],
      control: { listen: `unix:${path.join(dir, 'dut.sock')}` },
      stateDir: dir,
    };
    const file = path.join(dir, 'dut.json');
    writeFileSync(file, JSON.stringify(config));
    dut = await attachDut(net!.spawn('b', BINARY, ['--config', file]));
    await sleep(2_500);
    const before = await dut.client.status();

    // A TX stream patched in.
    await dut.client.addStream({ kind: 'tx', id: 'added', name: 'DUT added', destination: `${ADDED}:${PORT}`, ptimeUs: 1000, channelMap: [1, 2] });
    await sleep(2_000);

    // An RX stream patched in: ffmpeg's tone with ffmpeg's own SDP (sender-clocked, its own packet size).
    const sdpFile = path.join(dir, 'ffmpeg.sdp');
    const ffmpeg = net!.spawn('a', ...rt('ffmpeg', ['-nostdin', '-loglevel', 'warning', '-re', '-f', 'lavfi', '-i', `sine=frequency=${TONE2_HZ}:sample_rate=48000`,
      '-t', '30', '-ac', '2', '-c:a', 'pcm_s24be', '-f', 'rtp', '-sdp_file', sdpFile, `rtp://${IN2}:${PORT}?ttl=4`]));
    const ffmpegOut = collect(ffmpeg);
    const t0 = Date.now();
    while (!existsSync(sdpFile) && Date.now() - t0 < 15_000) await sleep(100);
    expect(existsSync(sdpFile), `ffmpeg wrote its SDP:\n${ffmpegOut.stderr}`).toBe(true);
    await sleep(200);
    await dut.client.addStream({ kind: 'rx', id: 'in2', sdp: readFileSync(sdpFile, 'utf8'), channels: [3, 4] });
    await sleep(3_000);
    const after = await dut.client.status();
    expect(await dut.stop()).toBe(0);
    dut = undefined;
    ffmpeg.kill('SIGKILL');
    await sleep(200);
    dumpcap.kill('SIGINT'); // ends the file cleanly
    const timer = setTimeout(() => dumpcap.kill('SIGKILL'), 5_000);
    await capture.exited;
    clearTimeout(timer);

    const stays = packetsTo(pcap, STAYS);
    const back = packetsTo(pcap, BACK);
    const added = packetsTo(pcap, ADDED);
    const staysAudio = audioOf(stays);
    const backAudio = audioOf(back);
    const staysGlitches = detectChannelGlitches(staysAudio, 48000, 0, { frequencyHz: TONE1_HZ });
    const backSound = backAudio.findIndex((v) => v !== 0);
    const backGlitches = backSound < 0 ? undefined : detectChannelGlitches(backAudio.subarray(backSound), 48000, 0, { frequencyHz: TONE2_HZ });
    const grid = added.length && stays.length ? ((added[0].timestamp - stays[0].timestamp) >>> 0) % 48 : -1;
    const same = sameAudioAtSameTimestamps(added, stays);
    const rx1 = after.streams.rx.find((r) => r.id === 'in1')!;
    const rx2 = after.streams.rx.find((r) => r.id === 'in2');
    console.log(
      `patched while IO runs: 'stays' ${stays.length} packets, steps ${JSON.stringify(steps(stays).slice(0, 3))}, glitches ${staysGlitches.glitches.length}; ` +
        `'added' ${added.length} packets, ${grid} frames off the others' grid, ${same.compared} packets compared with 'stays' at the same timestamps, differences ${JSON.stringify(same.differences)}; ` +
        `'back' ${back.length} packets, steps ${JSON.stringify(steps(back).slice(0, 3))}, ffmpeg's tone from packet ${Math.floor(backSound / 48)}, glitches ${backGlitches?.glitches.length}; ` +
        `configurationChanges ${before.device.counters.configurationChanges} -> ${after.device.counters.configurationChanges}; ` +
        `in1 anchors ${rx1.anchoring?.anchors}, playout glitches ${rx1.playout.glitches}; in2 anchors ${rx2?.anchoring?.anchors}, playout glitches ${rx2?.playout.glitches}`,
    );
    // Neither patch stopped IO.
    expect(after.device.counters.configurationChanges).toBe(before.device.counters.configurationChanges);
    // 'stays': on through both patches, as if nothing happened.
    expect(stays.length).toBeGreaterThan(5_000);
    expect(steps(stays)).toEqual([]);
    expect(silentRuns(staysAudio)).toEqual([]);
    expect(staysGlitches.glitches).toEqual([]);
    // 'added': on the others' packet grid, the same samples at the same timestamps.
    expect(added.length).toBeGreaterThan(3_000);
    expect(steps(added)).toEqual([]);
    expect(grid).toBe(0);
    expect(same.compared).toBeGreaterThan(3_000);
    expect(same.differences).toEqual([]);
    // 'back': on through the RX stream's arrival, then ffmpeg's tone without a glitch.
    expect(steps(back)).toEqual([]);
    expect(backSound, "ffmpeg's tone never came back").toBeGreaterThan(0);
    expect(backAudio.length - backSound).toBeGreaterThan(48_000);
    expect(silentRuns(backAudio)).toEqual([]);
    expect(backGlitches?.glitches).toEqual([]);
    // The running RX stream was not anchored again; the new one anchored alone, once.
    expect(rx1.anchoring?.anchors).toBe(1);
    expect(rx1.playout.glitches).toBe(0);
    expect(rx2?.anchoring?.anchors).toBe(1);
    expect(rx2?.playout.glitches).toBe(0);
  }, 120_000);
});
