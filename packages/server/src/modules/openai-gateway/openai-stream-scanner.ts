import { StringDecoder } from 'node:string_decoder';
import { readUsage } from './read-usage.ts';
import type { TokenCounts } from './usage-meter.ts';

const eventEnd = Buffer.from('\n\n');
const usageKey = Buffer.from('"prompt_tokens"');
const doneEvent = Buffer.from('data: [DONE]');
const errorEvents = [Buffer.from('data: {"error"'), Buffer.from('data:{"error"')];

/**
 * Reads an OpenAI chunk stream (`data: {...}\n\n` events) as it is relayed, without parsing the
 * chunks: it notes the usage chunk's counts, an upstream `data: {"error": …}` event, and the final
 * `data: [DONE]`. When the client did not ask for usage but Ensemble did (so the ledger has
 * tokens), it takes the usage chunk and the `"usage":null` fields back out; otherwise the bytes
 * pass unchanged, searched as bytes (no decoding).
 */
export class OpenAiStreamScanner {
  readonly #strip: boolean;
  readonly #decoder = new StringDecoder('utf8');
  /** Stripping: text after the last complete event. Passing: bytes after it (usually none). */
  #carry = '';
  #carryBytes: Buffer | undefined;
  usage: TokenCounts | undefined;
  /** The upstream sent `[DONE]`: the answer is complete. */
  done = false;
  /** The upstream sent an error event (it failed after the stream began). */
  upstreamError = false;

  constructor(options: { stripUsage: boolean }) {
    this.#strip = options.stripUsage;
  }

  /** What to send for `chunk`: the chunk itself, or (stripping) the complete events in it. */
  push(chunk: Buffer | string): Buffer | string {
    if (this.#strip) return this.#pushText(typeof chunk === 'string' ? chunk : this.#decoder.write(chunk));
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const region = this.#carryBytes === undefined ? bytes : Buffer.concat([this.#carryBytes, bytes]);
    const end = region.lastIndexOf(eventEnd);
    // Events are scanned whole, so a marker split across two chunks is still seen.
    this.#carryBytes = end < 0 ? region : end + 2 < region.length ? region.subarray(end + 2) : undefined;
    if (end >= 0) this.#scanBytes(region.subarray(0, end + 2));
    return chunk;
  }

  /** When the upstream ends: what is still to send (stripping holds back an event without its blank line). */
  end(): string {
    if (!this.#strip) {
      if (this.#carryBytes !== undefined) this.#scanBytes(this.#carryBytes);
      this.#carryBytes = undefined;
      return '';
    }
    const rest = this.#carry + this.#decoder.end();
    this.#carry = '';
    if (rest.trim() === '') return '';
    this.#scanText(rest);
    return stripUsage(rest);
  }

  #pushText(text: string): string {
    const all = this.#carry + text;
    const end = all.lastIndexOf('\n\n');
    if (end < 0) {
      this.#carry = all;
      return '';
    }
    this.#carry = all.slice(end + 2);
    const events = all.slice(0, end + 2);
    this.#scanText(events);
    return stripUsage(events);
  }

  #scanBytes(events: Buffer): void {
    if (events.includes(usageKey)) this.usage = readUsage(events);
    if (events.includes(doneEvent)) this.done = true;
    if (errorEvents.some((marker) => events.includes(marker))) this.upstreamError = true;
  }

  #scanText(events: string): void {
    if (events.includes('"prompt_tokens"')) this.usage = readUsage(events);
    if (events.includes('data: [DONE]')) this.done = true;
    if (events.includes('data: {"error"') || events.includes('data:{"error"')) this.upstreamError = true;
  }
}

/** Drops the usage-only event (`"choices":[]`) and the `"usage":null` of every other chunk. */
function stripUsage(events: string): string {
  if (!events.includes('"usage"')) return events;
  return events
    .split('\n\n')
    .filter((event) => !(event.includes('"prompt_tokens"') && /"choices"\s*:\s*\[\s*\]/.test(event)))
    .join('\n\n')
    .replaceAll(',"usage":null', '')
    .replaceAll('"usage":null,', '');
}
