import type { Logger } from '@ensemble/core';

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string | undefined;
  fields: Record<string, unknown>;
}

/** A Logger for tests that keeps every entry, children included, in one array. */
export function recordingLogger(
  entries: LogEntry[] = [],
  bindings: Record<string, unknown> = {},
): Logger & {
  entries: LogEntry[];
} {
  const write = (level: LogEntry['level']) => (obj: object, msg?: string) => {
    entries.push({ level, msg, fields: { ...bindings, ...obj } });
  };
  return {
    entries,
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (more) => recordingLogger(entries, { ...bindings, ...more }),
  };
}
