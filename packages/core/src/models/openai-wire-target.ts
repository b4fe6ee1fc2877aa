/**
 * How to reach a model that speaks OpenAI's wire format (`openai`, `openai-compatible`,
 * `azure-openai`) directly over HTTP, so the gateway can forward an OpenAI request as it came
 * (model id swapped, credential added) and stream the upstream's bytes back, without LangChain.
 * Providers whose wire format is not OpenAI's leave it unset and are called through LangChain.
 */
export interface OpenAiWireTarget {
  /** Prefix of the operation paths, without a trailing slash: `https://api.openai.com/v1`, `…/openai/deployments/<name>`. */
  readonly baseUrl: string;
  /** Appended to every operation path (`api-version=2024-10-21` for Azure), without `?`; empty for none. */
  readonly query: string;
  /** Sent with every call: the credential's auth header and any extra headers. A secret: never log it. */
  readonly headers: Readonly<Record<string, string>>;
  /** The upstream's own model id, written into the forwarded body's `model`. */
  readonly model: string;
  /** The registry version's chat parameters in OpenAI's field names (`max_tokens`, `top_p` …); a request's own fields win. */
  readonly chatDefaults: Readonly<Record<string, unknown>>;
  /** The registry version's embedding parameters in OpenAI's field names (`dimensions`). */
  readonly embeddingDefaults: Readonly<Record<string, unknown>>;
  /** The server cannot answer `encoding_format: "base64"`: ask it for floats and encode them here. */
  readonly floatEmbeddingsOnly: boolean;
  /** Bounds one call: until the answer's headers, and between two body chunks. */
  readonly timeoutMs: number;
}
