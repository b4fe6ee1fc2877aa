// Texts the model benchmarks embed.

const subjects = ['The cat', 'A engineer', 'Our team', 'The market', 'My neighbour', 'The old train', 'This model'];
const verbs = ['quietly watched', 'carefully repaired', 'suddenly changed', 'happily described', 'barely noticed'];
const objects = [
  'the red door near the station',
  'a long report about rainfall',
  'the price of fresh bread',
  'an unusual noise at night',
];

/** Short, varied sentences (15–20 tokens with [CLS]/[SEP]), like queries and chunk titles. */
export function sentence(index: number): string {
  return `${subjects[index % subjects.length]} ${verbs[index % verbs.length]} ${objects[index % objects.length]} (${index}).`;
}

/**
 * A RAG-like mix: mostly short queries, every eighth text a passage of 100–200 words (cut at 256
 * tokens), as when documents and queries share one embedding deployment.
 */
export function mixedText(index: number): string {
  if (index % 8 !== 7) return sentence(index);
  const words = 100 + ((index * 37) % 100);
  return Array.from({ length: Math.ceil(words / 10) }, (_, part) => sentence(index + part))
    .join(' ')
    .split(' ')
    .slice(0, words)
    .join(' ');
}
