// A capture of everything sent on a native VirtualNetwork, as pcapng (Ethernet/IPv4/UDP
// frames stamped with virtual send time), so tshark can dissect what the lab's peers put
// on the virtual wire. It sits in the network's impairment hook and hands each datagram
// on to an impairment model if there is one.
import type { ImpairedPacket, VirtualNetwork } from '../../native/index.ts';
import { LINKTYPE_ETHERNET, PcapngWriter } from '../net/pcap/pcapng-writer.ts';
import { buildUdpFrame } from '../net/udp-frame.ts';

/** Virtual time 0 is stamped as this wall time (2026-01-01T00:00:00Z) so tools show plausible dates. */
const EPOCH_NS = 1_767_225_600_000_000_000n;

export class VirtualCapture {
  packets = 0;
  private readonly writer: PcapngWriter;
  private readonly ifc: number;
  private closed = false;

  constructor(
    network: VirtualNetwork,
    file: string,
    private readonly inner?: (packet: ImpairedPacket) => number[],
  ) {
    this.writer = new PcapngWriter(file);
    this.ifc = this.writer.addInterface({ linkType: LINKTYPE_ETHERNET, name: 'virtual' });
    network.setImpairment((p) => this.take(p));
  }

  close(): void {
    if (!this.closed) this.writer.close();
    this.closed = true;
  }

  private take(p: ImpairedPacket): number[] {
    if (!this.closed) {
      const [sourceIp, sourcePort] = p.source.split(':');
      const [destinationIp, destinationPort] = p.destination.split(':');
      const frame = buildUdpFrame({ sourceIp, destinationIp, sourcePort: Number(sourcePort), destinationPort: Number(destinationPort), payload: p.data, dscp: p.dscp, identification: this.packets & 0xffff });
      this.writer.writePacket(this.ifc, EPOCH_NS + BigInt(Math.round(p.sentAt)), frame);
      this.packets++;
    }
    return this.inner ? this.inner(p) : [0];
  }
}
