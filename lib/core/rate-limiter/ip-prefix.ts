import { isIPv4, isIPv6 } from 'node:net';

/**
 * The rate-limit identity of a client address. One IPv6 client usually holds a whole /64
 * (often a /56 or /48) and can rotate through it per request, so an IPv6 address counts
 * as its network prefix; an IPv4-mapped address (`::ffff:192.0.2.1`, what a dual-stack
 * server reports for IPv4 clients) counts as the IPv4 address it carries. Anything that
 * is not an IP address is returned as it is.
 */
export function addressIdentity(address: string, ipv6Subnet: number): string {
  const plain = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (isIPv4(plain)) return plain;
  const unzoned = plain.split('%', 1)[0] as string;
  if (!isIPv6(unzoned)) return address;
  const words = ipv6Words(unzoned);
  if (isIpv4Mapped(words)) return ipv4Of(words);
  if (ipv6Subnet >= 128) return formatIpv6(words);
  return `${formatIpv6(maskWords(words, ipv6Subnet))}/${ipv6Subnet}`;
}

/** The eight 16-bit words of a valid IPv6 address (`::` and a dotted IPv4 tail expanded). */
function ipv6Words(address: string): number[] {
  let text = address.toLowerCase();
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = (tail[1] as string).split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part ? part.split(':').map((word) => Number.parseInt(word, 16)) : []);
  const left = parse(head);
  if (rest === undefined) return left;
  const right = parse(rest);
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

function isIpv4Mapped(words: number[]): boolean {
  return words.slice(0, 5).every((word) => word === 0) && words[5] === 0xffff;
}

function ipv4Of(words: number[]): string {
  const [hi, lo] = [words[6] as number, words[7] as number];
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

function maskWords(words: number[], prefix: number): number[] {
  return words.map((word, index) => {
    const keep = Math.min(16, Math.max(0, prefix - index * 16));
    return keep === 0 ? 0 : word & ((0xffff << (16 - keep)) & 0xffff);
  });
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run of two or more zero words as `::`. */
function formatIpv6(words: number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; ) {
    if (words[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && words[end] === 0) end++;
    if (end - start > bestLength) [bestStart, bestLength] = [start, end - start];
    start = end;
  }
  const hex = words.map((word) => word.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
