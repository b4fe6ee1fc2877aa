import type { ComponentType } from 'react';
import { OverviewPage } from './routes/overview/overview-page.tsx';

/** The console's pages: the path pattern, the navigation entry, and the shortcut key after `g`. */
export interface PageRoute {
  pattern: string;
  page: ComponentType<{ params: Record<string, string> }>;
  nav?: { label: string; key: string };
}

export const pageRoutes: PageRoute[] = [{ pattern: '/', page: OverviewPage, nav: { label: 'Overview', key: 'o' } }];
