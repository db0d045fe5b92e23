// The time an external grandmaster serves, as the lab's host sees it. With the lab's own
// grandmaster the lab defines PTP time; with gear on the rig (`ptp: { grandmaster:
// external }`) the DUT follows that clock, so the lab's senders must stamp RTP and its
// receivers judge arrival by the same clock, or the DUT sees every packet off by the
// difference. That difference is not zero in practice: linuxptp's ptp4l with software
// time stamps serves CLOCK_REALTIME (UTC) as PTP time, 37 s behind the TAI a host would
// assume (measured by ci/hil/hil-external-gm.live.test.ts); a GM with its own GNSS serves
// TAI; a free-running one, anything.
// Listens to the grandmaster's Sync (and Follow_Up, two-step) for a few seconds and takes
// the median of (origin time + correction − receive time): the lab's clock plus that is
// the grandmaster's PTP time to within the path delay (µs on a LAN: far below a sample,
// and a constant error moves sent and returned audio alike).
import type { DatagramSocket } from '../../native/index.ts';
import type { LabTransport } from '../net/lab-transport.ts';
import { formatClockIdentity, parseClockIdentity, parsePtp, PTP_EVENT_PORT, PTP_GENERAL_PORT, PTP_PRIMARY_GROUP } from '../net/ptp.ts';
import { linearTimescale, type PtpTimescale } from '../net/ptp-timescale.ts';

export interface GrandmasterTime {
  timescale: PtpTimescale;
  /** The grandmaster's PTP time minus the lab's local clock (ns), the median of the samples. */
  offsetNs: bigint;
  samples: number;
  /** Largest minus smallest sample (ns): the receive jitter the median rode over. */
  spreadNs: number;
}

/** Sync samples enough for a steady median. */
const WANT_SAMPLES = 16;

/** Collects the grandmaster's Sync samples; a TimedActor, so it runs in virtual time too. */
export class GrandmasterTimeListener {
  private readonly want: string;
  private readonly event: DatagramSocket;
  private readonly general: DatagramSocket;
  private readonly syncAt = new Map<number, { receivedAt: number; correction: bigint }>();
  private readonly offsets: bigint[] = [];
  /** Sync heard per sender and domain, for the error when the wanted one is missing. */
  private readonly heard = new Map<string, number>();

  constructor(
    transport: LabTransport,
    identity: string,
    private readonly domain: number,
  ) {
    const want = parseClockIdentity(identity);
    if (!want) throw new Error(`'${identity}' is not a clock identity`);
    this.want = want;
    this.event = transport.open({ port: PTP_EVENT_PORT });
    try {
      this.general = transport.open({ port: PTP_GENERAL_PORT });
    } catch (e) {
      this.event.close();
      throw e;
    }
    this.event.join(PTP_PRIMARY_GROUP);
    this.general.join(PTP_PRIMARY_GROUP);
  }

  get done(): boolean {
    return this.offsets.length >= WANT_SAMPLES;
  }

  poll(now: number): number {
    for (let i = 0; i < 1000; i++) {
      const d = this.event.receive();
      if (!d) break;
      const p = parsePtp(d.data);
      if (!p.ok || p.message.type !== 'sync') continue;
      const m = p.message;
      const key = `${formatClockIdentity(m.sourcePortIdentity.clockIdentity)} domain ${m.domain}`;
      if (this.heard.size < 16 || this.heard.has(key)) this.heard.set(key, (this.heard.get(key) ?? 0) + 1);
      if (m.sourcePortIdentity.clockIdentity !== this.want || m.domain !== this.domain) continue;
      if (m.flags.twoStep) this.syncAt.set(m.sequenceId, { receivedAt: d.receivedAt, correction: m.correction });
      else this.offsets.push(m.originTimestamp + (m.correction >> 16n) - BigInt(Math.round(d.receivedAt)));
    }
    for (let i = 0; i < 1000; i++) {
      const d = this.general.receive();
      if (!d) break;
      const p = parsePtp(d.data);
      if (!p.ok || p.message.type !== 'followUp') continue;
      const m = p.message;
      if (m.sourcePortIdentity.clockIdentity !== this.want || m.domain !== this.domain) continue;
      const s = this.syncAt.get(m.sequenceId);
      if (!s) continue;
      this.syncAt.delete(m.sequenceId);
      this.offsets.push(m.preciseOriginTimestamp + ((s.correction + m.correction) >> 16n) - BigInt(Math.round(s.receivedAt)));
    }
    if (this.syncAt.size > 64) this.syncAt.clear(); // Follow_Ups that never came: bounded
    if (this.offsets.length > 4 * WANT_SAMPLES) this.offsets.splice(0, this.offsets.length - WANT_SAMPLES);
    return now + 10_000_000;
  }

  /** The grandmaster's time from the samples so far; throws naming what was heard when they are too few. */
  result(waitedS: number): GrandmasterTime {
    if (this.offsets.length < 3) {
      const others = [...this.heard].map(([k, n]) => `${k} (${n} Sync)`).join(', ') || 'no Sync at all';
      throw new Error(`the external grandmaster ${formatClockIdentity(this.want)} (domain ${this.domain}) sent ${this.offsets.length} usable Sync in ${waitedS} s on the lab interface; heard: ${others}. Is it running, on this link, and is ptp.identity in the rig its identity?`);
    }
    const sorted = [...this.offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const offsetNs = sorted[Math.floor(sorted.length / 2)];
    return { timescale: linearTimescale(offsetNs), offsetNs, samples: sorted.length, spreadNs: Number(sorted[sorted.length - 1] - sorted[0]) };
  }

  close(): void {
    this.event.close();
    this.general.close();
  }
}

/**
 * Follows the grandmaster `identity` (any form parseClockIdentity reads) on `domain` in
 * real time, for at most `seconds`; throws naming what it heard when it hears too little.
 */
export async function followGrandmasterTime(transport: LabTransport, identity: string, domain: number, seconds: number): Promise<GrandmasterTime> {
  const listener = new GrandmasterTimeListener(transport, identity, domain);
  try {
    const until = transport.now() + seconds * 1e9;
    while (!listener.done && transport.now() < until) {
      listener.poll(transport.now());
      await new Promise((r) => setTimeout(r, 10));
    }
    return listener.result(seconds);
  } finally {
    listener.close();
  }
}
