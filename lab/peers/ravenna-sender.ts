// A RAVENNA-style sender (FIELD-NOTES "RAVENNA"): the session is announced by DNS-SD over
// mDNS as an instance of `_rtsp._tcp` with subtype `_ravenna_session` whose instance name
// is the session name (the device itself as `_ravenna._sub._rtsp._tcp`), and served by an
// RTSP server that answers DESCRIBE rtsp://host:port/by-name/<url-encoded name> with the
// SDP and pushes ANNOUNCE with the new SDP when the session changes. Streams: 44.1-384
// kHz, L16 or L24, packet times from 125 µs (6/12/16/48/96/192 samples at 48 kHz) up to
// 4 ms. The SDP carries RAVENNA's additions — a=clock-domain:PTPv2 <d>, a=sync-time:0,
// a=framecount:<n>, a media-level a=source-filter, the PTP clock identity in lower case —
// in the order bondagit/aes67-linux-daemon (a RAVENNA implementation) writes them
// [tschiemer/aes67 rav.h; aes67-linux-daemon daemon/README.md source SDP and PR #100].
import type { LabTransport, TimedActor } from '../net/lab-transport.ts';
import { MdnsResponder } from '../net/mdns-responder.ts';
import { RAVENNA_DEVICE_SUBTYPE, RAVENNA_SESSION_SUBTYPE, RTSP_SERVICE, checkInstanceName } from '../net/mdns.ts';
import type { PcmEncoding } from '../net/pcm.ts';
import type { PtpTimescale } from '../net/ptp-timescale.ts';
import { RtspServer } from '../net/rtsp-server.ts';
import type { StreamTransport } from '../net/rtsp-stream.ts';
import { formatPtimeMs } from '../net/sdp.ts';
import type { SignalSpec } from '../signal/index.ts';
import type { Signal } from '../signal/signal.ts';
import { Aes67Sender, fnv1a, isMulticast, resolveFramesPerPacket } from './aes67-sender.ts';
import { DanteAes67Sender } from './dante-aes67-sender.ts';

export interface RavennaStreamSettings {
  destination: string;
  port?: number;
  channels: number;
  sampleRate: number;
  encoding: PcmEncoding | 'AM824';
  framesPerPacket?: number;
  ptimeUs?: number;
  grandmaster: string;
  ptpDomain?: number;
  mediaclkOffset?: number;
  payloadType?: number;
  ttl?: number;
}

export interface RavennaSenderOptions extends RavennaStreamSettings {
  transport: LabTransport;
  timescale: PtpTimescale;
  /** TCP (live) or the virtual stream hub's host (virtual time). */
  streams: StreamTransport;
  sessionName: string;
  /** The device's name (its own DNS-SD instance; its mDNS host label is derived from it). */
  deviceName: string;
  rtspPort?: number;
  signal: Signal | SignalSpec;
  dscp?: number;
  startAtNs?: number;
}

export class RavennaSender implements TimedActor {
  readonly mdns: MdnsResponder;
  readonly rtsp: RtspServer;
  rtp: Aes67Sender;
  private settings: RavennaStreamSettings;
  private readonly sessionId: number;
  private version: bigint;
  private readonly retired: Aes67Sender[] = [];

  constructor(readonly o: RavennaSenderOptions) {
    checkInstanceName(o.sessionName);
    checkInstanceName(o.deviceName);
    if (o.sessionName === o.deviceName) throw new Error(`RAVENNA session and device both named "${o.sessionName}": the two DNS-SD instances of _rtsp._tcp need different names`);
    this.settings = RavennaSender.check(o);
    this.sessionId = 1 + (fnv1a(`ravenna ${o.deviceName} ${o.sessionName}`) % 2_000_000_000);
    this.version = 1n;
    this.rtp = this.makeSender(this.settings);
    const rtspPort = o.rtspPort ?? 554;
    this.rtsp = new RtspServer({ streams: o.streams, port: rtspPort, host: o.transport.address });
    this.rtsp.setSession(o.sessionName, this.sdp());
    this.mdns = new MdnsResponder({ transport: o.transport, hostLabel: o.deviceName.replace(/[^A-Za-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'ravenna' });
    this.mdns.addService({ instance: o.sessionName, service: RTSP_SERVICE, subtypes: [RAVENNA_SESSION_SUBTYPE], port: rtspPort });
    this.mdns.addService({ instance: o.deviceName, service: RTSP_SERVICE, subtypes: [RAVENNA_DEVICE_SUBTYPE], port: rtspPort });
  }

  static check(s: RavennaStreamSettings): RavennaStreamSettings {
    if (s.encoding === 'AM824') throw new Error('AM824 is a RAVENNA format the lab\'s PCM codecs do not implement: use L16 or L24');
    if (s.encoding !== 'L16' && s.encoding !== 'L24') throw new Error(`RAVENNA streams here are L16 or L24, not ${s.encoding}`);
    if (!isMulticast(s.destination)) throw new Error(`RAVENNA session destination ${s.destination} must be a multicast group`);
    DanteAes67Sender.checkGmid(s.grandmaster);
    resolveFramesPerPacket(s.sampleRate, s.framesPerPacket, s.ptimeUs);
    const d = s.ptpDomain ?? 0;
    if (!Number.isInteger(d) || d < 0 || d > 127) throw new RangeError(`PTP domain ${d} must be 0..127`);
    return { ...s };
  }

  get stream(): RavennaStreamSettings {
    return { ...this.settings };
  }

  get url(): string {
    return this.rtsp.urlOf(this.o.sessionName);
  }

  /** The SDP with RAVENNA's additions (see the file comment). */
  sdp(): string {
    const s = this.settings;
    const d = this.rtp.stream;
    const domain = s.ptpDomain ?? 0;
    const c = `c=IN IP4 ${d.destination}/${s.ttl ?? 15}`;
    return [
      'v=0',
      `o=- ${this.sessionId} ${this.version} IN IP4 ${this.o.transport.address}`,
      `s=${this.o.sessionName}`,
      c,
      't=0 0',
      `a=clock-domain:PTPv2 ${domain}`,
      `m=audio ${d.port} RTP/AVP ${d.payloadType}`,
      c,
      `a=rtpmap:${d.payloadType} ${d.encoding}/${d.sampleRate}/${d.channels}`,
      'a=sync-time:0',
      `a=framecount:${d.framesPerPacket}`,
      `a=ptime:${formatPtimeMs((d.framesPerPacket * 1e6) / d.sampleRate)}`,
      `a=mediaclk:direct=${d.mediaclkOffset ?? 0}`,
      // FIELD-NOTES: RAVENNA writes the PTP clock identity in lower case.
      `a=ts-refclk:ptp=IEEE1588-2008:${s.grandmaster.toLowerCase()}:${domain}`,
      'a=recvonly',
      `a=source-filter: incl IN IP4 ${d.destination} ${this.o.transport.address}`,
      '',
    ].join('\r\n');
  }

  /**
   * Changes the session (format, group, grandmaster...): a new SDP version, pushed by RTSP
   * ANNOUNCE to every client that described it. A new format or group restarts the RTP.
   */
  update(change: Partial<RavennaStreamSettings>): void {
    const next = RavennaSender.check({ ...this.settings, ...change });
    const rtpChanged = ['destination', 'port', 'channels', 'sampleRate', 'encoding', 'framesPerPacket', 'ptimeUs', 'mediaclkOffset', 'payloadType', 'ttl'].some(
      (k) => (next as unknown as Record<string, unknown>)[k] !== (this.settings as unknown as Record<string, unknown>)[k],
    );
    this.settings = next;
    if (rtpChanged) {
      this.rtp.close();
      this.retired.push(this.rtp);
      this.rtp = this.makeSender(next);
    }
    this.version++;
    this.rtsp.setSession(this.o.sessionName, this.sdp());
  }

  poll(now: number): number {
    return Math.min(this.rtp.poll(now), this.rtsp.poll(), this.mdns.poll(now));
  }

  close(): void {
    this.mdns.close();
    this.rtsp.close();
    this.rtp.close();
  }

  private makeSender(s: RavennaStreamSettings): Aes67Sender {
    return new Aes67Sender({
      transport: this.o.transport,
      timescale: this.o.timescale,
      destination: s.destination,
      port: s.port ?? 5004,
      channels: s.channels,
      sampleRate: s.sampleRate,
      encoding: s.encoding as PcmEncoding,
      framesPerPacket: s.framesPerPacket,
      ptimeUs: s.ptimeUs,
      signal: this.o.signal,
      mediaclkOffset: s.mediaclkOffset ?? 0,
      payloadType: s.payloadType ?? 98,
      dscp: this.o.dscp ?? 34,
      ttl: s.ttl ?? 15,
      sessionName: this.o.sessionName,
      startAtNs: this.o.startAtNs,
    });
  }
}
