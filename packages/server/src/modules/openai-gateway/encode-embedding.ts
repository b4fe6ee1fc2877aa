/** OpenAI's `encoding_format: "base64"`: the vector as little-endian float32, base64-encoded. */
export function encodeEmbeddingBase64(vector: readonly number[]): string {
  const bytes = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i += 1) bytes.writeFloatLE(vector[i] ?? 0, i * 4);
  return bytes.toString('base64');
}
