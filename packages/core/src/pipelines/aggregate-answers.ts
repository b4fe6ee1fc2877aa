import { textOf } from './pipeline-expression.ts';

/** `concat`: strings joined by a blank line, lists flattened one level, anything else listed. */
export function concatAnswers(outputs: unknown[]): unknown {
  if (outputs.every((output) => typeof output === 'string')) return (outputs as string[]).join('\n\n');
  return outputs.flatMap((output) => (Array.isArray(output) ? output : [output]));
}

/** How answers are compared when voting: trimmed, lowercased, without a final full stop. */
export function voteKey(output: unknown): string {
  const text = typeof output === 'string' ? output : JSON.stringify(output);
  return text
    .trim()
    .toLowerCase()
    .replace(/[.!]+$/, '');
}

/** `vote`: the answer most branches gave; a tie goes to the one that came first in branch order. */
export function majority(outputs: unknown[]): { winner: unknown; votes: Record<string, number> } {
  const votes: Record<string, number> = {};
  for (const output of outputs) votes[voteKey(output)] = (votes[voteKey(output)] ?? 0) + 1;
  let winner: unknown;
  let most = 0;
  for (const output of outputs) {
    const count = votes[voteKey(output)] as number;
    if (count > most) {
      most = count;
      winner = output;
    }
  }
  return { winner, votes };
}

/** The judge's prompt: the task, then the candidates numbered from 1. */
export function judgePrompt(
  task: unknown,
  candidates: unknown[],
  mode: 'pick' | 'merge',
  instruction?: string,
): string {
  const asked =
    instruction ??
    (mode === 'pick'
      ? 'Which candidate answers the task best? Reply with its number only.'
      : 'Merge the candidates into one answer to the task, better than each. Reply with the answer only.');
  const listed = candidates.map((candidate, index) => `[${index + 1}] ${textOf(candidate)}`).join('\n');
  return `Task:\n${textOf(task)}\n\nCandidates:\n${listed}\n\n${asked}`;
}

/** The candidate a `pick` judge chose: the first number in its answer, within range; else the first candidate. */
export function pickedIndex(answer: string, count: number): number {
  const match = /\d+/.exec(answer);
  const picked = match === null ? 1 : Number(match[0]);
  return picked >= 1 && picked <= count ? picked - 1 : 0;
}
