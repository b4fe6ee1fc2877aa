/**
 * The one query-key factory: every cached query's key comes from here, so a mutation invalidates
 * exactly what it changed (`queryKeys.models.all` drops every models query, `.detail(name)` one model).
 */
type Filters = Record<string, string | number | boolean | undefined | null>;

export const queryKeys = {
  session: ['session'] as const,
  health: {
    all: ['health'] as const,
    readiness: () => ['health', 'readiness'] as const,
    metrics: () => ['health', 'metrics'] as const,
  },
  models: {
    all: ['models'] as const,
    list: (filters: Filters = {}) => ['models', 'list', filters] as const,
    detail: (name: string) => ['models', 'detail', name] as const,
    versions: (name: string) => ['models', 'detail', name, 'versions'] as const,
    aliases: (name: string) => ['models', 'detail', name, 'aliases'] as const,
    health: (name: string) => ['models', 'detail', name, 'health'] as const,
    statusHistory: (name: string) => ['models', 'detail', name, 'status-history'] as const,
  },
  routes: {
    all: ['routes'] as const,
    list: () => ['routes', 'list'] as const,
    detail: (name: string) => ['routes', 'detail', name] as const,
  },
  jobs: {
    all: ['jobs'] as const,
    list: (filters: Filters = {}) => ['jobs', 'list', filters] as const,
    detail: (id: string) => ['jobs', 'detail', id] as const,
  },
  usage: {
    all: ['usage'] as const,
    summary: (filters: Filters) => ['usage', 'summary', filters] as const,
    records: (filters: Filters) => ['usage', 'records', filters] as const,
  },
  collections: {
    all: ['collections'] as const,
    list: () => ['collections', 'list'] as const,
    detail: (name: string) => ['collections', 'detail', name] as const,
  },
  pipelines: {
    all: ['pipelines'] as const,
    list: () => ['pipelines', 'list'] as const,
    detail: (name: string) => ['pipelines', 'detail', name] as const,
    version: (name: string, version: number) => ['pipelines', 'detail', name, 'version', version] as const,
    runs: (name: string) => ['pipelines', 'runs', name] as const,
    run: (id: string) => ['pipelines', 'run', id] as const,
    ref: (ref: string) => ['pipelines', 'ref', ref] as const,
  },
  keys: {
    all: ['keys'] as const,
    list: () => ['keys', 'list'] as const,
  },
  projects: {
    all: ['projects'] as const,
    list: () => ['projects', 'list'] as const,
  },
  credentials: {
    all: ['credentials'] as const,
    list: () => ['credentials', 'list'] as const,
  },
  limits: {
    all: ['limits'] as const,
    project: () => ['limits', 'project'] as const,
  },
  audit: {
    all: ['audit'] as const,
    list: (filters: Filters) => ['audit', 'list', filters] as const,
  },
} as const;
