import type { ComponentType } from 'react';
import { CollectionDetailPage, CollectionsPage } from './routes/collections/collections-page.tsx';
import { JobDetailPage } from './routes/jobs/job-detail-page.tsx';
import { JobsListPage } from './routes/jobs/jobs-list-page.tsx';
import { KeysPage } from './routes/keys/keys-page.tsx';
import { ModelDetailPage } from './routes/models/model-detail-page.tsx';
import { ModelsListPage } from './routes/models/models-list-page.tsx';
import { RegisterModelPage } from './routes/models/register-model-page.tsx';
import { OverviewPage } from './routes/overview/overview-page.tsx';
import { NewPipelinePage, PipelineDetailPage, PipelinesPage, RunPage } from './routes/pipelines/pipelines-page.tsx';
import { PlaygroundPage } from './routes/playground/playground-page.tsx';
import { NewRoutePage, RouteDetailPage, RoutesPage } from './routes/routes/routes-page.tsx';
import { SettingsPage } from './routes/settings/settings-page.tsx';
import { UsagePage } from './routes/usage/usage-page.tsx';

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
