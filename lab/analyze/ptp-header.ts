// The few PTPv2 (IEEE 1588-2008 §13) header and Announce fields the capture analyzer
// summarizes, read with the lab's one PTP codec (lab/net/ptp.ts).
import { parsePtp, parsePtpHeader, PTP_MESSAGE_TYPE_CODES } from '../net/ptp.ts';

export const PTP_MESSAGE_TYPES: Record<number, string> = {
  0x0: 'sync',
  0x1: 'delayReq',
  0x2: 'pdelayReq',
  0x3: 'pdelayResp',
  0x8: 'followUp',
  0x9: 'delayResp',
  0xa: 'pdelayRespFollowUp',
  0xb: 'announce',
  0xc: 'signaling',
  0xd: 'management',
};

export interface PtpHeader {
  version: number;
  messageType: number;
  domain: number;
  twoStep: boolean;
  clockIdentity: string;
  sourcePort: number;
  sequenceId: number;
  logMessageInterval: number;
  /** Announce only. */
  grandmasterIdentity?: string;
  priority1?: number;
  priority2?: number;
  clockClass?: number;
}

/** The header, or a reason it is not a PTPv2 message; read with the lab's PTP codec. */
export function readPtpHeader(b: Uint8Array): PtpHeader | 'truncated' | 'not-v2' {
  const r = parsePtpHeader(b);
  if (!r.ok) return r.reason === 'truncated' ? 'truncated' : 'not-v2';
  const { header } = r;
  const h: PtpHeader = {
    version: header.version,
    messageType: r.messageType,
    domain: header.domain,
    twoStep: header.flags.twoStep,
    // Clock identities as tshark prints them: 0x + 16 lower-case hex digits.
    clockIdentity: `0x${header.sourcePortIdentity.clockIdentity}`,
    sourcePort: header.sourcePortIdentity.portNumber,
    sequenceId: header.sequenceId,
    logMessageInterval: header.logMessageInterval,
  };
  if (h.messageType === PTP_MESSAGE_TYPE_CODES.announce) {
    const a = parsePtp(b);
    if (!a.ok || a.message.type !== 'announce') return 'truncated';
    h.priority1 = a.message.grandmasterPriority1;
    h.clockClass = a.message.grandmasterClockQuality.clockClass;
    h.priority2 = a.message.grandmasterPriority2;
    h.grandmasterIdentity = `0x${a.message.grandmasterIdentity}`;
  }
  return h;
}
