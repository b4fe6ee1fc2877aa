/** "View as code": the playground's request as curl and OpenAI SDK calls (pure). */

export interface ChatRequest {
  model: string;
  system: string;
  message: string;
  temperature?: number;
  maxTokens?: number;
  topP?: number;
}

function messages(request: ChatRequest) {
  return [
    ...(request.system.trim() ? [{ role: 'system', content: request.system }] : []),
    { role: 'user', content: request.message },
  ];
}

export function requestBody(request: ChatRequest, stream = true) {
  return {
    model: request.model,
    messages: messages(request),
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
    ...(request.topP === undefined ? {} : { top_p: request.topP }),
    stream,
    ...(stream ? { stream_options: { include_usage: true } } : {}),
  };
}

const shellQuote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

export function curlSnippet(request: ChatRequest, origin: string): string {
  return [
    `curl -sN ${origin}/v1/chat/completions \\`,
    '  -H "authorization: Bearer $ENSEMBLE_API_KEY" -H \'content-type: application/json\' \\',
    `  -d ${shellQuote(JSON.stringify(requestBody(request)))}`,
  ].join('\n');
}

export function openAiJsSnippet(request: ChatRequest, origin: string): string {
  const { model, messages: body, stream, stream_options, ...parameters } = requestBody(request);
  const extra = Object.entries(parameters).map(([name, value]) => `  ${name}: ${JSON.stringify(value)},`);
  return [
    "import OpenAI from 'openai';",
    '',
    `const client = new OpenAI({ baseURL: '${origin}/v1', apiKey: process.env.ENSEMBLE_API_KEY });`,
    'const stream = await client.chat.completions.create({',
    `  model: ${JSON.stringify(model)},`,
    `  messages: ${JSON.stringify(body)},`,
    ...extra,
    '  stream: true,',
    '});',
    "for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta?.content ?? '');",
  ].join('\n');
}

export function openAiPythonSnippet(request: ChatRequest, origin: string): string {
  const { model, messages: body, stream, stream_options, ...parameters } = requestBody(request);
  const extra = Object.entries(parameters).map(([name, value]) => `    ${name}=${JSON.stringify(value)},`);
  return [
    'import os',
    'from openai import OpenAI',
    '',
    `client = OpenAI(base_url="${origin}/v1", api_key=os.environ["ENSEMBLE_API_KEY"])`,
    'stream = client.chat.completions.create(',
    `    model=${JSON.stringify(model)},`,
    `    messages=${JSON.stringify(body)},`,
    ...extra,
    '    stream=True,',
    ')',
    'for chunk in stream:',
    '    print(chunk.choices[0].delta.content or "", end="")',
  ].join('\n');
}

/** Cost from a model's pricing, or null when it has none. */
export function costOf(
  usage: { inputTokens: number; outputTokens: number },
  pricing: { inputPerMillionTokens: number; outputPerMillionTokens: number } | undefined,
): number | null {
  if (!pricing) return null;
  return (
    (usage.inputTokens * pricing.inputPerMillionTokens + usage.outputTokens * pricing.outputPerMillionTokens) / 1e6
  );
}
