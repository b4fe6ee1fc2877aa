import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { DeclaredPipeline } from '@ensemble/core';
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
