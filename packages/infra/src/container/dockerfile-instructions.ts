/** One instruction of a Dockerfile, continuation lines joined, with the stage it belongs to. */
export interface DockerfileInstruction {
  keyword: string;
  /** Everything after the keyword, continuation lines joined by a space. */
  args: string;
  /** Index of the stage (0 for the first FROM). */
  stage: number;
  /** The stage's name (`FROM … AS name`), if any. */
  stageName?: string;
  line: number;
}

/** Parses a Dockerfile into instructions (comments and parser directives dropped). */
export function parseDockerfile(text: string): DockerfileInstruction[] {
  const instructions: DockerfileInstruction[] = [];
  const lines = text.split('\n');
  let stage = -1;
  let stageName: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const first = i + 1;
    let line = lines[i] ?? '';
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.trimEnd().endsWith('\\') && i + 1 < lines.length) {
      line = `${line.trimEnd().slice(0, -1)} `;
      i++;
      const next = lines[i] ?? '';
      if (/^\s*#/.test(next)) continue;
      line += next.trim();
    }
    const match = /^\s*(\w+)\s+(.*)$/s.exec(line);
    if (!match) continue;
    const keyword = (match[1] as string).toUpperCase();
    const args = (match[2] as string).trim();
    if (keyword === 'FROM') {
      stage++;
      stageName = /\s+AS\s+(\S+)\s*$/i.exec(args)?.[1];
    }
    instructions.push({ keyword, args, stage, ...(stageName ? { stageName } : {}), line: first });
  }
  return instructions;
}

/** True when an instruction's arguments are in exec (JSON array) form. */
export function isExecForm(args: string): boolean {
  try {
    const value: unknown = JSON.parse(args);
    return Array.isArray(value) && value.length > 0 && value.every((part) => typeof part === 'string');
  } catch {
    return false;
  }
}
