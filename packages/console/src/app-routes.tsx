import type { ComponentType } from 'react';
import { ModelDetailPage } from './routes/models/model-detail-page.tsx';
import { ModelsListPage } from './routes/models/models-list-page.tsx';
import { RegisterModelPage } from './routes/models/register-model-page.tsx';
import { OverviewPage } from './routes/overview/overview-page.tsx';
import { PlaygroundPage } from './routes/playground/playground-page.tsx';

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
];
