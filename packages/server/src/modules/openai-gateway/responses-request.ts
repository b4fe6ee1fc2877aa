import { z } from 'zod';

const text = z.string().max(1_000_000);

/** A message's content part: text in or out, or an image (a URL or a `data:` URL). */
export const contentPartSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('input_text'), text }),
  z.looseObject({ type: z.literal('output_text'), text }),
  z.looseObject({ type: z.literal('refusal'), refusal: text }),
  z.looseObject({
    type: z.literal('input_image'),
    image_url: z.string().min(1).max(20_000_000),
    detail: z.enum(['low', 'high', 'auto']).nullable().optional(),
  }),
]);

export type ResponsesContentPart = z.infer<typeof contentPartSchema>;

/** Content as sent: each part is checked when translated, so an error names the part and its kind. */
const contentSchema = z.union([text, z.array(z.looseObject({ type: z.string().max(100) })).max(1_000)]);

export const responsesMessageSchema = z.looseObject({
  type: z.literal('message').optional(),
  role: z.enum(['user', 'assistant', 'system', 'developer']),
  content: contentSchema,
});

export const functionCallItemSchema = z.looseObject({
  type: z.literal('function_call'),
  call_id: z.string().min(1).max(200),
  name: z.string().min(1).max(200),
  arguments: text,
});

export const functionCallOutputItemSchema = z.looseObject({
  type: z.literal('function_call_output'),
  call_id: z.string().min(1).max(200),
  output: contentSchema,
});

/**
 * One item of `input`, loosely: each kind is checked in full when it is translated, so an error names
 * the item (`input[2].call_id`) and an unsupported kind (`file_search_call`, `item_reference`) says so.
 */
const inputItemSchema = z.looseObject({ type: z.string().max(100).optional() });

const functionToolSchema = z.looseObject({
  type: z.string().max(100),
  name: z.string().optional(),
  description: z.string().max(100_000).nullable().optional(),
  parameters: z.record(z.string(), z.unknown()).nullable().optional(),
  strict: z.boolean().nullable().optional(),
});

const toolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.string().max(100), name: z.string().max(200).optional() }),
]);

const textFormatSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -'),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().max(100_000).optional(),
    strict: z.boolean().nullable().optional(),
  }),
]);

/**
 * `POST /v1/responses` as OpenAI documents it, the part Ensemble serves by translating to a chat
 * completion (responses-to-chat.ts). Other fields OpenAI clients send (`include`, `truncation`,
 * `max_tool_calls`, …) are accepted and ignored; those that need state Ensemble does not
 * keep are refused by the handler with a 400 naming them.
 */
export const responsesRequestSchema = z
  .looseObject({
    model: z.string().min(1).max(300),
    input: z.union([text, z.array(inputItemSchema).min(1).max(10_000)]),
    instructions: text.nullable().optional(),
    max_output_tokens: z.number().int().positive().nullable().optional(),
    temperature: z.number().min(0).max(2).nullable().optional(),
    top_p: z.number().min(0).max(1).nullable().optional(),
    stream: z.boolean().nullable().optional(),
    tools: z.array(functionToolSchema).max(128).nullable().optional(),
    tool_choice: toolChoiceSchema.nullable().optional(),
    parallel_tool_calls: z.boolean().nullable().optional(),
    text: z
      .looseObject({
        format: textFormatSchema.nullable().optional(),
        verbosity: z.string().max(20).nullable().optional(),
      })
      .nullable()
      .optional(),
    reasoning: z
      .looseObject({ effort: z.string().max(20).nullable().optional() })
      .nullable()
      .optional(),
    service_tier: z.string().max(50).nullable().optional(),
    safety_identifier: z.string().max(1_000).nullable().optional(),
    prompt_cache_key: z.string().max(1_000).nullable().optional(),
    user: z.string().max(1_000).nullable().optional(),
    metadata: z.record(z.string().max(64), z.string().max(512)).nullable().optional(),
    store: z.boolean().nullable().optional(),
    previous_response_id: z.string().max(1_000).nullable().optional(),
    conversation: z.unknown().optional(),
    background: z.boolean().nullable().optional(),
    prompt: z.unknown().optional(),
  })
  .meta({ id: 'ResponsesRequest' });

export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;
