// The scenario's hook into the VirtualNetwork: every datagram sent passes here once (a
// multicast send once, whatever the number of receivers). It applies the scenario's
// impairments (lab/impair ImpairmentModel) to the packets `select` and `active` choose,
// logs every audio packet the model drops or delays (the "audio actually lost" that
// glitches are checked against), and writes the device's transmit packets to a pcapng for
// lab/analyze, as a tap on the device's port would see them (at their send time).
//
// Which packets: by default all traffic, as a real network would hurt PTP and discovery as
// well as audio; `select.traffic` narrows it to media (RTP to and from the device), ptp
// (ports 319/320) or discovery (SAP 9875, mDNS 5353); `select.path` to packets the device
// sent (from-device) or did not send (to-device).
import type { ImpairedPacket, VirtualNetwork } from '../../native/index.ts';
import type { ImpairmentModel } from '../impair/impairment.ts';
import { LossLedger } from '../impair/loss-ledger.ts';
import { LINKTYPE_ETHERNET, PcapngWriter } from '../net/pcap/pcapng-writer.ts';
import { buildSap, SAP_GROUP_DANTE, SAP_PORT } from '../net/sap.ts';
import { buildUdpFrame } from '../net/udp-frame.ts';

export type TrafficClass = 'media' | 'ptp' | 'discovery' | 'other';

export interface DroppedPacket {
  /** Destination "ip:port" of the stream. */
  endpoint: string;
  direction: 'in' | 'out';
  sequence: number;
  rtpTimestamp: number;
  sentAt: number;
}

export interface NetworkTapOptions {
  network: VirtualNetwork;
  deviceAddress: string;
  impairment?: ImpairmentModel;
  traffic: TrafficClass[];
  path: 'both' | 'to-device' | 'from-device';
  /** Impairments act for packets sent in [from, until). */
  activeFrom: number;
  activeUntil: number;
  /** Capture the device's transmit packets here (pcapng). */
  captureFile?: string;
  /** Virtual time 0 in the capture (ns since the Unix epoch), so tools show plausible dates. */
  captureEpochNs?: bigint;
}

export class NetworkTap {
  /** Audio packets to the device's receive streams (destination "ip:port"). */
  readonly mediaIn = new Set<string>();
  /** The device's transmit streams' destinations. */
  readonly mediaOut = new Set<string>();
  readonly dropped: DroppedPacket[] = [];
  /** The impairments' own record of what they did to audio (lab/impair/loss-ledger.ts). */
  readonly ledger = new LossLedger();
  /** Audio packets the model delayed: the largest extra delay (ns), and how many it duplicated. */
  mediaDelayMaxNs = 0;
  mediaDuplicated = 0;
  captured = 0;
  private writer?: PcapngWriter;
  private ifc = 0;
  private readonly traffic: Set<TrafficClass>;

  constructor(private readonly o: NetworkTapOptions) {
    this.traffic = new Set(o.traffic);
    if (o.captureFile) {
      this.writer = new PcapngWriter(o.captureFile);
      this.ifc = this.writer.addInterface({ linkType: LINKTYPE_ETHERNET, name: `device ${o.deviceAddress}` });
    }
    o.network.setImpairment((p) => this.take(p));
  }

  /**
   * Puts the device's transmit SDPs at the head of the capture as SAP announcements, so
   * lab/analyze reads the streams' formats from them. The device does not announce them
   * itself (EmulatedDut has no SAP yet); each carries a comment saying so.
   */
  announceInCapture(sdps: string[], atNs: number): void {
    if (!this.writer) return;
    for (const sdp of sdps) {
      const payload = buildSap({ messageType: 'announce', msgIdHash: 1 + (this.captured % 0xfffe), origin: this.o.deviceAddress, sdp });
      const frame = buildUdpFrame({ sourceIp: this.o.deviceAddress, destinationIp: SAP_GROUP_DANTE, sourcePort: SAP_PORT, destinationPort: SAP_PORT, payload });
      this.writer.writePacket(this.ifc, (this.o.captureEpochNs ?? 0n) + BigInt(Math.round(atNs)), frame, "lab-made: the device's TX SDP as the engine writes it (the emulated device does not announce by SAP yet)");
      this.captured++;
    }
  }

  close(): void {
    this.o.network.setImpairment(null);
    this.writer?.close();
    this.writer = undefined;
  }

  classify(p: Pick<ImpairedPacket, 'destination'>): TrafficClass {
    if (this.mediaIn.has(p.destination) || this.mediaOut.has(p.destination)) return 'media';
    const port = Number(p.destination.slice(p.destination.lastIndexOf(':') + 1));
    if (port === 319 || port === 320) return 'ptp';
    if (port === SAP_PORT || port === 5353) return 'discovery';
    return 'other';
  }

  private take(p: ImpairedPacket): number[] {
    const copies = this.decide(p);
    if (this.classify(p) === 'media') this.ledger.record(p.destination, this.mediaOut.has(p.destination) ? 'out' : 'in', p.data, p.sentAt, copies);
    return copies;
  }

  private decide(p: ImpairedPacket): number[] {
    const fromDevice = p.source.slice(0, p.source.lastIndexOf(':')) === this.o.deviceAddress;
    const cls = this.classify(p);
    if (this.writer && fromDevice && cls === 'media') {
      const [sourceIp, sourcePort] = p.source.split(':');
      const [destinationIp, destinationPort] = p.destination.split(':');
      const frame = buildUdpFrame({ sourceIp, destinationIp, sourcePort: Number(sourcePort), destinationPort: Number(destinationPort), payload: p.data, dscp: p.dscp, identification: this.captured & 0xffff });
      this.writer.writePacket(this.ifc, (this.o.captureEpochNs ?? 0n) + BigInt(Math.round(p.sentAt)), frame);
      this.captured++;
    }
    const model = this.o.impairment;
    if (!model || !this.traffic.has(cls) || p.sentAt < this.o.activeFrom || p.sentAt >= this.o.activeUntil) return [0];
    if ((this.o.path === 'to-device' && fromDevice) || (this.o.path === 'from-device' && !fromDevice)) return [0];
    const copies = model.decide(p);
    if (cls === 'media') {
      if (copies.length === 0 && p.data.length >= 12) {
        const d = p.data;
        this.dropped.push({
          endpoint: p.destination,
          direction: this.mediaOut.has(p.destination) ? 'out' : 'in',
          sequence: (d[2] << 8) | d[3],
          rtpTimestamp: ((d[4] << 24) | (d[5] << 16) | (d[6] << 8) | d[7]) >>> 0,
          sentAt: p.sentAt,
        });
      }
      for (const c of copies) if (c > this.mediaDelayMaxNs) this.mediaDelayMaxNs = c;
      if (copies.length > 1) this.mediaDuplicated++;
    }
    return copies;
  }
}
