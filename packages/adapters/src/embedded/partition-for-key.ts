/**
 * The partition a key belongs to: FNV-1a (32 bit) over the key's UTF-8 bytes, modulo the
 * partition count. Stable across processes and releases, so one key always lands in one partition.
 */
export function partitionForKey(key: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(key)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % partitions;
}
