// expect-lost judges the returned audio against the ledger alone: a device that hides a loss
// (concealment), adds a glitch, or whose ledger is tampered with fails glitches.equalsLedger.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addonBuilt, projectRoot } from '../../native/index.ts';
import type { Aes67Receiver } from '../peers/aes67-receiver.ts';
import { expectLost } from './expect-lost.ts';
import { loadScenario } from './load.ts';
import { recordScenario } from './runner.ts';

describe.skipIf(!addonBuilt())('expectLost', () => {
  it('agrees with an honest run, and catches concealment, a click and a forged ledger', () => {
    const loaded = loadScenario(path.join(projectRoot, 'scenarios', 'impairments', 'loss-1pct.yaml'));
    const record = recordScenario(loaded, loaded.scenario.seed);
    const honest = expectLost(record);
    expect(honest.values.get('glitches.equalsLedger')).toBe(true);
    const expected = honest.values.get('glitches.expected') as number;
    expect(expected).toBeGreaterThan(20);
    expect(honest.values.get('ledger.lost')).toBe(record.world.tap!.dropped.length);

    const rec = record.receivers.find((x) => x.measures)!.receiver as Aes67Receiver;
    const original = rec.audio()!;
    const tx = record.device.transmit[0];
    const ch = tx.config.channels;
    const first = Number(original.firstSample);
    const k = tx.origins.findIndex((o) => o?.sender.signals?.[o.channel].kind === 'sine');
    const o = tx.origins[k]!;
    const p = record.device.dut.properties();
    const rt = p.inputLatencyFrames + p.inputSafetyOffsetFrames + 2 * p.ioBufferFrames + p.outputSafetyOffsetFrames;
    // expectLost reads the recorded bytes (recording()) where it can: without them it reads audio().
    rec.recording = () => undefined;
    const withAudio = (change: (a: Float32Array) => void) => {
      const copy = Float32Array.from(original.interleaved);
      change(copy);
      rec.audio = () => ({ ...original, interleaved: copy });
      const r = expectLost(record);
      rec.audio = () => original;
      return r;
    };
    // Concealment: the audio of the first packet the network dropped on its way in put back.
    const drop = record.world.tap!.dropped.find((d) => d.direction === 'in')!;
    const c = record.device.receive[0].config;
    const lostAt = findLost(record, drop.rtpTimestamp, c.mediaclkOffset ?? 0) + rt;
    const concealed = withAudio((a) => {
      const sent = o.sender.signals![o.channel].signal.render(lostAt - 200 - rt, 48 + 400, 1);
      for (let i = 0; i < 48 + 400; i++) a[(lostAt - 200 - first + i) * ch + k] = sent[i];
    });
    expect(concealed.values.get('glitches.equalsLedger')).toBe(false);
    expect(concealed.why.get('glitches.equalsLedger')).toMatch(/not heard/);
    // A click where nothing was lost.
    const clickAt = first + Math.floor(original.interleaved.length / ch / 2) + 7;
    const clicked = withAudio((a) => (a[(clickAt - first) * ch + k] += 0.25));
    expect(clicked.values.get('glitches.equalsLedger')).toBe(false);
    expect(clicked.why.get('glitches.equalsLedger')).toMatch(/where nothing was lost/);
    // A ledger that forgot a drop: the glitch heard there is unexplained.
    const ledger = record.world.tap!.ledger;
    const i = ledger.packets.findIndex((x) => x.copies.length === 0 && x.direction === 'in');
    const [forgotten] = ledger.packets.splice(i, 1);
    expect(expectLost(record).values.get('glitches.equalsLedger')).toBe(false);
    ledger.packets.splice(i, 0, forgotten);
    expect(expectLost(record).values.get('glitches.equalsLedger')).toBe(true);
  }, 180_000);
});

/** Media time of an RTP timestamp near the run's (the sender's media clock is the true timescale). */
function findLost(record: ReturnType<typeof recordScenario>, ts: number, offset: number): number {
  const first = Number(record.world.senders[0].signals ? (record.receivers[0].receiver as Aes67Receiver).audio()!.firstSample : 0n);
  const low = (ts - offset) >>> 0;
  let m = first - (first % 2 ** 32) + low;
  while (m < first - 2 ** 31) m += 2 ** 32;
  while (m > first + 2 ** 31) m -= 2 ** 32;
  return m;
}
