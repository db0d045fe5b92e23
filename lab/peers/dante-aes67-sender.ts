// What a Dante device does when it transmits an AES67 flow, quirk by quirk (each cites
// FIELD-NOTES "Dante in AES67 mode" and where it was seen):
// - multicast only, one flow per group, port 5004, 48 kHz, L24, 1 ms (48 frames), at most
//   8 channels per flow [Audinate Dante Controller guide; Glensound Beatrice manual];
// - the group is in the configured prefix, 239.69.0.0/16 by default [same];
// - SAP to 239.255.255.255:9875, not RFC 2974's 224.2.127.254
//   [bondagit/aes67-linux-daemon daemon/README.md; martim01/pam#53];
// - its SDP has Dante's shape and line order [bondagit/aes67-linux-daemon#5 (AVIO SDP);
//   philhartung/aoip-tester sdp/devices/avio.sdp]: o=- <id> <version> with the version
//   starting at the id, s=<device> : <flow>, session-level c=<group>/32, a=keywds:Dante,
//   i=<n> channels: <labels, comma separated>, a=recvonly (sic: Dante writes it on its
//   transmit flows), PT 97, a=ptime:1, ts-refclk with the current grandmaster's EUI-64
//   and domain 0, a non-zero a=mediaclk:direct=, and no framecount, clock-domain or
//   source-filter (#94: a source-filter hid a source from Dante);
// - the ts-refclk follows the grandmaster: on a change the SDP gets a new version and is
//   re-announced (FIELD-NOTES "AES67 / ST 2110-30 / PTP"; FalconChristmas/fpp#2849).
import type { LabTransport, TimedActor } from '../net/lab-transport.ts';
import type { PtpTimescale } from '../net/ptp-timescale.ts';
import { SAP_GROUP_DANTE } from '../net/sap.ts';
import type { SignalSpec } from '../signal/index.ts';
import type { Signal } from '../signal/signal.ts';
import { Aes67Sender, fnv1a } from './aes67-sender.ts';
import { SapAnnouncer } from './sap-announcer.ts';

export const DANTE_AES67_MAX_CHANNELS = 8;
export const DANTE_AES67_PORT = 5004;
export const DANTE_AES67_PAYLOAD_TYPE = 97;
export const DANTE_DEFAULT_PREFIX = '239.69.0.0/16';

export interface DanteAes67SenderOptions {
  transport: LabTransport;
  timescale: PtpTimescale;
  /** Dante device name, e.g. "AVIOUSB-503633". */
  deviceName: string;
  /** Dante flow number (the "2" of "AVIOUSB-503633 : 2"). */
  flowId?: number;
  channels: number;
  /** Channel names (default "01", "02", ...). */
  channelLabels?: string[];
  signal: Signal | SignalSpec;
  /** The current PTP grandmaster's clock identity (EUI-64, XX-XX-...). */
  grandmaster: string;
  /** The device's AES67 multicast prefix (default 239.69.0.0/16). */
  multicastPrefix?: string;
  /** SAP interval (default 30 s; Dante's own interval is unverified, 30 s is aes67-linux-daemon's default). */
  sapIntervalNs?: number;
  /** Media clock offset (default: a non-zero value derived from the device name). */
  mediaclkOffset?: number;
  /** Unverified for Dante's AES67 flows: the AES67 default AF41 (34). */
  dscp?: number;
  /** Extra departure delay (late-packet scenarios). */
  sendDelayNs?: number;
  startAtNs?: number;
}

const EUI64 = /^[0-9A-F]{2}(-[0-9A-F]{2}){7}$/;

/** Parses "239.69.0.0/16" into the fixed octets of a /8, /16 or /24 prefix under 239/8. */
export function parseMulticastPrefix(prefix: string): { octets: number[]; bits: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(8|16|24)$/.exec(prefix);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  if (!m || octets.some((o) => o > 255) || octets[0] !== 239) {
    throw new Error(`multicast prefix "${prefix}": write an administratively scoped 239.x.y.z/8, /16 or /24, e.g. 239.69.0.0/16`);
  }
  return { octets, bits: Number(m[5]) };
}

export function inMulticastPrefix(address: string, prefix: string): boolean {
  const { octets, bits } = parseMulticastPrefix(prefix);
  const a = address.split('.').map(Number);
  for (let i = 0; i < bits / 8; i++) if (a[i] !== octets[i]) return false;
  return true;
}

export class DanteAes67Sender implements TimedActor {
  readonly rtp: Aes67Sender;
  readonly sap: SapAnnouncer;
  readonly destination: string;
  readonly sessionName: string;
  readonly sessionId: number;
  private version: bigint;
  private gmid: string;
  private readonly labels: string[];

  constructor(readonly o: DanteAes67SenderOptions) {
    if (!Number.isInteger(o.channels) || o.channels < 1 || o.channels > DANTE_AES67_MAX_CHANNELS) {
      throw new RangeError(`a Dante AES67 flow carries 1 to ${DANTE_AES67_MAX_CHANNELS} channels, not ${o.channels}: split them into flows of at most ${DANTE_AES67_MAX_CHANNELS}`);
    }
    if (!o.deviceName || /[\r\n]/.test(o.deviceName)) throw new Error(`Dante device name "${o.deviceName}" must be a non-empty single line`);
    const flowId = o.flowId ?? 1;
    if (!Number.isInteger(flowId) || flowId < 1) throw new RangeError(`Dante flow id ${flowId} must be a positive integer`);
    this.gmid = DanteAes67Sender.checkGmid(o.grandmaster);
    this.labels = o.channelLabels ?? Array.from({ length: o.channels }, (_, i) => String(i + 1).padStart(2, '0'));
    if (this.labels.length !== o.channels) throw new Error(`${this.labels.length} channel labels for ${o.channels} channels`);
    for (const l of this.labels) if (/[\r\n]/.test(l)) throw new Error(`channel label "${l}" must be a single line`);

    const prefix = parseMulticastPrefix(o.multicastPrefix ?? DANTE_DEFAULT_PREFIX);
    const key = `${o.deviceName} : ${flowId}`;
    const h = fnv1a(`group ${key}`);
    const octets = [...prefix.octets];
    // The device picks a group inside its prefix; avoid .0 and .255 in the last octet.
    if (prefix.bits <= 8) octets[1] = (h >>> 24) & 0xff;
    if (prefix.bits <= 16) octets[2] = (h >>> 16) & 0xff;
    octets[3] = 1 + ((h & 0xffff) % 254);
    this.destination = octets.join('.');
    this.sessionName = key;
    this.sessionId = 1_000_000 + (fnv1a(`session ${key}`) % 9_000_000);
    this.version = BigInt(this.sessionId);
    const mediaclkOffset = o.mediaclkOffset ?? ((fnv1a(`mediaclk ${key}`) >>> 0) || 1);
    if (mediaclkOffset === 0) throw new RangeError('Dante writes a non-zero mediaclk:direct= offset; 0 is not what a Dante device sends');

    this.rtp = new Aes67Sender({
      transport: o.transport,
      timescale: o.timescale,
      destination: this.destination,
      port: DANTE_AES67_PORT,
      channels: o.channels,
      sampleRate: 48000,
      encoding: 'L24',
      framesPerPacket: 48,
      signal: o.signal,
      mediaclkOffset,
      payloadType: DANTE_AES67_PAYLOAD_TYPE,
      dscp: o.dscp ?? 34,
      sessionName: key,
      sendDelayNs: o.sendDelayNs,
      startAtNs: o.startAtNs,
    });
    this.sap = new SapAnnouncer({ transport: o.transport, group: SAP_GROUP_DANTE, intervalNs: o.sapIntervalNs ?? 30e9, sdp: this.sdp() });
  }

  static checkGmid(gmid: string): string {
    const g = gmid.toUpperCase();
    if (!EUI64.test(g)) throw new Error(`grandmaster identity "${gmid}": write the EUI-64 as XX-XX-XX-XX-XX-XX-XX-XX`);
    return g;
  }

  get grandmaster(): string {
    return this.gmid;
  }

  /** The SDP in Dante's shape and line order (see the file comment for the sources). */
  sdp(): string {
    const d = this.rtp.stream;
    return [
      'v=0',
      `o=- ${this.sessionId} ${this.version} IN IP4 ${this.o.transport.address}`,
      `s=${this.sessionName}`,
      `c=IN IP4 ${this.destination}/32`,
      't=0 0',
      'a=keywds:Dante',
      `m=audio ${DANTE_AES67_PORT} RTP/AVP ${DANTE_AES67_PAYLOAD_TYPE}`,
      `i=${this.o.channels} channels: ${this.labels.join(', ')}`,
      'a=recvonly',
      `a=rtpmap:${DANTE_AES67_PAYLOAD_TYPE} L24/48000/${this.o.channels}`,
      'a=ptime:1',
      `a=ts-refclk:ptp=IEEE1588-2008:${this.gmid}:0`,
      `a=mediaclk:direct=${d.mediaclkOffset}`,
      '',
    ].join('\r\n');
  }

  /** The device follows a new grandmaster: new SDP version, announced at once. */
  setGrandmaster(gmid: string): void {
    const g = DanteAes67Sender.checkGmid(gmid);
    if (g === this.gmid) return;
    this.gmid = g;
    this.version++;
    this.sap.update(this.sdp());
  }

  poll(now: number): number {
    return Math.min(this.rtp.poll(now), this.sap.poll(now));
  }

  /** Deletes the SAP announcement and stops sending. */
  close(): void {
    this.sap.stop();
    this.rtp.close();
  }
}
