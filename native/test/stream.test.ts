// StreamManager through native on the virtual network: a TX stream's audio reaches an RX
// stream made from that TX stream's own SDP (decoded by the lab's TypeScript codecs on the
// way), channel-map collisions name both streams, and the configuration survives a save,
// a corrupt file and a reload.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNative } from '../index.ts';
import { parseRtp as parseRtpTs } from '../../lab/net/rtp.ts';
import { decodePcm as decodePcmTs } from '../../lab/net/pcm.ts';
import { withTempDir } from '../../lab/net/test-support.ts';

const native = loadNative();

function lab() {
  const clock = new native.VirtualClock(0);
  const network = new native.VirtualNetwork(clock, 100_000);
  network.addHost('dut', '10.67.20.2');
  return { clock, network, manager: new native.StreamManager(network, '10.67.20.2') };
}

describe('StreamManager through native', () => {
  it('sends a TX stream that an RX stream built from its SDP receives, and the lab decodes the same audio', () => {
    const { clock, network, manager } = lab();
    const packets: Buffer[] = [];
    network.setImpairment((p) => {
      if (p.destination === '239.69.20.2:5004') packets.push(Buffer.from(p.data));
      return [0];
    });
    manager.addTx({ id: 'out', destination: '239.69.20.2:5004', format: { encoding: 'L24', channels: 2, sampleRate: 48000, payloadType: 97 }, framesPerPacket: 48 });
    manager.addRx({ id: 'in', sdp: manager.txSdp('out'), channelMap: [5, 6], linkOffset: 96 });
    expect(manager.channelMap('in')).toEqual([5, 6]);
    expect(manager.framesPerPacket('in')).toBe(48);
    manager.startIo();
    const frames = 48 * 10;
    const tone = new Float32Array(frames * 2);
    for (let i = 0; i < frames; i++) tone[2 * i] = tone[2 * i + 1] = Math.round(0.25 * Math.sin(i / 7) * 2 ** 23) / 2 ** 23;
    expect(manager.pushTx('out', tone)).toBe(frames);
    for (let step = 0; step < 10_000 && clock.now() < 20e6; step++) {
      manager.poll();
      network.deliverDue();
      manager.poll();
      clock.advanceBy(50_000);
    }
    expect(manager.stats('out').packetsSent).toBe(10);
    expect(manager.stats('in').accepted).toBe(10);
    expect(packets.length).toBe(10);
    // The lab's RTP and PCM codecs read the engine's packets as the tone that went in.
    const first = parseRtpTs(packets[0]);
    expect(first.payloadType).toBe(97);
    const decoded = packets.flatMap((p) => Array.from(decodePcmTs(parseRtpTs(p).payload, 'L24')));
    expect(decoded).toEqual(Array.from(tone));
    // And the RX playout buffer holds the same audio at the packets' media times.
    const played = manager.readRx('in', first.timestamp, frames);
    expect(Array.from(played)).toEqual(Array.from(tone));
    manager.stopIo();
    expect(manager.ioRunning()).toBe(false);
  });

  it('refuses a second RX stream on a taken device channel, naming both', () => {
    const { manager } = lab();
    manager.addTx({ id: 'out', destination: '239.69.20.2:5004', format: { encoding: 'L24', channels: 2, sampleRate: 48000 } });
    manager.addRx({ id: 'a', sdp: manager.txSdp('out'), channelMap: [1, 2] });
    expect(() => manager.addRx({ id: 'b', sdp: manager.txSdp('out'), channelMap: [2, 3] })).toThrow(/'b' channel 1 and RX stream 'a' channel 2 .*device input channel 2/);
    expect(() => manager.addTx({ id: 'bad', destination: '239.69.20.3:5004', format: { encoding: 'L24', channels: 2, sampleRate: 48000 }, direction: 'sideways' })).toThrow(/direction must be recvonly, sendonly/);
  });

  it('keeps the configuration through save, a corrupt file and reload', () => {
    withTempDir((dir) => {
      const folder = path.join(dir, 'config');
      mkdirSync(folder);
      const { manager } = lab();
      manager.addTx({ id: 'out', name: 'Main', destination: '239.69.20.2:5004', format: { encoding: 'L16', channels: 4, sampleRate: 96000, payloadType: 98 }, framesPerPacket: 12 });
      manager.addRx({ id: 'in', sdp: manager.txSdp('out'), channelMap: [9, 10, 0, 11] });
      manager.save(folder);
      const saved = JSON.parse(readFileSync(path.join(folder, 'streams.json'), 'utf8'));
      expect(saved.schemaVersion).toBe(1);

      const other = lab().manager;
      expect(other.load(folder)).toEqual({ source: 'file' });
      expect(other.configJson()).toBe(manager.configJson());
      expect(other.txSdp('out')).toBe(manager.txSdp('out'));

      writeFileSync(path.join(folder, 'streams.json'), '{"schemaVersion": 1, "rx": [');
      const third = lab().manager;
      const result = third.load(folder);
      expect(result.source).toBe('last-good');
      expect(result.problem).toContain(path.join(folder, 'streams.json'));
      expect(result.problem).toContain('Fix:');
      expect(third.configJson()).toBe(manager.configJson());
      expect(readdirSync(folder).filter((f) => f.startsWith('streams.json.corrupt-')).length).toBe(1);
      expect(readFileSync(result.movedAside!, 'utf8')).toBe('{"schemaVersion": 1, "rx": [');
    });
  });
});
