// Run inside a network namespace by sap-live.test.ts (`ip netns exec <ns> tsx this.ts
// <interface> <seconds>`): the engine's SapListener on real UDP (UdpTransport) on that
// interface waits for the first SAP announcement, prints it as one JSON line and exits;
// prints {"timeout":true,...} if none comes in time. Every loop is bounded in time.
import { loadNative } from '../index.ts';

const [interfaceName = '', secondsText = '20'] = process.argv.slice(2);
const native = loadNative();
const listener = new native.SapListener({ interfaceName }, { interfaceName });
const deadline = Date.now() + Number(secondsText) * 1000;
const timer = setInterval(() => {
  listener.poll();
  const sessions = listener.sessions();
  if (sessions.length > 0 || Date.now() > deadline) {
    clearInterval(timer);
    const out = sessions.length > 0 ? { session: sessions[0], stats: listener.stats() } : { timeout: true, stats: listener.stats() };
    listener.close();
    process.stdout.write(`${JSON.stringify(out)}\n`);
  }
}, 20);
