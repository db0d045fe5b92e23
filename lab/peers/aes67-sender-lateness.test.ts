// In real time a sender's lateness is when each packet actually left: a poll that catches up
// after a stall sends for a while, and the HIL runner's lab.pacing (does the lab keep its
// packets inside the DUT's link offset?) must see the last of them, not the poll's start.
// Here the transport's clock moves 2 ms per datagram sent: the slow catch-up, made exact.
import { describe, expect, it } from 'vitest';
import type { DatagramSocket, LabTransport } from '../net/lab-transport.ts';
import { linearTimescale } from '../net/ptp-timescale.ts';
import { Aes67Sender } from './aes67-sender.ts';

/** A real-time transport whose clock is `now` and moves on by `perSendNs` with every datagram. */
function slowSender(kind: LabTransport['kind'], perSendNs: number) {
  const clock = { now: 1e9 };
  const sentAt: number[] = [];
  const socket: DatagramSocket = {
    send: () => {
      sentAt.push(clock.now);
      clock.now += perSendNs;
    },
    receive: () => null,
    join: () => {},
    leave: () => {},
    localEndpoint: () => '10.0.0.1:5004',
    receiveOverflows: () => 0,
    lastTransmitTime: () => null,
    close: () => {},
  };
  const transport: LabTransport = { kind, address: '10.0.0.1', now: () => clock.now, open: () => socket };
  const sender = new Aes67Sender({ transport, timescale: linearTimescale(1_767_225_600_000_000_000n, 0), destination: '239.69.1.1', channels: 2, sampleRate: 48000, encoding: 'L24', framesPerPacket: 48, signal: { kind: 'sine', frequencyHz: 997, levelDbfs: -20 }, mediaclkOffset: 0 });
  return { clock, sender, sentAt };
}

describe('Aes67Sender lateness', () => {
  it('in real time: measured when each packet left, and taken per span', () => {
    const { clock, sender, sentAt } = slowSender('udp', 2_000_000);
    sender.poll(clock.now); // the first packet, on time
    expect(sender.takeMaxLateness()).toBe(0);
    // A 50 ms stall: ~50 packets due, sent 2 ms apart, so the last leaves ~100 ms after the first was due.
    const pollAt = clock.now + 50_000_000;
    clock.now = pollAt;
    sender.poll(pollAt);
    const n = sentAt.length - 1;
    expect(n).toBeGreaterThan(45);
    const late = sender.takeMaxLateness();
    // More than the poll's start says (~50 ms): the burst's own 2 ms per packet adds on.
    expect(late).toBeGreaterThan(60_000_000);
    expect(late).toBe(sender.stats.maxLatenessNs);
    expect(sender.takeMaxLateness()).toBe(0);
  });

  it("in virtual time: the poll's own time (the clock does not move while it sends)", () => {
    const { clock, sender } = slowSender('virtual', 2_000_000);
    sender.poll(clock.now);
    const pollAt = clock.now + 50_000_000;
    sender.poll(pollAt);
    expect(sender.takeMaxLateness()).toBeLessThanOrEqual(50_000_000);
  });
});
