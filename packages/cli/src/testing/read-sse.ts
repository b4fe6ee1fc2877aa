export interface SseEvent {
  event: string;
  data: unknown;
}

/** Reads a `text/event-stream` response to its end, event by event; `onEvent` may abort the request. */
export async function readSse(response: Response, onEvent?: (event: SseEvent) => void): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  if (response.body === null) return events;
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    for await (const bytes of response.body) {
      buffered += decoder.decode(bytes, { stream: true });
      for (let end = buffered.indexOf('\n\n'); end !== -1; end = buffered.indexOf('\n\n')) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const field = (name: string) =>
          block
            .split('\n')
            .find((line) => line.startsWith(`${name}: `))
            ?.slice(name.length + 2);
        const event = { event: field('event') ?? 'message', data: JSON.parse(field('data') ?? 'null') as unknown };
        events.push(event);
        onEvent?.(event);
      }
    }
  } catch (error) {
    if (!(error instanceof Error && error.name === 'AbortError')) throw error;
  }
  return events;
}
