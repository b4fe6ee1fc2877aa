/** A vector as PostgreSQL stores it: float32 little-endian bytes. */
export function toFloat32Bytes(values: ArrayLike<number>): Buffer {
  const array = Float32Array.from(values);
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

export function fromFloat32Bytes(bytes: Buffer): number[] {
  const copy = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(copy.buffer).set(bytes);
  return Array.from(copy);
}
