import type { FastifyReply } from 'fastify';

/**
 * Aborts when the client goes away before its answer is complete. The response's `close` is the
 * reliable sign: the request's own `close` also fires once its body has been read.
 */
export function clientSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const response = reply.raw;
  const onClose = () => {
    if (!response.writableFinished) controller.abort(new Error('the client disconnected'));
  };
  response.once('close', onClose);
  return controller.signal;
}
