import { type EnsembleConfig, EnsembleError, type Logger } from '@ensemble/core';
import type { OutboundGuard } from '@ensemble/server';

/**
 * ensemble.yaml's URLs (models' `baseUrl`) pass the same SSRF rule as the API's: an internal address,
 * or a host outside OUTBOUND_ALLOWED_HOSTS, stops the start with the field named. A name that does not
 * resolve now is only a warning (the network may come later): it is checked again at connect time.
 */
export async function checkDeclaredUrls(config: EnsembleConfig, guard: OutboundGuard, logger: Logger): Promise<void> {
  for (const [index, model] of config.models.entries()) {
    const url = (model as { baseUrl?: string }).baseUrl;
    if (url === undefined) continue;
    const field = `models[${index}].baseUrl`;
    try {
      await guard.check(url, field);
    } catch (error) {
      if (!(error instanceof EnsembleError)) throw error;
      if (/does not resolve/.test(error.message)) {
        logger.warn({ field, model: model.name }, `ensemble.yaml: ${error.message}; it is checked again when called`);
        continue;
      }
      throw new EnsembleError('config_invalid', `ensemble.yaml: ${error.message}`, { field, cause: error });
    }
  }
}
