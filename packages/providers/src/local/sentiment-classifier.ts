import type { Classification } from '@ensemble/core';
import winkModel from 'wink-eng-lite-web-model';
import winkNlp from 'wink-nlp';
import type { ReplicaBackend } from './worker-protocol.ts';

/**
 * English sentiment with wink-nlp's lexicon model (negation-aware, ships in the
 * `wink-eng-lite-web-model` npm package). Its score in [-1, 1] becomes two labels whose scores sum
 * to 1: positive = (1 + s) / 2, negative = (1 − s) / 2, best first.
 */
export async function loadBackend(): Promise<ReplicaBackend> {
  const nlp = winkNlp(winkModel);
  const its = nlp.its;

  async function classify(texts: string[]): Promise<Classification[]> {
    return texts.map((text) => {
      const sentiment = Number(nlp.readDoc(text).out(its.sentiment)) || 0;
      const positive = (1 + sentiment) / 2;
      const labels = [
        { label: 'positive', score: positive },
        { label: 'negative', score: 1 - positive },
      ];
      return labels.sort((a, b) => b.score - a.score);
    });
  }

  return { handlers: { classify: async (input) => classify(input as string[]) } };
}
