// Run inside a network namespace by rtsp-live.test.ts (`ip netns exec <ns> node --import
// tsx this.ts '<json>'`): the engine's RtspTcpClient (real TCP) for each of the given
// option sets, polled for `seconds`, then stopped; prints one JSON line with each
// client's events, final state, SDP and statistics. A client given `discover` instead of
// a URL first finds the session by name with the engine's DNS-SD browser on that
// interface (real mDNS) and describes it where the SRV and A records say. Bounded in
// time: it always exits.
import { loadNative } from '../index.ts';
import type { EngineDnsSdInstance, NativeDnsSdBrowser } from '../mdns.ts';
import type { NativeRtspTcpClient, RtspClientEvent, RtspClientOptions } from '../rtsp.ts';

type ClientConfig = Omit<RtspClientOptions, 'url'> & { url?: string; discover?: { interfaceName: string; sessionName: string } };
const config = JSON.parse(process.argv[2] ?? '{}') as { clients: ClientConfig[]; seconds: number };
const native = loadNative();
const clock = new native.UdpTransport('');
const end = clock.now() + config.seconds * 1e9;

interface Slot {
  config: ClientConfig;
  browser?: NativeDnsSdBrowser;
  found?: EngineDnsSdInstance;
  discoveredAfterNs?: number;
  client?: NativeRtspTcpClient;
  events: RtspClientEvent[];
}
const start = clock.now();
const slots: Slot[] = config.clients.map((c) => {
  const slot: Slot = { config: c, events: [] };
  if (c.discover) slot.browser = new native.DnsSdBrowser({ interfaceName: c.discover.interfaceName }, { interfaceName: c.discover.interfaceName });
  else slot.client = new native.RtspTcpClient({ ...c, url: c.url! });
  return slot;
});
process.stderr.write(`rtsp clients started: ${config.clients.map((c) => c.url ?? `discover ${c.discover?.sessionName}`).join(', ')}\n`);

while (clock.now() < end) {
  let next = end;
  for (const s of slots) {
    if (s.browser && !s.client) {
      const due = s.browser.poll();
      if (due !== null) next = Math.min(next, due);
      const found = s.browser.find(s.config.discover!.sessionName);
      if (found?.address && found.port) {
        s.found = found;
        s.discoveredAfterNs = clock.now() - start;
        const { discover: _discover, ...options } = s.config;
        s.client = new native.RtspTcpClient({ ...options, url: `rtsp://${found.address}:${found.port}/by-name/${encodeURIComponent(found.name)}` });
      }
    }
    if (s.client) {
      const due = s.client.poll();
      s.events.push(...s.client.events());
      if (due !== null) next = Math.min(next, due);
    }
  }
  // Sockets are not watched from here: poll at least every 2 ms.
  const waitMs = Math.max(0, Math.min(2, (next - clock.now()) / 1e6));
  await new Promise((r) => setTimeout(r, waitMs));
}
const results = slots.map((s) => {
  const c = s.client;
  const browser = s.browser ? { found: s.found ?? null, discoveredAfterNs: s.discoveredAfterNs ?? null, stats: s.browser.stats() } : undefined;
  s.browser?.close();
  if (!c) return { url: null, state: 'not-found', current: null, stats: null, events: s.events, browser };
  const state = c.state();
  c.stop();
  s.events.push(...c.events());
  return { url: c.url, state, current: c.current(), stats: c.stats(), events: s.events, browser };
});
process.stdout.write(`${JSON.stringify({ results })}\n`);
