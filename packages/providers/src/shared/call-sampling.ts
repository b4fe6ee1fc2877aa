/**
 * Sampling a caller may set for one call, in the call options every chat runtime takes
 * (`chat.invoke(input, { temperature, maxTokens, topP, stop })`): the gateway and
 * `/api/models/{name}/invoke` send them this way. They win over the registry version's `parameters`.
 */
export interface CallSampling {
  temperature?: number;
  maxTokens?: number;
  topP?: number;
  stop?: string[];
}

/**
 * The names under which a LangChain chat class keeps each setting on itself (what its
 * `invocationParams` reads). A setting the class already reads from the call options is left out.
 */
export type SamplingFields = Partial<Record<keyof CallSampling, string>>;

/** What builds the request body: a LangChain chat class's `invocationParams(options, …)`. */
interface RequestBuilder {
  invocationParams(options?: unknown, ...rest: unknown[]): unknown;
}

const settings: readonly (keyof CallSampling)[] = ['temperature', 'maxTokens', 'topP', 'stop'];

/**
 * Makes a LangChain chat model honour per-call sampling. LangChain's hosted chat classes build the
 * request from their constructor fields (`this.temperature`, `this.maxTokens`, …) and ignore such
 * call options; so, when a call carries any, the model's own `invocationParams` runs on a view of
 * the model whose fields are the call's. Every provider rule inside it still applies (OpenAI's
 * `max_completion_tokens` for reasoning models, Anthropic's thinking checks, Bedrock's
 * `inferenceConfig`, Gemini's `generationConfig`), the model itself is never mutated (concurrent
 * calls cannot see each other's values), and a call without them takes the unchanged path.
 */
export function honourCallSampling<Builder extends RequestBuilder>(
  builder: Builder,
  fields: SamplingFields,
  /**
   * Defaults applied here instead of in the constructor, for a class that refuses a call value
   * next to a constructor default (ChatAnthropic throws when both it and the call have stop sequences).
   */
  defaults: CallSampling = {},
): Builder {
  const build = builder.invocationParams;
  builder.invocationParams = function invocationParamsWithCallSampling(this: object, options, ...rest) {
    const overrides: PropertyDescriptorMap = {};
    let any = false;
    for (const setting of settings) {
      const field = fields[setting];
      const value = (options as CallSampling | undefined)?.[setting] ?? defaults[setting];
      if (field === undefined || value === undefined) continue;
      overrides[field] = { value, enumerable: true, writable: true, configurable: true };
      any = true;
    }
    return build.call(any ? Object.create(this, overrides) : this, options, ...rest);
  };
  return builder;
}

/** LangChain's OpenAI, Anthropic and Bedrock Converse classes: stop sequences are read per call already. */
export const commonSamplingFields: SamplingFields = {
  temperature: 'temperature',
  maxTokens: 'maxTokens',
  topP: 'topP',
};
