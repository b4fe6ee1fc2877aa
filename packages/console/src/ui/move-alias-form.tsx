import { type FormEvent, useId, useState } from 'react';
import { Button } from './button.tsx';
import { SelectField, TextField } from './field.tsx';
import { InlineError } from './states.tsx';

/**
 * Points an alias (`production`, `staging`, …) at a version: models and pipelines share it. The
 * alias field suggests the usual names and the ones already set.
 */
export function MoveAliasForm({
  versions,
  initialVersion,
  aliases,
  pattern,
  move,
}: {
  versions: readonly number[];
  initialVersion: number;
  /** Aliases already set, suggested first. */
  aliases: readonly string[];
  /** The API's alias rule (an HTML pattern), checked before sending. */
  pattern: string;
  move: {
    mutate: (input: { alias: string; version: number }, options?: { onSuccess?: () => void }) => void;
    isPending: boolean;
    error: unknown;
  };
}) {
  const listId = useId();
  const [alias, setAlias] = useState('');
  const [version, setVersion] = useState(String(initialVersion));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    move.mutate({ alias: alias.trim(), version: Number(version) }, { onSuccess: () => setAlias('') });
  };
  const suggestions = [...new Set([...aliases, 'production', 'staging'])];
  return (
    <>
      <form className="row" onSubmit={submit} aria-label="Move an alias" style={{ alignItems: 'flex-end' }}>
        <TextField
          label="Alias"
          placeholder="production"
          required
          pattern={pattern}
          list={listId}
          value={alias}
          onChange={(event) => setAlias(event.target.value)}
        />
        <datalist id={listId}>
          {suggestions.map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
        <SelectField
          label="To version"
          options={versions.map((item) => ({ value: String(item), label: `v${item}` }))}
          value={version}
          onChange={(event) => setVersion(event.target.value)}
        />
        <Button type="submit" busy={move.isPending}>
          Move alias
        </Button>
      </form>
      <InlineError error={move.error} />
    </>
  );
}
