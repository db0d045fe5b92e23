// A sender's scripted events in a scenario:
// - reboot (bondagit/aes67-linux-daemon#95, FIELD-NOTES "What users complain about"): the
//   sender goes silent for the downtime, then comes back as a freshly booted one does — a
//   new SSRC and a new random sequence number, its RTP timestamps still from PTP time (the
//   same SDP, so a receiver that keys on the SSRC must take the new one on its own);
// - session change (ravenna; FIELD-NOTES "RAVENNA": the server pushes ANNOUNCE with the
//   new SDP when the session changes): RavennaSender.update, whose RTSP server pushes it.
import type { TimedActor } from '../net/lab-transport.ts';
import { Aes67Sender, fnv1a } from '../peers/aes67-sender.ts';
import { RavennaSender } from '../peers/ravenna-sender.ts';
import type { SenderEventSpec } from './schema.ts';

export interface SenderEventRecord {
  kind: 'reboot' | 'session';
  /** When it happened (local ns). */
  at: number;
  /** reboot: when the sender is back (its first packet is due one packet time later). */
  backAt?: number;
  detail: string;
}

export class ScriptedSender implements TimedActor {
  readonly done: SenderEventRecord[] = [];
  private readonly pending: SenderEventSpec[];
  private boots = 0;
  private sender: Aes67Sender | RavennaSender;

  constructor(sender: Aes67Sender | RavennaSender, events: SenderEventSpec[]) {
    this.sender = sender;
    this.pending = [...events].sort((a, b) => a.at - b.at);
  }

  /** The RTP sender sending now. */
  get rtp(): Aes67Sender {
    return this.sender instanceof RavennaSender ? this.sender.rtp : this.sender;
  }

  poll(now: number): number {
    while (this.pending.length > 0 && this.pending[0].at <= now) this.apply(this.pending.shift()!);
    const next = this.sender.poll(now);
    return this.pending.length > 0 ? Math.min(next, this.pending[0].at) : next;
  }

  private apply(e: SenderEventSpec): void {
    if ('reboot' in e) {
      const old = this.rtp;
      old.close();
      this.boots++;
      const name = old.stream.name;
      const backAt = e.at + e.reboot;
      const fresh = new Aes67Sender({
        ...old.o,
        ssrc: fnv1a(`ssrc ${name} boot ${this.boots}`),
        initialSequence: fnv1a(`seq ${name} boot ${this.boots}`) & 0xffff,
        startAtNs: backAt,
      });
      if (this.sender instanceof RavennaSender) this.sender.rtp = fresh;
      else this.sender = fresh;
      this.done.push({ kind: 'reboot', at: e.at, backAt, detail: `off ${e.reboot / 1e6} ms, back with SSRC 0x${fresh.ssrc.toString(16).padStart(8, '0')} (was 0x${old.ssrc.toString(16).padStart(8, '0')})` });
      return;
    }
    if (!(this.sender instanceof RavennaSender)) throw new Error('only a RAVENNA sender changes its session');
    const [group, port] = e.session.destination.split(':');
    this.sender.update({ destination: group, port: Number(port) });
    this.done.push({ kind: 'session', at: e.at, detail: `session moved to ${e.session.destination} (RTSP ANNOUNCE pushed)` });
  }
}
