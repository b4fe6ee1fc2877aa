import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type CollectionService, type DeclaredPipeline, EnsembleError } from '@ensemble/core';
import { parse } from 'yaml';

/** The repository's `examples/pipelines/*.yaml`: pipelines that run on the built-in local models, offline. */
export const examplesDirectory = fileURLToPath(new URL('../../../../examples/pipelines/', import.meta.url));

/** The examples as declared pipelines of the `default` project (`ensemble start --examples`). */
export function examplePipelines(directory = examplesDirectory): DeclaredPipeline[] {
  return readdirSync(directory)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const parsed = parse(readFileSync(`${directory}${file}`, 'utf8')) as {
        name: string;
        description?: string;
        definition: Record<string, unknown>;
      };
      return {
        name: parsed.name,
        projectId: 'default',
        description: parsed.description ?? '',
        definition: parsed.definition,
      };
    });
}

/** The collection the rag-qa example retrieves from. */
export const exampleCollection = 'ensemble-docs';

/**
 * Creates the `ensemble-docs` collection of the `default` project from
 * `examples/collections/ensemble-docs.jsonl`, embedded with the built-in MiniLM, unless it exists.
 */
export async function seedExampleCollection(
  collections: CollectionService,
  directory = examplesDirectory,
): Promise<void> {
  try {
    await collections.get('default', exampleCollection);
    return;
  } catch (error) {
    if (!(EnsembleError.isInstance(error) && error.code === 'not_found')) throw error;
  }
  const lines = readFileSync(`${directory}../collections/${exampleCollection}.jsonl`, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { id: string; text: string });
  const collection = await collections.create('default', {
    name: exampleCollection,
    backend: 'embedded',
    metric: 'cosine',
    embeddingModel: 'local/all-minilm-l6-v2',
    description: 'passages about Ensemble, for the rag-qa example pipeline',
  });
  await collections.upsertTexts(collection, lines);
}
