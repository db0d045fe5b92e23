// The time the lab's PTP followers keep: senders stamp RTP from it and lab receivers judge
// arrival against it. It is the timescale of the grandmaster that currently leads the
// network (the one in the master state, not powered off), so a failover hands followers
// to the new grandmaster as a slave's BMCA would, and a step of the grandmaster's clock
// steps them too. In between (the old master is gone, the new one not yet elected) they
// hold the old master's time, as a slave in holdover does. Without grandmasters every
// follower shares the true timescale (a perfect PTP network, no PTP packets).
import type { Grandmaster } from '../peers/grandmaster.ts';
import type { NativeGrandmaster } from '../peers/native-grandmaster.ts';
import type { PtpTimescale } from '../net/ptp-timescale.ts';

export class NetworkTime implements PtpTimescale {
  private current: number;
  /** Local time and name of every change of leader. */
  readonly changes: { atNs: number; grandmaster: string }[] = [];

  constructor(
    private readonly base: PtpTimescale,
    private readonly grandmasters: { name: string; gm: Grandmaster | NativeGrandmaster; poweredOff: (now: number) => boolean }[],
  ) {
    this.current = grandmasters.length > 0 ? 0 : -1;
  }

  /** The leading grandmaster, if any. */
  get leader(): { name: string; gm: Grandmaster | NativeGrandmaster } | undefined {
    return this.current >= 0 ? this.grandmasters[this.current] : undefined;
  }

  /** Follows a new leader if the current one is gone and another is master; call between steps. */
  update(now: number): void {
    // With one grandmaster there is no other to follow (and no question to ask it: every slice).
    if (this.current < 0 || this.grandmasters.length < 2) return;
    const leading = (i: number) => this.grandmasters[i].gm.state === 'master' && !this.grandmasters[i].poweredOff(now);
    if (leading(this.current)) return;
    for (let i = 0; i < this.grandmasters.length; i++) {
      if (i !== this.current && leading(i)) {
        this.current = i;
        this.changes.push({ atNs: now, grandmaster: this.grandmasters[i].name });
        return;
      }
    }
  }

  private get timescale(): PtpTimescale {
    return this.current >= 0 ? this.grandmasters[this.current].gm.timescale : this.base;
  }

  ptpTimeAt(localNs: number): bigint {
    return this.timescale.ptpTimeAt(localNs);
  }

  localTimeOf(ptpNs: bigint): number {
    return this.timescale.localTimeOf(ptpNs);
  }
}
