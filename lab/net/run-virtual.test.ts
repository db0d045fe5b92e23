// runVirtual leaves out the actors whose `pollOn` says they have nothing to do: a 'due'
// actor is polled only at the times it returned, a 'due-or-delivery' one also on every step
// that delivered datagrams (with and without a base delay, so also a datagram delivered at
// once by an earlier actor's send), and an actor without pollOn at every step, as before.
import { describe, expect, it } from 'vitest';
import { addonBuilt, loadNative } from '../../native/index.ts';
import { runVirtual, VirtualRun, virtualHost, type TimedActor } from './lab-transport.ts';

function world(baseDelayNs: number) {
  const native = loadNative();
  const clock = new native.VirtualClock(0);
  const network = new native.VirtualNetwork(clock, baseDelayNs);
  const a = virtualHost(network, clock, '10.67.143.1');
  const b = virtualHost(network, clock, '10.67.143.2');
  // Sends one datagram every 1 ms to b (never reads).
  const out = a.open();
  let next = 0;
  const sender: TimedActor & { polls: number[] } = {
    pollOn: 'due',
    polls: [],
    poll(now) {
      sender.polls.push(now);
      while (next <= now) {
        out.send('10.67.143.2:6000', new Uint8Array([1, 2, 3]));
        next += 1e6;
      }
      return next;
    },
  };
  // A timer every 300 us that does nothing else: steps that deliver nothing.
  let tick = 0;
  const ticker: TimedActor & { polls: number[] } = {
    pollOn: 'due',
    polls: [],
    poll(now) {
      ticker.polls.push(now);
      while (tick <= now) tick += 300_000;
      return tick;
    },
  };
  const inbox = b.open({ port: 6000 });
  const got: number[] = [];
  const receiver: TimedActor & { polls: number[] } = {
    pollOn: 'due-or-delivery',
    polls: [],
    poll(now) {
      receiver.polls.push(now);
      for (let d = inbox.receive(); d; d = inbox.receive()) got.push(now - d.receivedAt);
      return Infinity;
    },
  };
  const every: TimedActor & { polls: number[] } = {
    polls: [],
    poll(now) {
      every.polls.push(now);
      return Infinity;
    },
  };
  return { network, clock, sender, ticker, receiver, every, got };
}

describe.skipIf(!addonBuilt())('VirtualRun in slices', () => {
  it('resume carries a run on: the same polls as one run; without it every slice opens with a round of polls', () => {
    const polls = (slices: number, resume: boolean | undefined) => {
      const w = world(30_000);
      const run = new VirtualRun([w.receiver, w.ticker, w.sender, w.every], w.network, w.clock);
      for (let k = 1; k <= slices; k++) run.until({ untilNs: Math.round((10e6 * k) / slices), ...(resume === undefined ? {} : { resume }) });
      return { sender: w.sender.polls, ticker: w.ticker.polls, receiver: w.receiver.polls, every: w.every.polls, got: w.got };
    };
    const whole = polls(1, undefined);
    expect(polls(7, true)).toEqual(whole);
    // Begun again at every slice: each actor is also polled where a slice starts.
    const begun = polls(7, false);
    expect(begun.got).toEqual(whole.got);
    expect(begun.sender.length).toBeGreaterThan(whole.sender.length);
    expect(begun.sender.filter((t) => !whole.sender.includes(t)).every((t) => [1, 2, 3, 4, 5, 6].some((k) => t === Math.round((10e6 * k) / 7)))).toBe(true);
  });
});

describe.skipIf(!addonBuilt())('runVirtual pollOn', () => {
  for (const baseDelay of [0, 30_000]) {
    it(`polls each actor when it has something to do (base delay ${baseDelay / 1e3} us)`, () => {
      const w = world(baseDelay);
      // The receiver before the sender: with no base delay the datagram lands during the
      // sender's poll, after the receiver's, and must be taken on the next step.
      const steps = runVirtual([w.receiver, w.ticker, w.sender, w.every], w.network, w.clock, { untilNs: 10e6 });
      // Every datagram was taken, on the step it landed or the next one.
      expect(w.got.length).toBe(10);
      if (baseDelay > 0) expect(w.got.every((late) => late === 0)).toBe(true);
      else expect(Math.max(...w.got)).toBeLessThanOrEqual(300_000);
      // 'due': polled at the start and at its due times only.
      expect(w.sender.polls).toEqual(Array.from({ length: 11 }, (_, k) => k * 1e6));
      expect(new Set(w.ticker.polls.slice(1)).size).toBe(w.ticker.polls.length - 1);
      // No due time and no datagram: never polled on the ticker's own steps.
      expect(w.receiver.polls.length).toBeLessThan(steps);
      expect(w.receiver.polls.length).toBeGreaterThanOrEqual(w.got.length);
      // Without pollOn: every step, as before.
      expect(w.every.polls.length).toBe(steps + 1);
    });
  }
});
