// Replay into the native VirtualNetwork in virtual time: deterministic and as fast as the
// machine goes. Each original source becomes a virtual host; the caller's receivers (the
// engine, a DUT, a test socket) live on the same network.
import type { VirtualClock, VirtualNetwork, DatagramSocket } from '../../native/index.ts';
import { replayDatagrams, type ReplayOptions } from './replay-source.ts';

export interface VirtualReplayResult {
  sent: number;
  endNs: number;
}

/**
 * Sends every datagram at `startNs + timeNs` on the virtual clock, delivering what falls due
 * in between (`onTick` runs after each delivery step so receivers can drain their sockets).
 */
export function replayVirtual(file: string, network: VirtualNetwork, clock: VirtualClock, options: ReplayOptions & { startNs?: number; onTick?: () => void } = {}): VirtualReplayResult {
  const startNs = options.startNs ?? clock.now();
  const sockets = new Map<string, DatagramSocket>();
  const hosts = new Set<string>();
  let sent = 0;
  let endNs = startNs;
  const deliverUntil = (t: number) => {
    for (let next = network.nextDeliveryTime(); next !== null && next <= t; next = network.nextDeliveryTime()) {
      if (next > clock.now()) clock.advanceTo(next);
      network.deliverDue();
      options.onTick?.();
    }
  };
  try {
    for (const d of replayDatagrams(file, options)) {
      const t = startNs + d.timeNs;
      deliverUntil(t);
      if (t > clock.now()) clock.advanceTo(t);
      const [ip, port] = d.source.split(':');
      if (!hosts.has(ip)) {
        network.addHost(`replay-${ip}`, ip);
        hosts.add(ip);
      }
      let s = sockets.get(`${d.source}/${d.dscp}`);
      if (!s) sockets.set(`${d.source}/${d.dscp}`, (s = network.openSocket(ip, { port: Number(port), dscp: d.dscp })));
      s.send(d.destination, d.payload);
      sent++;
      endNs = t;
    }
    deliverUntil(Number.MAX_SAFE_INTEGER);
  } finally {
    for (const s of sockets.values()) s.close();
  }
  return { sent, endNs };
}
