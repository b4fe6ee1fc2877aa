import { type ApiTarget, apiRequest } from '../jobs/jobs-api-client.ts';

/** `--project`: an admin key acts on this project (`x-ensemble-project`). */
export function projectHeader(options: { project?: string }): Record<string, string> {
  return options.project === undefined ? {} : { 'x-ensemble-project': options.project };
}

/** Every row of a cursor-paginated list (`{data, nextCursor}`), following `after` 200 at a time. */
export async function listAllPages<Row>(
  target: ApiTarget,
  path: string,
  headers: Record<string, string>,
): Promise<Row[]> {
  const rows: Row[] = [];
  let after: string | null = null;
  // Bounded: 200 pages of 200 is far beyond any real project, and a server bug cannot loop us forever.
  for (let page = 0; page < 200; page++) {
    const query: string = after === null ? '?limit=200' : `?limit=200&after=${encodeURIComponent(after)}`;
    const response = await apiRequest(target, 'GET', `${path}${query}`, undefined, headers);
    const body = (await response.json()) as { data: Row[]; nextCursor: string | null };
    rows.push(...body.data);
    after = body.nextCursor;
    if (after === null) break;
  }
  return rows;
}

/** Columns padded to their widest cell, two spaces apart: what `keys list` and `users list` print. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    `${cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()}\n`;
  return [line(header), ...rows.map(line)].join('');
}
