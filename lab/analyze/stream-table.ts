// Streams keyed by (source ip:port, destination ip:port, SSRC) without building a string per
// packet: nested maps on numbers (ip·65536 + port stays below 2^48, exact in a double).

export class StreamTable<T> {
  private readonly bySsrc = new Map<number, Map<number, Map<number, T>>>();
  readonly values: T[] = [];

  get(sourceIp: number, sourcePort: number, destinationIp: number, destinationPort: number, ssrc: number): T | undefined {
    return this.bySsrc.get(ssrc)?.get(destinationIp * 65536 + destinationPort)?.get(sourceIp * 65536 + sourcePort);
  }

  set(sourceIp: number, sourcePort: number, destinationIp: number, destinationPort: number, ssrc: number, value: T): void {
    let byDst = this.bySsrc.get(ssrc);
    if (!byDst) this.bySsrc.set(ssrc, (byDst = new Map()));
    const dst = destinationIp * 65536 + destinationPort;
    let bySrc = byDst.get(dst);
    if (!bySrc) byDst.set(dst, (bySrc = new Map()));
    bySrc.set(sourceIp * 65536 + sourcePort, value);
    this.values.push(value);
  }
}

/** ip·65536 + port as one number key. */
export const endpointKey = (ip: number, port: number) => ip * 65536 + port;
