import t from 'tap'
import { addressBlockReason, isBlockedAddress, parseIPv6 } from '../../../src/keys/address-policy.js'

t.test('blocked IPv4 ranges', async (t) => {
  const blocked: Array<[string, RegExp]> = [
    ['127.0.0.1', /loopback/],
    ['127.255.255.254', /loopback/],
    ['10.0.0.1', /private/],
    ['10.255.255.255', /private/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.168.1.1', /private/],
    ['169.254.169.254', /link-local/],
    ['100.64.0.1', /CGNAT/],
    ['100.127.255.255', /CGNAT/],
    ['0.0.0.0', /unspecified/],
    ['0.1.2.3', /unspecified/],
    ['224.0.0.1', /multicast/],
    ['239.255.255.250', /multicast/],
    ['192.0.2.10', /documentation/],
    ['198.51.100.7', /documentation/],
    ['203.0.113.200', /documentation/],
    ['198.18.0.1', /benchmarking/],
    ['198.19.255.255', /benchmarking/],
    ['240.0.0.1', /reserved/],
    ['255.255.255.255', /broadcast/],
    ['192.0.0.170', /IETF/],
    ['192.88.99.1', /6to4/],
  ]
  for (const [ip, why] of blocked) t.match(addressBlockReason(ip), why, ip)
})

t.test('public IPv4 addresses, including the neighbours of blocked ranges, are allowed', async (t) => {
  for (const ip of ['8.8.8.8', '1.1.1.1', '93.184.216.34', '9.255.255.255', '11.0.0.0', '172.15.255.255', '172.32.0.0',
    '192.167.255.255', '192.169.0.0', '169.253.255.255', '169.255.0.0', '100.63.255.255', '100.128.0.0', '126.255.255.255',
    '128.0.0.0', '198.17.255.255', '198.20.0.0', '223.255.255.255', '192.0.1.255', '192.0.3.0']) {
    t.equal(addressBlockReason(ip), undefined, ip)
  }
})

t.test('blocked IPv6 ranges', async (t) => {
  const blocked: Array<[string, RegExp]> = [
    ['::1', /loopback/],
    ['0:0:0:0:0:0:0:1', /loopback/],
    ['::', /unspecified/],
    ['fc00::1', /unique local/],
    ['fd12:3456::1', /unique local/],
    ['fe80::1', /link-local/],
    ['fe80::1%eth0', /link-local/],
    ['febf:ffff::1', /link-local/],
    ['fec0::1', /site-local/],
    ['ff02::1', /multicast/],
    ['ff0e::1', /multicast/],
    ['2001:db8::1', /documentation/],
    ['2001:db8:ffff:ffff::1', /documentation/],
    ['3fff::1', /documentation/],
    ['2001::1', /Teredo/],
    ['2001:2::1', /benchmarking|IETF/],
    ['100::1', /discard/],
    ['64:ff9b:1::1', /NAT64/],
    ['::1.2.3.4', /IPv4-compatible/],
    ['::7f00:1', /IPv4-compatible/],
    ['1::1', /global unicast/],
    ['4000::1', /global unicast/],
  ]
  for (const [ip, why] of blocked) t.match(addressBlockReason(ip), why, ip)
})

t.test('IPv4 embedded in IPv6 is judged by the IPv4 address', async (t) => {
  const blocked: Array<[string, RegExp]> = [
    ['::ffff:127.0.0.1', /IPv4-mapped loopback/],
    ['::ffff:7f00:1', /IPv4-mapped loopback/],
    ['::FFFF:7F00:0001', /IPv4-mapped loopback/],
    ['0:0:0:0:0:ffff:7f00:1', /IPv4-mapped loopback/],
    ['::ffff:10.0.0.1', /IPv4-mapped private/],
    ['::ffff:a9fe:a9fe', /IPv4-mapped link-local/],
    ['::ffff:0.0.0.0', /IPv4-mapped unspecified/],
    ['::ffff:0:127.0.0.1', /IPv4-translated.*loopback/],
    ['64:ff9b::127.0.0.1', /NAT64.* loopback/],
    ['64:ff9b::a00:1', /NAT64.* private/],
    ['64:ff9b::a9fe:a9fe', /NAT64.* link-local/],
    ['2002:7f00:1::1', /6to4 .*loopback/],
    ['2002:c0a8:101::', /6to4 .*private/],
    ['2002:a9fe:a9fe::1', /6to4 .*link-local/],
  ]
  for (const [ip, why] of blocked) t.match(addressBlockReason(ip), why, ip)
  // The same forms around a public IPv4 address are the public host itself.
  for (const ip of ['::ffff:8.8.8.8', '::ffff:808:808', '64:ff9b::8.8.8.8', '2002:808:808::1']) {
    t.equal(addressBlockReason(ip), undefined, ip)
  }
})

t.test('public IPv6 is allowed', async (t) => {
  for (const ip of ['2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '2001:4860:4860::8888', '2400:cb00::1', '2a01:4f8::1']) {
    t.equal(addressBlockReason(ip), undefined, ip)
  }
})

t.test('anything that is not an IP literal is refused', async (t) => {
  for (const s of ['', 'localhost', 'alice.test', '127.1', '0x7f.0.0.1', '2130706433', '010.0.0.1', '[::1]', '::1::', '1.2.3.4.5', ' 1.1.1.1', '1.1.1.1 ']) {
    t.ok(isBlockedAddress(s), JSON.stringify(s))
  }
})

t.test('parseIPv6 expands every textual form to 16 bytes', async (t) => {
  t.same(parseIPv6('::'), Array(16).fill(0))
  t.same(parseIPv6('::1'), [...Array(15).fill(0), 1])
  t.same(parseIPv6('1::'), [0, 1, ...Array(14).fill(0)])
  t.same(parseIPv6('::ffff:1.2.3.4'), [...Array(10).fill(0), 0xff, 0xff, 1, 2, 3, 4])
  t.same(parseIPv6('1:2:3:4:5:6:7:8'), [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8])
  t.same(parseIPv6('1:2:3:4:5:6:1.2.3.4'), [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4])
  t.equal(parseIPv6('1.2.3.4'), undefined)
  t.equal(parseIPv6('gggg::1'), undefined)
})
