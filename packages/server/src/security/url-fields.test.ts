import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { urlFieldsOf } from './url-fields.ts';

describe('the URL fields of a request body', () => {
  it('finds absolute URLs in URL-named fields, at any depth, with their paths', () => {
    assert.deepEqual(
      urlFieldsOf({
        baseUrl: 'http://10.0.0.1/v1',
        webhook: { url: 'https://hooks.example.com/x' },
        definition: { steps: [{ id: 'a', kind: 'http', url: 'http://169.254.169.254/' }] },
        lines: [{ url: '/v1/chat/completions' }],
      }),
      [
        ['body.baseUrl', 'http://10.0.0.1/v1'],
        ['body.webhook.url', 'https://hooks.example.com/x'],
        ['body.definition.steps[0].url', 'http://169.254.169.254/'],
      ],
    );
  });

  it("leaves the caller's data alone: chat messages, inputs", () => {
    const image = { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } };
    assert.deepEqual(
      urlFieldsOf({
        messages: [{ role: 'user', content: [image] }],
        input: { url: 'http://127.0.0.1/' },
        inputs: [{ messages: [{ role: 'user', content: [image] }] }],
      }),
      [],
    );
  });

  it('never walks a body that is not parsed JSON (an upload stream, a Buffer, a class instance)', () => {
    // Walking an upload's IncomingMessage went through its sockets and buffers byte by byte: a 23 MB
    // upload took 1.9–4.2 s instead of 0.26–0.42 s and stalled the event loop.
    let touched = 0;
    class Watched {
      get url() {
        touched += 1;
        return 'http://127.0.0.1/';
      }
    }
    const watched = new Watched();
    Object.defineProperty(watched, 'baseUrl', {
      enumerable: true,
      get: () => {
        touched += 1;
        return 'http://127.0.0.1/';
      },
    });
    for (const body of [Readable.from([Buffer.alloc(1024)]), Buffer.from('{"baseUrl":"http://127.0.0.1/"}'), watched]) {
      assert.deepEqual(urlFieldsOf(body), []);
    }
    assert.deepEqual(urlFieldsOf({ nested: watched }), []);
    assert.equal(touched, 0);
  });
});
