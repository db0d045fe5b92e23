// The few PTPv2 (IEEE 1588-2008 §13) header and Announce fields the capture analyzer
// summarizes. Local to analyze until the PTP engineer's lab/net/ptp.ts is on main.

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

/** Clock identities as tshark prints them: 0x + 16 lower-case hex digits. */
function identity(b: Uint8Array, at: number): string {
  let s = '0x';
  for (let i = 0; i < 8; i++) s += b[at + i].toString(16).padStart(2, '0');
  return s;
}

/** The header, or a reason it is not a PTPv2 message. */
export function readPtpHeader(b: Uint8Array): PtpHeader | 'truncated' | 'not-v2' {
  if (b.length < 2) return 'truncated';
  const version = b[1] & 0x0f;
  if (version !== 2) return 'not-v2';
  if (b.length < 34) return 'truncated';
  const h: PtpHeader = {
    version,
    messageType: b[0] & 0x0f,
    domain: b[4],
    twoStep: (b[6] & 0x02) !== 0,
    clockIdentity: identity(b, 20),
    sourcePort: (b[28] << 8) | b[29],
    sequenceId: (b[30] << 8) | b[31],
    logMessageInterval: (b[33] << 24) >> 24,
  };
  if (h.messageType === 0xb) {
    if (b.length < 64) return 'truncated';
    h.priority1 = b[47];
    h.clockClass = b[48];
    h.priority2 = b[52];
    h.grandmasterIdentity = identity(b, 53);
  }
  return h;
}
