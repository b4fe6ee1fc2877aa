import { type ComponentType, lazy } from 'react';

// Each page is its own chunk, loaded when first opened: the sign-in page needs none of them.
const CollectionDetailPage = lazy(() =>
  import('./routes/collections/collections-page.tsx').then((module) => ({ default: module.CollectionDetailPage })),
);
const CollectionsPage = lazy(() =>
  import('./routes/collections/collections-page.tsx').then((module) => ({ default: module.CollectionsPage })),
);
const JobDetailPage = lazy(() =>
  import('./routes/jobs/job-detail-page.tsx').then((module) => ({ default: module.JobDetailPage })),
);
const JobsListPage = lazy(() =>
  import('./routes/jobs/jobs-list-page.tsx').then((module) => ({ default: module.JobsListPage })),
);
const KeysPage = lazy(() => import('./routes/keys/keys-page.tsx').then((module) => ({ default: module.KeysPage })));
const ModelDetailPage = lazy(() =>
  import('./routes/models/model-detail-page.tsx').then((module) => ({ default: module.ModelDetailPage })),
);
const ModelsListPage = lazy(() =>
  import('./routes/models/models-list-page.tsx').then((module) => ({ default: module.ModelsListPage })),
);
const RegisterModelPage = lazy(() =>
  import('./routes/models/register-model-page.tsx').then((module) => ({ default: module.RegisterModelPage })),
);
const OverviewPage = lazy(() =>
  import('./routes/overview/overview-page.tsx').then((module) => ({ default: module.OverviewPage })),
);
const NewPipelinePage = lazy(() =>
  import('./routes/pipelines/pipelines-page.tsx').then((module) => ({ default: module.NewPipelinePage })),
);
const PipelineDetailPage = lazy(() =>
  import('./routes/pipelines/pipelines-page.tsx').then((module) => ({ default: module.PipelineDetailPage })),
);
const PipelinesPage = lazy(() =>
  import('./routes/pipelines/pipelines-page.tsx').then((module) => ({ default: module.PipelinesPage })),
);
const RunPage = lazy(() =>
  import('./routes/pipelines/pipelines-page.tsx').then((module) => ({ default: module.RunPage })),
);
const PlaygroundPage = lazy(() =>
  import('./routes/playground/playground-page.tsx').then((module) => ({ default: module.PlaygroundPage })),
);
const NewRoutePage = lazy(() =>
  import('./routes/routes/routes-page.tsx').then((module) => ({ default: module.NewRoutePage })),
);
const RouteDetailPage = lazy(() =>
  import('./routes/routes/routes-page.tsx').then((module) => ({ default: module.RouteDetailPage })),
);
const RoutesPage = lazy(() =>
  import('./routes/routes/routes-page.tsx').then((module) => ({ default: module.RoutesPage })),
);
const SettingsPage = lazy(() =>
  import('./routes/settings/settings-page.tsx').then((module) => ({ default: module.SettingsPage })),
);
const UsagePage = lazy(() => import('./routes/usage/usage-page.tsx').then((module) => ({ default: module.UsagePage })));

/** The console's pages: the path pattern, the navigation entry, and the shortcut key after `g`. */
export interface PageRoute {
  pattern: string;
  page: ComponentType<{ params: Record<string, string> }>;
  nav?: { label: string; key: string };
}

// First match wins: fixed paths before the ones with parameters.
export const pageRoutes: PageRoute[] = [
  { pattern: '/', page: OverviewPage, nav: { label: 'Overview', key: 'o' } },
  { pattern: '/models', page: ModelsListPage, nav: { label: 'Models', key: 'm' } },
  { pattern: '/models/new', page: RegisterModelPage },
  { pattern: '/models/:name*', page: ModelDetailPage },
  { pattern: '/playground', page: PlaygroundPage, nav: { label: 'Playground', key: 'p' } },
  { pattern: '/routes', page: RoutesPage, nav: { label: 'Routes', key: 'r' } },
  { pattern: '/routes/new', page: NewRoutePage },
  { pattern: '/routes/:name*', page: RouteDetailPage },
  { pattern: '/pipelines', page: PipelinesPage, nav: { label: 'Pipelines', key: 'l' } },
  { pattern: '/pipelines/new', page: NewPipelinePage },
  { pattern: '/pipelines/:name', page: PipelineDetailPage },
  { pattern: '/runs/:id', page: RunPage },
  { pattern: '/jobs', page: JobsListPage, nav: { label: 'Jobs', key: 'j' } },
  { pattern: '/jobs/:id', page: JobDetailPage },
  { pattern: '/collections', page: CollectionsPage, nav: { label: 'Collections', key: 'c' } },
  { pattern: '/collections/:name', page: CollectionDetailPage },
  { pattern: '/usage', page: UsagePage, nav: { label: 'Usage & logs', key: 'u' } },
  { pattern: '/keys', page: KeysPage, nav: { label: 'Keys', key: 'k' } },
  { pattern: '/settings', page: SettingsPage, nav: { label: 'Settings', key: 's' } },
];
