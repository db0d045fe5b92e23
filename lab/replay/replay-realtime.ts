// Replay over a real UDP socket, paced on absolute times (see scheduler.ts).
import dgram from 'node:dgram';
import { replayDatagrams, type ReplayOptions } from './replay-source.ts';
import { paceAbsolute, realPacingClock, type PacingClock, type PacingStats } from './scheduler.ts';

export interface RealtimeReplayOptions extends ReplayOptions {
  /** Local address to send from (and for multicast, the interface). */
  bindAddress?: string;
  ttl?: number;
  speed?: number;
  clock?: PacingClock;
}

export async function replayRealtime(file: string, o: RealtimeReplayOptions = {}): Promise<PacingStats & { sendErrors: number }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: o.bindAddress, port: 0 }, () => resolve());
  });
  socket.setMulticastTTL(o.ttl ?? 32);
  if (o.bindAddress) socket.setMulticastInterface(o.bindAddress);
  let sendErrors = 0;
  try {
    const stats = await paceAbsolute(
      replayDatagrams(file, o),
      (d) => d.timeNs,
      (d) => {
        const [ip, port] = d.destination.split(':');
        socket.send(d.payload, Number(port), ip, (e) => {
          if (e) sendErrors++;
        });
      },
      o.clock ?? realPacingClock,
      o.speed ?? 1,
    );
    // Let the last sends' callbacks run before closing.
    await new Promise((r) => setTimeout(r, 20));
    return { ...stats, sendErrors };
  } finally {
    socket.close();
  }
}
