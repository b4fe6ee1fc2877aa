import { type FormEvent, useState } from 'react';
import { modelPath, type NewModel, useRegisterModel } from '../../api/models.ts';
import { navigate } from '../../lib/router.tsx';
import { Button } from '../../ui/button.tsx';
import { SelectField, TextField } from '../../ui/field.tsx';
import { Card, PageHeader } from '../../ui/layout.tsx';
import { InlineError } from '../../ui/states.tsx';
import { RegisterLocalModel } from './register-local-model.tsx';

const providers = ['openai', 'openai-compatible', 'anthropic', 'azure-openai', 'bedrock', 'gemini'].map((value) => ({
  value,
  label: value,
}));
const kinds = ['chat', 'embedding'].map((value) => ({ value, label: value }));

/** Registers a hosted model, or a local file (uploaded with progress); the API's messages are shown as they are. */
export function RegisterModelPage() {
  const [source, setSource] = useState<'hosted' | 'local'>('hosted');
  return (
    <>
      <PageHeader
        title="Register a model"
        description="A hosted API or an OpenAI-compatible server (its secret goes in a credential, never here), or a model file run by Ensemble itself."
      />
      <Card>
        <div className="stack">
          <fieldset className="row segmented">
            <legend className="small muted">Source</legend>
            {(
              [
                ['hosted', 'Hosted API'],
                ['local', 'Local file (GGUF or ONNX)'],
              ] as const
            ).map(([value, label]) => (
              <label key={value} className="row small">
                <input
                  type="radio"
                  name="source"
                  value={value}
                  checked={source === value}
                  onChange={() => setSource(value)}
                />
                {label}
              </label>
            ))}
          </fieldset>
          {source === 'hosted' ? <RegisterHostedModel /> : <RegisterLocalModel />}
        </div>
      </Card>
    </>
  );
}

function RegisterHostedModel() {
  const register = useRegisterModel();
  const [form, setForm] = useState({
    name: '',
    kind: 'chat',
    provider: 'openai',
    providerModelId: '',
    baseUrl: '',
    credential: '',
    description: '',
    inputPrice: '',
    outputPrice: '',
  });
  const field = (name: keyof typeof form) => ({
    value: form[name],
    onChange: (event: { target: { value: string } }) =>
      setForm((current) => ({ ...current, [name]: event.target.value })),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const model: NewModel = {
      name: form.name.trim(),
      kind: form.kind,
      provider: form.provider,
      providerModelId: form.providerModelId.trim(),
      ...(form.baseUrl.trim() ? { baseUrl: form.baseUrl.trim() } : {}),
      ...(form.credential.trim() ? { credential: form.credential.trim() } : {}),
      ...(form.description.trim() ? { description: form.description.trim() } : {}),
      ...(form.inputPrice !== '' || form.outputPrice !== ''
        ? {
            pricing: {
              inputPerMillionTokens: Number(form.inputPrice || 0),
              outputPerMillionTokens: Number(form.outputPrice || 0),
            },
          }
        : {}),
    };
    register.mutate(model, { onSuccess: (created) => navigate(modelPath(created.name)) });
  };

  return (
    <form className="form" onSubmit={submit} aria-label="Register a hosted model">
      <TextField
        label="Name"
        required
        placeholder="openai/gpt-4o-mini"
        hint="How clients call it: the model field of /v1 requests."
        {...field('name')}
      />
      <SelectField label="Kind" options={kinds} {...field('kind')} />
      <SelectField label="Provider" options={providers} {...field('provider')} />
      <TextField label="Provider's model id" required placeholder="gpt-4o-mini" {...field('providerModelId')} />
      <TextField label="Base URL" placeholder="https://… (OpenAI-compatible servers)" {...field('baseUrl')} />
      <TextField
        label="Credential"
        placeholder="openai"
        hint="The name of a credential holding the provider's API key."
        {...field('credential')}
      />
      <TextField label="Description" {...field('description')} />
      <div className="row">
        <TextField label="Input price (USD per 1M tokens)" type="number" min="0" step="any" {...field('inputPrice')} />
        <TextField
          label="Output price (USD per 1M tokens)"
          type="number"
          min="0"
          step="any"
          {...field('outputPrice')}
        />
      </div>
      <InlineError error={register.error} />
      <div className="row">
        <Button type="submit" variant="primary" busy={register.isPending}>
          Register
        </Button>
        <Button onClick={() => navigate('/models')}>Cancel</Button>
      </div>
    </form>
  );
}
