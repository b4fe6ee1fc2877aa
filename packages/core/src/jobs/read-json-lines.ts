import { validationError } from '../errors/ensemble-error.ts';

export interface JsonLine {
  /** 1-based, counting blank lines too, as an editor shows it. */
  line: number;
  value: unknown;
}

export interface ReadJsonLinesOptions {
  /** The request field the file came from, for messages (`body.inputFile`). */
  field: string;
  /** A longer line is refused (naming it) before it is parsed. */
  maxLineBytes: number;
}

/**
 * The values of a JSON Lines file, read as a stream (the file is never held whole). Blank lines
 * are skipped; a line that is not JSON, or too long, or not valid UTF-8, is a 400 naming the line.
 */
export async function* readJsonLines(
  source: AsyncIterable<Uint8Array>,
  options: ReadJsonLinesOptions,
): AsyncGenerator<JsonLine> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let line = 0;
  const parse = (bytes: Uint8Array): JsonLine | undefined => {
    line += 1;
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      throw validationError(options.field, `line ${line}: is not valid UTF-8`);
    }
    if (text.trim() === '') return undefined;
    try {
      return { line, value: JSON.parse(text) };
    } catch (error) {
      throw validationError(options.field, `line ${line}: is not valid JSON (${(error as Error).message})`);
    }
  };
  const tooLong = () =>
    validationError(options.field, `line ${line + 1}: is longer than ${options.maxLineBytes} bytes`);

  for await (const chunk of source) {
    let start = 0;
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, newline);
      if (pendingBytes + piece.length > options.maxLineBytes) throw tooLong();
      const bytes = pending.length === 0 ? piece : concat([...pending, piece], pendingBytes + piece.length);
      pending = [];
      pendingBytes = 0;
      const parsed = parse(stripCarriageReturn(bytes));
      if (parsed !== undefined) yield parsed;
      start = newline + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      pendingBytes += rest.length;
      if (pendingBytes > options.maxLineBytes) throw tooLong();
      // The chunk's buffer may be reused by the stream: keep a copy.
      pending.push(rest.slice());
    }
  }
  if (pendingBytes > 0) {
    const parsed = parse(stripCarriageReturn(concat(pending, pendingBytes)));
    if (parsed !== undefined) yield parsed;
  }
}

function stripCarriageReturn(bytes: Uint8Array): Uint8Array {
  return bytes.length > 0 && bytes[bytes.length - 1] === 13 ? bytes.subarray(0, bytes.length - 1) : bytes;
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}
