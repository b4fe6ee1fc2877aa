import { type FormEvent, useState } from 'react';
import { modelPath, type NewModel, useRegisterModel } from '../../api/models.ts';
import { navigate } from '../../lib/router.tsx';
import { Button } from '../../ui/button.tsx';
import { SelectField, TextField } from '../../ui/field.tsx';
import { Card, PageHeader } from '../../ui/layout.tsx';
import { InlineError } from '../../ui/states.tsx';

const providers = ['openai', 'openai-compatible', 'anthropic', 'azure-openai', 'bedrock', 'gemini'].map((value) => ({
  value,
  label: value,
}));
const kinds = ['chat', 'embedding'].map((value) => ({ value, label: value }));

/** Registers a hosted model; the API checks every field and its message is shown as it is. */
export function RegisterModelPage() {
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
    <>
      <PageHeader
        title="Register a model"
        description="A hosted API or an OpenAI-compatible server. Its secret goes in a credential, never here."
      />
      <Card>
        <form className="form" onSubmit={submit}>
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
            <TextField
              label="Input price (USD per 1M tokens)"
              type="number"
              min="0"
              step="any"
              {...field('inputPrice')}
            />
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
      </Card>
    </>
  );
}
