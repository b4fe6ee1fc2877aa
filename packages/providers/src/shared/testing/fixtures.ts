import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Reads a recorded body as the upstream sent it (the exact bytes, not re-serialized). */
export function readFixture(folder: string, name: string): string {
  return readFileSync(join(folder, name), 'utf8');
}

/** A `*.chunks.txt` file holds one recorded stream event per line, as JSON, in the order they arrived. */
export function readChunks(folder: string, name: string): string[] {
  return readFixture(folder, name)
    .split('\n')
    .filter((line) => line.trim().length > 0);
}
