// Run inside a network namespace by rtsp-live.test.ts (`ip netns exec <ns> node --import
// tsx this.ts '<json>'`): the engine's RtspTcpClient (real TCP) for each of the given
// option sets, polled for `seconds`, then stopped; prints one JSON line with each
// client's events, final state, SDP and statistics. Bounded in time: it always exits.
import { loadNative } from '../index.ts';
import type { RtspClientEvent, RtspClientOptions } from '../rtsp.ts';

const config = JSON.parse(process.argv[2] ?? '{}') as { clients: (RtspClientOptions & { bindAddress?: string })[]; seconds: number };
const native = loadNative();
const clients = config.clients.map((o) => new native.RtspTcpClient(o));
const events: RtspClientEvent[][] = clients.map(() => []);
const end = clients[0].now() + config.seconds * 1e9;
process.stderr.write(`rtsp clients started: ${clients.map((c) => c.url).join(', ')}\n`);

while (clients[0].now() < end) {
  let next = end;
  clients.forEach((c, i) => {
    const due = c.poll();
    events[i].push(...c.events());
    if (due !== null) next = Math.min(next, due);
  });
  // Sockets are not watched from here: poll at least every 2 ms.
  const waitMs = Math.max(0, Math.min(2, (next - clients[0].now()) / 1e6));
  await new Promise((r) => setTimeout(r, waitMs));
}
const results = clients.map((c, i) => {
  const state = c.state();
  c.stop();
  events[i].push(...c.events());
  return { url: c.url, state, current: c.current(), stats: c.stats(), events: events[i] };
});
process.stdout.write(`${JSON.stringify({ results })}\n`);
