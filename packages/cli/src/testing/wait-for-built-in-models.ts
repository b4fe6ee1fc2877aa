import type { EnsembleProcess } from './ensemble-process.ts';

interface ListedModel {
  name: string;
  status: string;
}

/**
 * Waits until every built-in model of a started Ensemble is `ready` (they deploy in the background;
 * a deploy whose health check fails would unload a model mid-test). Fails at once on `failed`.
 */
export async function waitForBuiltInModels(ensemble: EnsembleProcess, { timeoutMs = 240_000 } = {}): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${ensemble.url}/api/models?tag=built-in`, { headers: ensemble.auth });
    if (!response.ok) throw new Error(`listing the built-in models: ${response.status} ${await response.text()}`);
    const listed = ((await response.json()) as { data: ListedModel[] }).data;
    if (listed.length > 0 && listed.every((model) => model.status === 'ready')) return;
    if (listed.some((model) => model.status === 'failed')) {
      throw new Error(`a built-in model failed to deploy: ${JSON.stringify(listed)}`);
    }
    if (Date.now() > deadline) throw new Error(`the built-in models did not deploy: ${JSON.stringify(listed)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
