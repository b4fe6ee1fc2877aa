import type { Logger } from '../ports/logger.ts';
import type { ModelKind } from './model-kind.ts';
import type { ModelRuntime } from './model-runtime.ts';

/**
 * What a provider needs to build a runtime: the parts of a registry entry that say how to call the
 * model. The registry's full descriptor carries more (pricing, tags, status).
 */
export interface RuntimeSpec {
  /** The name users call it by, e.g. `openai/gpt-4o-mini` (for logs and errors). */
  name: string;
  kind: ModelKind;
  /** The provider's own id, e.g. `gpt-4o-mini`, `anthropic.claude-3-haiku-20240307-v1:0`. */
  providerModelId: string;
  /** For OpenAI-compatible servers, Azure deployments, self-hosted endpoints. */
  baseUrl?: string;
  /** Defaults sent with every call (temperature, max tokens …); a call's own parameters win. */
  parameters: Record<string, unknown>;
  /** Provider-specific settings (region, API version, deployment name …). */
  options: Record<string, unknown>;
  /** For models Ensemble runs itself: the file in the artifact store. */
  artifact?: { sha256: string; format: string };
}

export interface RuntimeContext {
  /** The decrypted secret of the model's credential, when it has one. Never log it. */
  secret?: string;
  logger: Logger;
  /** Where local model files are read from. */
  artifactPath?(sha256: string): Promise<string>;
  /**
   * The HTTP a hosted runtime's calls and health probes go through: the outbound guard's, so a base URL
   * that resolves to an internal address when it is called is refused (SSRF). Global fetch when absent.
   */
  fetch?: typeof globalThis.fetch;
}

/** Turns a registry entry into a runtime. One provider per folder under packages/providers. */
export interface ModelProvider {
  /** `openai`, `openai-compatible`, `anthropic`, `bedrock`, `gemini`, `azure-openai`, `local` … */
  readonly id: string;
  readonly kinds: readonly ModelKind[];
  createRuntime(spec: RuntimeSpec, context: RuntimeContext): Promise<ModelRuntime>;
}
