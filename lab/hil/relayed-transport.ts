// The lab's transport with some media diverted through the impairment relay: a sender keeps
// writing its stream to the group its SDP names, and this transport hands those datagrams
// to the relay's port on the lab's own address instead (local delivery: they never reach
// the wire), so the only copy on the wire is the one the relay forwards, impaired, to that
// group. Everything else (PTP, SAP, mDNS, RTSP, other streams) goes as it would.
import type { DatagramSocket, LabTransport, SocketOptions } from '../net/lab-transport.ts';

export interface RelayedTransport extends LabTransport {
  /** From now on, datagrams to `destination` ("group:port") go to `to` ("ip:port") instead. */
  divert(destination: string, to: string): void;
  /** Datagrams diverted so far, per original destination. */
  readonly diverted: ReadonlyMap<string, number>;
}

export function relayedTransport(base: LabTransport): RelayedTransport {
  const routes = new Map<string, string>();
  const diverted = new Map<string, number>();
  const wrap = (s: DatagramSocket): DatagramSocket => ({
    send(destination, data) {
      const to = routes.get(destination);
      if (to === undefined) return s.send(destination, data);
      diverted.set(destination, (diverted.get(destination) ?? 0) + 1);
      s.send(to, data);
    },
    receive: () => s.receive(),
    join: (group, source) => s.join(group, source),
    leave: (group, source) => s.leave(group, source),
    localEndpoint: () => s.localEndpoint(),
    receiveOverflows: () => s.receiveOverflows(),
    lastTransmitTime: (timeoutNs) => s.lastTransmitTime(timeoutNs),
    close: () => s.close(),
  });
  return {
    kind: base.kind,
    address: base.address,
    now: () => base.now(),
    open: (options?: SocketOptions) => wrap(base.open(options)),
    divert(destination, to) {
      if (!/^\d+\.\d+\.\d+\.\d+:\d+$/.test(destination) || !/^\d+\.\d+\.\d+\.\d+:\d+$/.test(to)) throw new Error(`divert ${destination} -> ${to}: write both as ip:port`);
      routes.set(destination, to);
    },
    diverted,
  };
}
