// Shared by the grandmaster tests: a virtual network with a tap that records every
// datagram as it is sent (the independent view of what went on the wire), captures of the
// tap for tshark, and a probe that plays a PTP slave's part (Delay_Req, receive times).
import { loadNative, type VirtualClock, type VirtualNetwork } from '../../native/index.ts';
import { virtualHost, type DatagramSocket, type LabTransport, type TimedActor } from '../net/lab-transport.ts';
import { LINKTYPE_ETHERNET, PcapngWriter } from '../net/pcap/pcapng-writer.ts';
import { parsePtp, ptpHeader, PTP_EVENT_PORT, PTP_GENERAL_PORT, PTP_PRIMARY_GROUP, serializePtp, type PortIdentity, type PtpMessage } from '../net/ptp.ts';
import { buildUdpFrame } from '../net/udp-frame.ts';

export interface TappedDatagram {
  source: string;
  destination: string;
  sentAt: number;
  dscp: number;
  data: Uint8Array;
  /** Parsed, when it is a PTPv2 message. */
  ptp?: PtpMessage;
}

export interface VirtualPtpNetwork {
  clock: VirtualClock;
  network: VirtualNetwork;
  baseDelayNs: number;
  tapped: TappedDatagram[];
  host(address: string): LabTransport;
}

export function virtualPtpNetwork(baseDelayNs = 50_000): VirtualPtpNetwork {
  const native = loadNative();
  const clock = new native.VirtualClock(0);
  const network = new native.VirtualNetwork(clock, baseDelayNs);
  const tapped: TappedDatagram[] = [];
  network.setImpairment((p) => {
    const data = new Uint8Array(p.data);
    const r = parsePtp(data);
    tapped.push({ source: p.source, destination: p.destination, sentAt: p.sentAt, dscp: p.dscp, data, ptp: r.ok ? r.message : undefined });
    return [0];
  });
  return { clock, network, baseDelayNs, tapped, host: (address) => virtualHost(network, clock, address) };
}

const split = (endpoint: string) => {
  const [ip, port] = endpoint.split(':');
  return { ip, port: Number(port) };
};

/** The tapped datagrams as Ethernet frames in a pcapng, stamped at captureEpochNs + sentAt. */
export function writeTapCapture(file: string, tapped: TappedDatagram[], captureEpochNs = 1_767_225_600_000_000_000n): void {
  const w = new PcapngWriter(file);
  const ifc = w.addInterface({ linkType: LINKTYPE_ETHERNET, name: 'virtual' });
  tapped.forEach((t, i) => {
    const s = split(t.source);
    const d = split(t.destination);
    const frame = buildUdpFrame({ sourceIp: s.ip, destinationIp: d.ip, sourcePort: s.port, destinationPort: d.port, payload: t.data, dscp: t.dscp, identification: i & 0xffff, ttl: 1 });
    w.writePacket(ifc, captureEpochNs + BigInt(t.sentAt), frame);
  });
  w.close();
}

export interface ProbeReceipt {
  message: PtpMessage;
  receivedAt: number;
}

/**
 * A slave's side of E2E: listens on 319/320 and sends a Delay_Req every `periodNs`
 * (multicast, as ptp4l does), remembering when each left.
 */
export class PtpProbe implements TimedActor {
  readonly received: ProbeReceipt[] = [];
  readonly delayReqSentAt = new Map<number, number>();
  private readonly event: DatagramSocket;
  private readonly general: DatagramSocket;
  private next: number;
  private seq = 0;

  constructor(
    private readonly transport: LabTransport,
    readonly portIdentity: PortIdentity,
    private readonly periodNs: number,
    firstAt: number,
    private readonly domain = 0,
    private readonly correction = 0n,
  ) {
    this.event = transport.open({ port: PTP_EVENT_PORT, dscp: 46 });
    this.general = transport.open({ port: PTP_GENERAL_PORT, dscp: 34 });
    this.event.join(PTP_PRIMARY_GROUP);
    this.general.join(PTP_PRIMARY_GROUP);
    this.next = firstAt;
  }

  poll(now: number): number {
    for (const s of [this.event, this.general]) {
      for (let d = s.receive(); d; d = s.receive()) {
        const r = parsePtp(d.data);
        if (r.ok && r.message.sourcePortIdentity.clockIdentity !== this.portIdentity.clockIdentity) this.received.push({ message: r.message, receivedAt: d.receivedAt });
      }
    }
    if (this.periodNs > 0 && now >= this.next) {
      const seq = this.seq;
      this.seq = (this.seq + 1) & 0xffff;
      this.delayReqSentAt.set(seq, now);
      const req: PtpMessage = {
        ...ptpHeader('delayReq', { sourcePortIdentity: this.portIdentity, sequenceId: seq, domain: this.domain, correction: this.correction }),
        type: 'delayReq',
        tlvs: [],
        originTimestamp: 0n,
      };
      this.event.send(`${PTP_PRIMARY_GROUP}:${PTP_EVENT_PORT}`, serializePtp(req));
      this.next += this.periodNs;
    }
    return this.periodNs > 0 ? this.next : Infinity;
  }

  /** Sends raw bytes to the event port (for malformed-input tests). */
  sendRaw(data: Uint8Array): void {
    this.event.send(`${PTP_PRIMARY_GROUP}:${PTP_EVENT_PORT}`, data);
  }

  close(): void {
    this.event.close();
    this.general.close();
  }
}
