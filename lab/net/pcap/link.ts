// From a captured frame to its IPv4 packet: Ethernet (with 802.1Q / 802.1ad tags), Linux
// cooked SLL and SLL2, raw IP, BSD loopback. Anything else is counted, not decoded.

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW_OLD = 12;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_LINUX_SLL2 = 276;

export interface LinkInfo {
  /** Offset of the IPv4 header in the frame, or -1 when the frame carries no IPv4. */
  ipOffset: number;
  /** Ethernet destination MAC as 6 bytes at `macOffset`, or -1 (not Ethernet). */
  macOffset: number;
  vlan: number;
  /** Ethernet/SLL protocol type (-1 when the link has none) and where its payload starts. */
  etherType: number;
  payloadOffset: number;
  /** Why the frame was not IPv4, when it was not. */
  skip?: 'not-ipv4' | 'truncated-link' | 'unsupported-link';
}

const ETHERTYPE_IPV4 = 0x0800;
const VLAN_TAGS = new Set([0x8100, 0x88a8, 0x9100]);

export function locateIpv4(linkType: number, d: Uint8Array, out: LinkInfo): LinkInfo {
  out.ipOffset = -1;
  out.macOffset = -1;
  out.vlan = -1;
  out.etherType = -1;
  out.payloadOffset = -1;
  out.skip = undefined;
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      if (d.length < 14) return ((out.skip = 'truncated-link'), out);
      let p = 12;
      let type = (d[p] << 8) | d[p + 1];
      while (VLAN_TAGS.has(type)) {
        if (d.length < p + 6) return ((out.skip = 'truncated-link'), out);
        if (out.vlan < 0) out.vlan = ((d[p + 2] << 8) | d[p + 3]) & 0x0fff;
        p += 4;
        type = (d[p] << 8) | d[p + 1];
      }
      out.macOffset = 0;
      return ipIf(type === ETHERTYPE_IPV4, p + 2, out, type);
    }
    case LINKTYPE_LINUX_SLL:
      if (d.length < 16) return ((out.skip = 'truncated-link'), out);
      return ipIf(((d[14] << 8) | d[15]) === ETHERTYPE_IPV4, 16, out, (d[14] << 8) | d[15]);
    case LINKTYPE_LINUX_SLL2:
      if (d.length < 20) return ((out.skip = 'truncated-link'), out);
      return ipIf(((d[0] << 8) | d[1]) === ETHERTYPE_IPV4, 20, out, (d[0] << 8) | d[1]);
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_OLD:
    case LINKTYPE_IPV4:
      return ipIf(d.length > 0 && d[0] >> 4 === 4, 0, out);
    case LINKTYPE_NULL: {
      if (d.length < 4) return ((out.skip = 'truncated-link'), out);
      // Address family in the capturing host's byte order: 2 is AF_INET everywhere.
      return ipIf(d[0] === 2 || d[3] === 2, 4, out);
    }
    default:
      out.skip = 'unsupported-link';
      return out;
  }
}

function ipIf(isIpv4: boolean, offset: number, out: LinkInfo, etherType = -1): LinkInfo {
  out.etherType = etherType;
  out.payloadOffset = offset;
  if (isIpv4) out.ipOffset = offset;
  else out.skip = 'not-ipv4';
  return out;
}
