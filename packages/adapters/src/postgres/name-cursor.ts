import { validationError } from '@ensemble/core';

/** A position in a list ordered by project, then name (models, credentials). */
export interface NameCursor {
  projectId: string;
  name: string;
}

/** Opaque to clients: where the next page starts. */
export function encodeNameCursor(cursor: NameCursor): string {
  return Buffer.from(JSON.stringify([cursor.projectId, cursor.name])).toString('base64url');
}

export function decodeNameCursor(value: string, field = 'querystring.after'): NameCursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2) {
      const [projectId, name] = parsed as unknown[];
      if (typeof projectId === 'string' && typeof name === 'string') return { projectId, name };
    }
  } catch {
    // Falls through to the validation error below.
  }
  throw validationError(field, 'is not a cursor from a previous page (pass nextCursor back unchanged)');
}
