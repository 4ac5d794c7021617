import assert from 'node:assert/strict';
import { BlockList, isIPv6 } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { addressIdentity } from '../../../lib/index.js';

// Two addresses share an identity exactly when Node's own subnet matcher puts them in
// the same network of the configured prefix length.
describe('addressIdentity: IPv6 clients count by network prefix', () => {
  const ipv6 = fc.ipV6().filter((address) => isIPv6(address) && !/^::ffff:|^0*:0*:0*:0*:0*:ffff:/i.test(address));

  it('agrees with net.BlockList on which addresses share a /N network', () => {
    fc.assert(
      fc.property(ipv6, ipv6, fc.integer({ min: 8, max: 128 }), (a, b, prefix) => {
        const network = addressIdentity(a, prefix);
        const list = new BlockList();
        // The identity of `a` is its network, written so that BlockList can read it back.
        const [base, bits] = prefix >= 128 ? [network, 128] : [network.split('/')[0] as string, prefix];
        list.addSubnet(base, bits, 'ipv6');
        assert.equal(list.check(a, 'ipv6'), true, `${a} is in its own network ${network}`);
        assert.equal(addressIdentity(b, prefix) === network, list.check(b, 'ipv6'), `${a} vs ${b} at /${prefix}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('writes one network one way whatever the spelling (RFC 5952 text)', () => {
    assert.equal(addressIdentity('2001:0DB8:0001:0002:aaaa:bbbb:cccc:dddd', 64), '2001:db8:1:2::/64');
    assert.equal(addressIdentity('2001:db8:1:2::1', 64), '2001:db8:1:2::/64');
    assert.equal(addressIdentity('[2001:db8:1:2::1]', 64), '2001:db8:1:2::/64');
    assert.equal(addressIdentity('fe80::1%eth0', 64), 'fe80::/64');
    assert.equal(addressIdentity('2001:db8:0:0:1:0:0:1', 128), '2001:db8::1:0:0:1');
    assert.equal(addressIdentity('2001:db8:1:2::1', 56), '2001:db8:1::/56');
    assert.equal(addressIdentity('::1', 64), '::/64');
  });

  it('counts an IPv4-mapped address as the IPv4 address it carries', () => {
    assert.equal(addressIdentity('::ffff:192.0.2.7', 64), '192.0.2.7');
    assert.equal(addressIdentity('::FFFF:c000:207', 64), '192.0.2.7');
    assert.equal(addressIdentity('0:0:0:0:0:ffff:192.0.2.7', 128), '192.0.2.7');
    assert.equal(addressIdentity('192.0.2.7', 64), '192.0.2.7');
  });

  it('leaves what is not an IP address as it is', () => {
    for (const value of ['unknown', 'localhost', '2001:db8::g', '1.2.3.4.5', ''])
      assert.equal(addressIdentity(value, 64), value);
  });
});
