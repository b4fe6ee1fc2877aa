import { type BedrockRuntimeClient, InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { Embeddings } from '@langchain/core/embeddings';

export interface BedrockEmbeddingsFields {
  client: BedrockRuntimeClient;
  model: string;
  /** Titan Text Embeddings v2: 256, 512 or 1024. */
  dimensions?: number;
  normalize?: boolean;
}

/**
 * Amazon Titan text embeddings through InvokeModel (`{inputText}` → `{embedding}`). LangChain's
 * BedrockEmbeddings replaces every AWS error with a plain Error (losing the status a 403 or a
 * throttle needs to be mapped) and logs it to the console, so Ensemble sends the same request itself.
 */
export class BedrockTitanEmbeddings extends Embeddings {
  readonly #fields: BedrockEmbeddingsFields;

  constructor(fields: BedrockEmbeddingsFields) {
    super({ maxRetries: 0 });
    this.#fields = fields;
  }

  async #embed(text: string): Promise<number[]> {
    const { client, model, dimensions, normalize } = this.#fields;
    const response = await client.send(
      new InvokeModelCommand({
        modelId: model,
        contentType: 'application/json',
        accept: 'application/json',
        body: JSON.stringify({
          inputText: text,
          ...(dimensions === undefined ? {} : { dimensions }),
          ...(normalize === undefined ? {} : { normalize }),
        }),
      }),
    );
    const body = JSON.parse(new TextDecoder().decode(response.body)) as { embedding?: unknown };
    if (!Array.isArray(body.embedding) || !body.embedding.every((value) => typeof value === 'number')) {
      throw new SyntaxError(`Bedrock model ${model} answered without an embedding array`);
    }
    return body.embedding;
  }

  override embedQuery(document: string): Promise<number[]> {
    return this.#embed(document);
  }

  /** One InvokeModel per text: Titan embeds a single input per call. */
  override embedDocuments(documents: string[]): Promise<number[][]> {
    return Promise.all(documents.map((document) => this.#embed(document)));
  }
}
