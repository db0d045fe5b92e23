import { describe, expect, it } from 'vitest';
import { loadNative } from '../index.ts';

const native = loadNative();

describe('native engine/base', () => {
  it('moves frames through the C++ ring buffer and back in order', () => {
    const ring = new native.FrameRingBuffer(100, 2);
    expect(ring.capacity).toBe(128);
    const frames = Float32Array.from({ length: 2 * 90 }, (_, i) => i / 1000);
    expect(ring.push(frames)).toBe(90);
    expect(ring.push(frames)).toBe(38); // only 38 frames of space left
    expect(ring.fill).toBe(128);
    const out = ring.pop(90);
    expect(Array.from(out)).toEqual(Array.from(frames));
    expect(ring.pop(100).length).toBe(2 * 38);
    expect(() => ring.push(new Float32Array(3))).toThrow(/whole number of frames/);
  });

  it('delivers datagrams pushed from TypeScript at their virtual times, in order', () => {
    const clock = new native.VirtualClock(0);
    const network = new native.VirtualNetwork(clock, 100_000);
    network.addHost('sender', '10.67.0.1');
    network.addHost('receiver', '10.67.0.2');
    const rx = network.openSocket('10.67.0.2', { port: 5004 });
    rx.join('239.69.0.1');
    const tx = network.openSocket('10.67.0.1', { dscp: 34 });
    // The second packet gets 250 us of extra delay, so the next two overtake it.
    let k = 0;
    network.setImpairment(() => [k++ === 1 ? 250_000 : 0]);
    for (let i = 0; i < 4; i++) {
      tx.send('239.69.0.1:5004', Uint8Array.of(i));
      clock.advanceBy(100_000);
    }
    expect(network.nextDeliveryTime()).toBe(400_000); // packet 3, due now, not yet pulled
    clock.advanceBy(1_000_000);
    const got: Array<[number, number, number]> = [];
    for (let d = rx.receive(); d; d = rx.receive()) got.push([d.data[0], d.receivedAt, d.dscp]);
    expect(got).toEqual([
      [0, 100_000, 34],
      [2, 300_000, 34],
      [3, 400_000, 34],
      [1, 450_000, 34],
    ]);
    expect(network.stats()).toMatchObject({ sent: 4, delivered: 4, droppedByImpairment: 0 });
  });

  it('reports bad arguments as errors, not crashes', () => {
    const clock = new native.VirtualClock(5);
    expect(() => clock.advanceTo(4)).toThrow(/backwards/);
    const network = new native.VirtualNetwork(clock);
    expect(() => network.addHost('x', 'not-an-ip')).toThrow(/IPv4/);
    network.addHost('x', '10.0.0.1');
    expect(() => network.openSocket('10.0.0.2')).toThrow(/no virtual host/);
    const s = network.openSocket('10.0.0.1');
    expect(() => s.send('10.0.0.1', new Uint8Array(1))).toThrow(/port/);
    s.close();
    expect(() => s.receive()).toThrow(/closed/);
  });

  it('draws the same numbers for the same seed', () => {
    const a = new native.Prng(42);
    const b = new native.Prng(42n);
    for (let i = 0; i < 10; i++) expect(a.next()).toBe(b.next());
  });
});
