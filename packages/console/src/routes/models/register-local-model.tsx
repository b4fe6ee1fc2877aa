import { useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useRef, useState } from 'react';
import { modelPath, type NewModel, uploadArtifact } from '../../api/models.ts';
import { queryKeys } from '../../api/query-keys.ts';
import type { Model } from '../../api/types.ts';
import { api, messageOf } from '../../lib/api-client.ts';
import { formatBytes } from '../../lib/format.ts';
import { navigate } from '../../lib/router.tsx';
import { Button } from '../../ui/button.tsx';
import { FileField, SelectField, TextField } from '../../ui/field.tsx';
import { ProgressBar } from '../../ui/progress-bar.tsx';
import { InlineError } from '../../ui/states.tsx';

/** What a local file is run as: GGUF by llama.cpp as a chat model, ONNX as a sentence embedder. */
function formatOf(file: File | undefined): 'gguf' | 'onnx' | undefined {
  if (!file) return undefined;
  if (/\.gguf$/i.test(file.name)) return 'gguf';
  if (/\.onnx$/i.test(file.name)) return 'onnx';
  return undefined;
}

/**
 * Registers a model from a file on the user's machine: the file (and an ONNX model's tokenizer) is
 * uploaded with a progress bar, then the model is registered by the file's sha256. Deploy and test it
 * on its page.
 */
export function RegisterLocalModel() {
  const client = useQueryClient();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [file, setFile] = useState<File | undefined>(undefined);
  const [tokenizer, setTokenizer] = useState<File | undefined>(undefined);
  const [pooling, setPooling] = useState('mean');
  const [progress, setProgress] = useState<{ file: string; sent: number; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const cancel = useRef<AbortController | null>(null);
  const format = formatOf(file);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!file || !format) {
      setError('Choose a .gguf (chat) or .onnx (embedding) file.');
      return;
    }
    if (format === 'onnx' && !tokenizer) {
      setError('An ONNX embedding model needs its tokenizer.json.');
      return;
    }
    const controller = new AbortController();
    cancel.current = controller;
    setBusy(true);
    setError(null);
    try {
      const upload = (chosen: File) =>
        uploadArtifact(chosen, {
          signal: controller.signal,
          onProgress: (sent, total) => setProgress({ file: chosen.name, sent, total }),
        });
      const model = await upload(file);
      const tokenizerFile = format === 'onnx' && tokenizer ? await upload(tokenizer) : undefined;
      const trimmed = name.trim();
      const body: NewModel = {
        name: trimmed,
        kind: format === 'gguf' ? 'chat' : 'embedding',
        provider: 'local',
        providerModelId: trimmed.split('/').at(-1) ?? trimmed,
        artifact: { sha256: model.sha256, format },
        ...(description.trim() ? { description: description.trim() } : {}),
        ...(tokenizerFile ? { options: { tokenizer: tokenizerFile.sha256, pooling } } : {}),
      };
      const created = await api<Model>('/api/models', { method: 'POST', body, signal: controller.signal });
      await client.invalidateQueries({ queryKey: queryKeys.models.all });
      navigate(modelPath(created.name));
    } catch (failure) {
      setError(controller.signal.aborted ? 'The upload was cancelled.' : messageOf(failure));
    } finally {
      setBusy(false);
      cancel.current = null;
    }
  };

  return (
    <form className="form" onSubmit={submit} aria-label="Register a local model">
      <TextField
        label="Name"
        required
        placeholder="team/my-model"
        hint="How clients call it: the model field of /v1 requests."
        value={name}
        onChange={(event) => setName(event.target.value)}
      />
      <FileField
        label="Model file"
        accept=".gguf,.onnx"
        required
        hint={
          file
            ? `${file.name} · ${formatBytes(file.size)} · ${format === 'gguf' ? 'a chat model (llama.cpp)' : format === 'onnx' ? 'a sentence-embedding model (ONNX Runtime)' : 'not a .gguf or .onnx file'}`
            : 'A GGUF chat model, or an ONNX sentence-embedding model (BERT-style: e5, gte, BGE, MiniLM).'
        }
        onChange={(event) => setFile(event.target.files?.[0])}
      />
      {format === 'onnx' ? (
        <>
          <FileField
            label="Tokenizer (tokenizer.json)"
            accept=".json"
            required
            onChange={(event) => setTokenizer(event.target.files?.[0])}
          />
          <SelectField
            label="Pooling"
            options={[
              { value: 'mean', label: 'mean (sentence-transformers: MiniLM, e5, gte)' },
              { value: 'cls', label: 'cls (BGE)' },
            ]}
            value={pooling}
            onChange={(event) => setPooling(event.target.value)}
          />
        </>
      ) : null}
      <TextField label="Description" value={description} onChange={(event) => setDescription(event.target.value)} />
      {progress ? (
        <ProgressBar
          label={`Uploading ${progress.file}`}
          done={progress.sent}
          total={progress.total}
          caption={`${progress.file}: ${formatBytes(progress.sent)} of ${formatBytes(progress.total)} sent`}
        />
      ) : null}
      <InlineError error={error} />
      <div className="row">
        <Button type="submit" variant="primary" busy={busy}>
          Upload and register
        </Button>
        {busy ? <Button onClick={() => cancel.current?.abort()}>Cancel upload</Button> : null}
      </div>
    </form>
  );
}
