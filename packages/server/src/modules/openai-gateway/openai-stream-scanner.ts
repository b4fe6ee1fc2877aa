import { StringDecoder } from 'node:string_decoder';
import { readUsage } from './read-usage.ts';
import type { TokenCounts } from './usage-meter.ts';

/**
 * Reads an OpenAI chunk stream (`data: {...}\n\n` events) as it is relayed, without parsing the
 * chunks: it notes the usage chunk's counts, an upstream `data: {"error": …}` event, and the final
 * `data: [DONE]`. When the client did not ask for usage but Ensemble did (so the ledger has
 * tokens), it takes the usage chunk and the `"usage":null` fields back out; otherwise the bytes
 * pass unchanged, searched as latin1 text (every marker is ASCII; measured faster than searching
 * the bytes or decoding UTF-8).
 */
export class OpenAiStreamScanner {
  readonly #strip: boolean;
  readonly #decoder = new StringDecoder('utf8');
  /** Text after the last complete event (stripping: UTF-8; passing: latin1, usually empty). */
  #carry = '';
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
    // Events are scanned whole, so a marker split across two chunks is still seen.
    const text = this.#carry + (typeof chunk === 'string' ? chunk : chunk.toString('latin1'));
    const end = text.lastIndexOf('\n\n');
    this.#carry = end < 0 ? text : text.slice(end + 2);
    if (end >= 0) this.#scanText(end + 2 === text.length ? text : text.slice(0, end + 2));
    return chunk;
  }

  /** When the upstream ends: what is still to send (stripping holds back an event without its blank line). */
  end(): string {
    if (!this.#strip) {
      if (this.#carry !== '') this.#scanText(this.#carry);
      this.#carry = '';
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
