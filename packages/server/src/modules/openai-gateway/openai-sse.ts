import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { SseWriter } from '../model-runtime/sse-writer.ts';

/**
 * OpenAI's stream framing: `data: <json>\n\n` lines (no `event:` names), ended by `data: [DONE]`.
 * Headers and the end come from the invoke API's `SseWriter`; writes wait for `drain` likewise.
 */
export class OpenAiSse {
  readonly #response: ServerResponse;
  readonly #writer: SseWriter;

  constructor(response: ServerResponse) {
    this.#response = response;
    this.#writer = new SseWriter(response);
  }

  open(headers: Record<string, string>): void {
    this.#writer.open(headers);
  }

  async data(payload: unknown): Promise<void> {
    await this.#write(`data: ${JSON.stringify(payload)}\n\n`);
  }

  /** The clean end; only after a complete answer. */
  async done(): Promise<void> {
    await this.#write('data: [DONE]\n\n');
  }

  end(): void {
    this.#writer.end();
  }

  async #write(text: string): Promise<void> {
    if (!this.#writer.isOpen) return;
    if (!this.#response.write(text)) {
      await Promise.race([once(this.#response, 'drain'), once(this.#response, 'close')]);
    }
  }
}
