/** A job id: `job_` and 20 base62 characters. */
export const jobIdPattern = /^job_[A-Za-z0-9]{20}$/;

const base62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A new job id, from the platform's cryptographic random source (≈119 bits). */
export function newJobId(): string {
  const bytes = new Uint8Array(40);
  let id = '';
  while (id.length < 20) {
    crypto.getRandomValues(bytes);
    for (const byte of bytes) {
      // 248 = 4 × 62: bytes above it would make the first characters more likely.
      if (byte < 248) id += base62[byte % 62];
      if (id.length === 20) break;
    }
  }
  return `job_${id}`;
}
