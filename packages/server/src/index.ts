export type { FastifyPluginAsyncZod, ZodTypeProvider } from 'fastify-type-provider-zod';
export { type BuildAppOptions, buildApp } from './app.ts';
export type { EnsembleApp, EnsembleModule } from './app-types.ts';
export { type ApiKeyScheme, bearerScheme, headerScheme } from './auth/api-key-scheme.ts';
export { type CloseGracefullyOptions, type CloseOutcome, closeGracefully } from './close-gracefully.ts';
export { ErrorFormatterRegistry } from './errors/error-formatter-registry.ts';
export type { ErrorFormatter, ErrorProblem } from './errors/error-problem.ts';
export { formatOpenAiError, type OpenAiErrorBody, openAiErrorBodySchema } from './errors/openai-error-body.ts';
export type { ValidationIssue } from './errors/validation-issues.ts';
export { BudgetGuard, type BudgetWarning } from './limits/budget-guard.ts';
export { LimitsCache } from './limits/limits-cache.ts';
export { LimitsEnforcer } from './limits/limits-enforcer.ts';
export { listen } from './listen.ts';
export { type CreateLoggerOptions, createLogger, redactedPaths, redactUrl } from './logger.ts';
export { type ArtifactsModuleOptions, artifactsModule } from './modules/artifacts/artifacts-module.ts';
export { auditModule } from './modules/audit/audit-module.ts';
export type { AccountDirectory, AuthModuleOptions, SessionIssuer } from './modules/auth/account-ports.ts';
export { authModule } from './modules/auth/auth-module.ts';
export { type BatchApiModuleOptions, batchApiModule } from './modules/batch-api/batch-api-module.ts';
export { type CollectionsModuleOptions, collectionsModule } from './modules/collections/collections-module.ts';
export { type ConsoleModuleOptions, consoleModule } from './modules/console/console-module.ts';
export { credentialsModule } from './modules/credentials/credentials-module.ts';
export { GatewayJobModelCaller } from './modules/jobs/gateway-job-model-caller.ts';
export { type JobsModuleOptions, jobsModule } from './modules/jobs/jobs-module.ts';
export { PipelineJobRunner } from './modules/jobs/pipeline-job-runner.ts';
export { keysModule } from './modules/keys/keys-module.ts';
export { type LimitChangeListener, limitsModule } from './modules/limits/limits-module.ts';
export {
  type ModelRuntimeModuleOptions,
  modelRuntimeModule,
} from './modules/model-runtime/model-runtime-module.ts';
export {
  modelNameOf,
  modelParamsSchema,
  modelPath,
  modelRefOf,
  nameDepths,
} from './modules/models/model-name-params.ts';
export { modelsModule } from './modules/models/models-module.ts';
export {
  type OpenAiGatewayModuleOptions,
  openAiGatewayModule,
} from './modules/openai-gateway/openai-gateway-module.ts';
export { type PineconeModuleOptions, pineconeModule } from './modules/pinecone/pinecone-module.ts';
export { AllowListPipelineHttp } from './modules/pipelines/allow-list-http.ts';
export { CollectionsPipelineRetriever } from './modules/pipelines/collections-retriever.ts';
export {
  PipelineService,
  type PipelineServiceOptions,
  type StartedRun,
  type StartRun,
} from './modules/pipelines/pipeline-service.ts';
export { type PipelinesModuleOptions, pipelinesModule } from './modules/pipelines/pipelines-module.ts';
export { RuntimePipelineModels } from './modules/pipelines/runtime-pipeline-models.ts';
export { projectsModule } from './modules/projects/projects-module.ts';
export { routesModule } from './modules/routes/routes-module.ts';
export { runsModule, stepTree } from './modules/runs/runs-module.ts';
export {
  BufferedUsageRecorder,
  type BufferedUsageRecorderOptions,
  type UsageRecorderStats,
} from './modules/usage/buffered-usage-recorder.ts';
export { usageModule } from './modules/usage/usage-module.ts';
export { usageRecorderCollector } from './modules/usage/usage-recorder-metrics.ts';
export { usersModule } from './modules/users/users-module.ts';
export { projectHeader } from './plugins/authentication.ts';
export type { Lifecycle, LifecyclePhase } from './plugins/lifecycle.ts';
export { type MetricsOptions, metricsPath } from './plugins/metrics.ts';
export type { MetricsCollector } from './plugins/metrics-collector.ts';
export {
  type ConsumerLagCollectorOptions,
  consumerLagCollector,
  type LagGroup,
} from './plugins/metrics-consumer-lag.ts';
export { requestIdHeader } from './request-id.ts';
export { OutboundGuard, type OutboundPolicy } from './security/outbound-guard.ts';
