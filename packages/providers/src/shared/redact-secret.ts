/** What a redacted secret is replaced with in any text Ensemble shows or logs. */
export const redactedMarker = '[redacted]';

/**
 * Removes every occurrence of the secret from a text. Some upstreams (and some OpenAI-compatible
 * servers) echo the API key back in their error messages; those messages reach clients and logs.
 */
export function redactSecret(text: string, secret: string | undefined): string {
  if (secret === undefined || secret.length < 4) return text;
  return text.split(secret).join(redactedMarker);
}
