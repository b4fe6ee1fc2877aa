import { once } from 'node:events';
import type { ServerResponse } from 'node:http';

/**
 * Server-sent events on a raw response: `event: <name>` + `data: <json>`. Writes wait for `drain`
 * when the client reads slowly, so a long answer never piles up in memory.
 */
export class SseWriter {
  readonly #response: ServerResponse;

  constructor(response: ServerResponse) {
    this.#response = response;
  }

  open(headers: Record<string, string>): void {
    this.#response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // Proxies such as nginx buffer responses unless told not to.
      'x-accel-buffering': 'no',
      ...headers,
    });
    // Flush the headers now: the first token may take a while.
    this.#response.flushHeaders();
  }

  /** False once the client has gone away. */
  get isOpen(): boolean {
    return !this.#response.destroyed && !this.#response.writableEnded;
  }

  async send(event: string, data: unknown): Promise<void> {
    if (!this.isOpen) return;
    if (!this.#response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)) {
      await Promise.race([once(this.#response, 'drain'), once(this.#response, 'close')]);
    }
  }

  end(): void {
    if (this.isOpen) this.#response.end();
  }
}
