/**
 * Splits a document into chunks for a collection (pure): paragraphs packed up to `maxChars`, a long
 * paragraph split at sentence ends, a long sentence cut hard. Chunks keep their order.
 */
export function chunkText(text: string, maxChars = 800): string[] {
  const pieces: string[] = [];
  for (const paragraph of text.replace(/\r\n?/g, '\n').split(/\n\s*\n/)) {
    const clean = paragraph.replace(/\s+/g, ' ').trim();
    if (!clean) continue;
    if (clean.length <= maxChars) {
      pieces.push(clean);
      continue;
    }
    for (const sentence of clean.match(/[^.!?]+[.!?]+["')\]]*\s*|[^.!?]+$/g) ?? [clean]) {
      const trimmed = sentence.trim();
      for (let start = 0; start < trimmed.length; start += maxChars)
        pieces.push(trimmed.slice(start, start + maxChars));
    }
  }
  const chunks: string[] = [];
  let current = '';
  for (const piece of pieces) {
    if (current && current.length + 1 + piece.length > maxChars) {
      chunks.push(current);
      current = piece;
    } else current = current ? `${current} ${piece}` : piece;
  }
  if (current) chunks.push(current);
  return chunks;
}

/** Lines of a JSONL file as records `{id?, text, metadata?}`, or the whole file chunked as text. */
export function recordsFromFile(
  name: string,
  content: string,
  maxChars = 800,
): Array<{ id: string; text: string; metadata: Record<string, string | number> }> {
  if (/\.(jsonl|ndjson)$/i.test(name)) {
    return content
      .split('\n')
      .filter((line) => line.trim())
      .map((line, index) => {
        const value = JSON.parse(line) as { id?: string; text?: string; metadata?: Record<string, string | number> };
        if (typeof value.text !== 'string' || !value.text) throw new Error(`${name} line ${index + 1}: needs a "text"`);
        return { id: value.id ?? `${name}#${index}`, text: value.text, metadata: { source: name, ...value.metadata } };
      });
  }
  return chunkText(content, maxChars).map((text, index) => ({
    id: `${name}#${index}`,
    text,
    metadata: { source: name, chunk: index },
  }));
}
