// The diverting transport on the native virtual network: a sender's datagrams to a diverted
// group reach the relay's port instead (and nobody on the group hears them from the
// sender), everything else goes where it was sent, and the count says what was diverted.
import { describe, expect, it } from 'vitest';
import { addonBuilt, loadNative } from '../../native/index.ts';
import { virtualHost } from '../net/lab-transport.ts';
import { relayedTransport } from './relayed-transport.ts';

describe.skipIf(!addonBuilt())('relayedTransport', () => {
  it('diverts only the named destination, to the relay, and counts it', () => {
    const native = loadNative();
    const clock = new native.VirtualClock(0);
    const network = new native.VirtualNetwork(clock, 30_000);
    const lab = virtualHost(network, clock, '10.0.0.1', 'lab');
    const dut = virtualHost(network, clock, '10.0.0.2', 'dut');
    const t = relayedTransport(lab);
    const relayIn = lab.open({ port: 40000 });
    const group = dut.open({ port: 5004 });
    group.join('239.1.1.1');
    const sap = dut.open({ port: 9875 });
    sap.join('239.255.255.255');
    const tx = t.open({ dscp: 34 });
    t.divert('239.1.1.1:5004', '10.0.0.1:40000');
    tx.send('239.1.1.1:5004', Buffer.from('media'));
    tx.send('239.255.255.255:9875', Buffer.from('sap'));
    clock.advanceBy(1_000_000);
    network.deliverDue();
    expect(relayIn.receive()?.data.toString()).toBe('media');
    expect(group.receive()).toBeNull();
    expect(sap.receive()?.data.toString()).toBe('sap');
    expect([...t.diverted]).toEqual([['239.1.1.1:5004', 1]]);
    expect(() => t.divert('239.1.1.1', 'x')).toThrow(/write both as ip:port/);
  });
});
