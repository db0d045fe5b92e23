// Removing a TX stream from the running software DUT (DELETE /streams/<id>), judged on the
// wire: GStreamer in A sends a tone, the DUT in B loops it back out as two TX streams,
// 'stays' and 'goes', and dumpcap in C captures both; half-way the lab removes 'goes'. The
// capture is decoded by the lab's own pcapng reader, RTP parser and PCM decoder (not the
// engine's):
// - 'goes' ends on whole packets of the tone (no sample of silence in its last packets) and
//   nothing of it is sent once the DELETE has been answered;
// - 'stays' goes on as if nothing happened: every packet's sequence number +1 and RTP
//   timestamp +48, and the lab's glitch detector finds no glitch in its tone; the DUT did
//   not stop IO for the removal (configurationChanges) nor anchor its RX stream again.
// Before EmulatedDut kept IO running through a TX removal (issue 9), 'stays' took a
// timestamp jump of +312 (264 frames never sent) and a second glitch 100 ms later when the
// RX stream was anchored again. Every process is killed, every namespace deleted.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canUseNetns, createNetns, type Netns } from '../../ci/netns.ts';
import { detectChannelGlitches } from '../measure/glitches.ts';
import { audioOf, packetsTo, silentRuns, steps } from './captured-stream.ts';
import { attachDut, collect, DUT_BINARY, type DutProcess } from './dut-client.ts';
import { chrtWorks, missingForDut, sleep, which } from './test-support.ts';

const usable = canUseNetns();
const missing = usable.ok ? (missingForDut(['gst-launch-1.0']) ?? (which('dumpcap') ? undefined : 'missing dumpcap')) : usable.reason;
const PREFIX = process.env.A67X_NETNS_PREFIX ?? 'a67xr';
const SUBNET = Number(process.env.A67X_SUBNET ?? 156);
const IN_GROUP = `239.69.${SUBNET}.1`;
const STAYS = `239.69.${SUBNET}.2`;
const GOES = `239.69.${SUBNET}.3`;
const TONE_HZ = 997;

describe.skipIf(missing !== undefined)(`aes67-dut: a TX stream removed at run time (${missing ?? 'root, gst-launch-1.0, dumpcap'})`, () => {
  let net: Netns | undefined;
  let dut: DutProcess | undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'a67xr-'));

  beforeAll(() => {
    net = createNetns({ prefix: PREFIX, hosts: ['a', 'b', 'c'], subnet: SUBNET });
  });
  afterAll(async () => {
    await dut?.stop(2_000);
    net?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('ends the removed stream on whole packets of audio and leaves the other one untouched', async () => {
    const pcap = path.join(dir, 'out.pcapng');
    const dumpcap = net!.spawn('c', 'dumpcap', ['-i', 'eth0', '-f', `udp and dst net 239.69.${SUBNET}.0/24`, '-a', 'duration:30', '-w', pcap]);
    const capture = collect(dumpcap);
    // dumpcap says it captures a little before frames reach it.
    for (let i = 0; i < 100 && !/Capturing on/.test(capture.stderr); i++) await sleep(50);
    await sleep(300);
    const rt = (cmd: string, args: string[]): [string, string[]] => (chrtWorks ? ['chrt', ['-f', '20', cmd, ...args]] : [cmd, args]);
    net!.spawn('a', ...rt('gst-launch-1.0', [
      '-q', 'audiotestsrc', 'is-live=true', `freq=${TONE_HZ}`, 'volume=0.5', 'samplesperbuffer=48',
      '!', 'audio/x-raw,format=S24BE,rate=48000,channels=2', '!', 'rtpL24pay', 'min-ptime=1000000', 'max-ptime=1000000', 'pt=96',
      '!', 'udpsink', `host=${IN_GROUP}`, 'port=5004', 'multicast-iface=eth0',
    ]));
    const sdp = ['v=0', `o=- 1 1 IN IP4 10.67.${SUBNET}.1`, 's=GStreamer', `c=IN IP4 ${IN_GROUP}/32`, 't=0 0', 'm=audio 5004 RTP/AVP 96', 'a=rtpmap:96 L24/48000/2', 'a=ptime:1', ''].join('\r\n');
    const config = {
      interface: 'eth0',
      device: { inputChannels: 2, outputChannels: 2, ioBufferFrames: 64, linkOffsetFrames: 4800 },
      rx: [{ id: 'in', sdp, channels: [1, 2] }],
      tx: [
        { id: 'stays', name: 'DUT stays', destination: `${STAYS}:5004`, ptimeUs: 1000, channelMap: [1, 2] },
        { id: 'goes', name: 'DUT goes', destination: `${GOES}:5004`, ptimeUs: 1000, channelMap: [1, 2] },
      ],
      control: { listen: `unix:${path.join(dir, 'dut.sock')}` },
      stateDir: dir,
    };
    const file = path.join(dir, 'dut.json');
    writeFileSync(file, JSON.stringify(config));
    dut = await attachDut(net!.spawn('b', DUT_BINARY, ['--config', file]));
    await sleep(2_500);
    const before = await dut.client.status();
    await dut.client.removeStream('goes');
    const answered = Date.now() / 1e3;
    await sleep(2_000);
    const after = await dut.client.status();
    expect(await dut.stop()).toBe(0);
    dut = undefined;
    await sleep(200);
    dumpcap.kill('SIGINT');  // ends the file cleanly
    const timer = setTimeout(() => dumpcap.kill('SIGKILL'), 5_000);
    await capture.exited;
    clearTimeout(timer);

    const stays = packetsTo(pcap, STAYS);
    const goes = packetsTo(pcap, GOES);
    const staysAudio = audioOf(stays);
    const goesAudio = audioOf(goes);
    const staysGlitches = detectChannelGlitches(staysAudio, 48000, 0, { frequencyHz: TONE_HZ });
    const lastGoes = goes.at(-1)!;
    const rx = after.streams.rx[0];
    console.log(
      `TX removal: 'goes' sent ${goes.length} packets, its last ${((lastGoes.time - answered) * 1e3).toFixed(1)} ms after the DELETE was answered; ` +
        `'stays' ${stays.length} packets, ${stays.filter((p) => p.time > answered).length} after the removal, steps ${JSON.stringify(steps(stays).slice(0, 3))}, ` +
        `glitches ${JSON.stringify(staysGlitches.glitches.map((g) => ({ sample: g.sample, length: g.length, kinds: g.kinds })))}; ` +
        `configurationChanges ${before.device.counters.configurationChanges} -> ${after.device.counters.configurationChanges}; RX anchors ${rx.anchoring?.anchors}, playout glitches ${rx.playout.glitches}`,
    );
    // 'goes': whole packets of the tone to its end, then nothing.
    expect(goes.length).toBeGreaterThan(1_000);
    expect(steps(goes)).toEqual([]);
    expect(silentRuns(goesAudio)).toEqual([]);
    // The DUT answers the DELETE after the stream is gone; the capture's stamp of a packet
    // sent just before lags its send by the bridge's microseconds, not milliseconds.
    expect(lastGoes.time, 'sent after the DELETE was answered').toBeLessThan(answered + 0.002);
    // 'stays': on through the removal, as if nothing happened.
    expect(stays.filter((p) => p.time > answered + 1).length).toBeGreaterThan(500);
    expect(steps(stays)).toEqual([]);
    expect(silentRuns(staysAudio)).toEqual([]);
    expect(staysGlitches.glitches).toEqual([]);
    expect(after.device.counters.configurationChanges).toBe(before.device.counters.configurationChanges);
    expect(rx.anchoring?.anchors).toBe(1);
    expect(rx.playout.glitches).toBe(0);
  }, 90_000);
});
