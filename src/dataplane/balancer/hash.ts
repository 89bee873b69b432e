// Small non-cryptographic string hashes shared by the router (sticky tokens) and the balancers
// (consistent hashing). FNV-1a over UTF-16 code units, then a murmur3 finalizer so that nearby
// inputs ("10.0.0.1:80#1", "10.0.0.1:80#2") spread over the whole 32-bit space.

export function fnv1a32(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function hash32(s: string): number {
  return fmix32(fnv1a32(s));
}

/** 8 lower-case hex digits */
export function hashHex(s: string): string {
  return hash32(s).toString(16).padStart(8, '0');
}
