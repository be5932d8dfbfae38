/**
 * The shapes `input` and `output` of POST /v1/check accept: what LLM clients actually send.
 * OpenAI Chat Completions messages, OpenAI Responses input items, Anthropic Messages, and the
 * model answers of each (docs/governance-api.md lists every shape and which parts are scanned).
 *
 * Rules: unknown extra fields are tolerated (clients add them: `cache_control`, `annotations`,
 * `id`, `status`…); a known field of the wrong type is refused; an unknown `role` or part `type`
 * is refused with the list of accepted ones. Unions are discriminated wherever the wire format
 * has a discriminator, so a validation error names the exact field (see schemas/issues.ts).
 */
import { z } from '@hono/zod-openapi';

export const MAX_CHAT_MESSAGES = 1000;
/** Content parts in one message (or blocks in one tool result). */
export const MAX_PARTS_PER_MESSAGE = 1000;

type Options = readonly [z.core.$ZodTypeDiscriminable, ...z.core.$ZodTypeDiscriminable[]];

/**
 * A discriminated union whose "no match" error says what is accepted:
 * `expected one of text, image_url, …` at the discriminator's pointer.
 */
function oneOf<const O extends Options>(key: string, options: O) {
  const schema: z.ZodDiscriminatedUnion<[...O]> = z.discriminatedUnion(key, [...options], {
    error: (issue) =>
      issue.code === 'invalid_union'
        ? `expected one of ${[...(schema._zod.propValues[key] ?? [])].join(', ')}`
        : undefined,
  });
  return schema;
}

const text = z.string();

// ---------------------------------------------------------------------------- content parts
// One vocabulary for every provider's parts/blocks, so a message may mix them as clients do.

const TextPart = z.looseObject({ type: z.literal('text'), text });
const InputTextPart = z.looseObject({ type: z.literal('input_text'), text });
const OutputTextPart = z.looseObject({ type: z.literal('output_text'), text });
const RefusalPart = z.looseObject({ type: z.literal('refusal'), refusal: text });
const ThinkingPart = z.looseObject({ type: z.literal('thinking'), thinking: text });

/** Parts that carry no text: accepted, not scanned, counted in `skipped_parts`. */
export const SKIPPED_PART_TYPES = [
  'image_url',
  'input_audio',
  'file',
  'input_image',
  'input_file',
  'image',
  'document',
  'redacted_thinking',
] as const;
const ImageUrlPart = z.looseObject({
  type: z.literal('image_url'),
  image_url: z.looseObject({ url: z.string() }),
});
const InputAudioPart = z.looseObject({
  type: z.literal('input_audio'),
  input_audio: z.looseObject({ data: z.string(), format: z.string() }),
});
const FilePart = z.looseObject({ type: z.literal('file'), file: z.looseObject({}) });
const InputImagePart = z.looseObject({ type: z.literal('input_image') });
const InputFilePart = z.looseObject({ type: z.literal('input_file') });
const ImageBlock = z.looseObject({ type: z.literal('image'), source: z.looseObject({}) });
const DocumentBlock = z.looseObject({ type: z.literal('document'), source: z.looseObject({}) });
const RedactedThinkingBlock = z.looseObject({ type: z.literal('redacted_thinking') });

/** Anthropic `tool_use.input`, a JSON object of any shape (its strings, keys and numbers are scanned). */
const ToolInput = z.record(z.string(), z.unknown()).openapi({
  description: 'Tool arguments as a JSON object; scanned as its compact JSON text.',
});

const ToolUseBlock = z.looseObject({
  type: z.literal('tool_use'),
  id: z.string(),
  name: z.string(),
  input: ToolInput,
});

/** What an Anthropic `tool_result` may contain. */
const ToolResultContentBlock = oneOf('type', [TextPart, ImageBlock, DocumentBlock]);
const ToolResultBlock = z.looseObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string(),
  content: z.union([text, z.array(ToolResultContentBlock).max(MAX_PARTS_PER_MESSAGE)]).optional(),
  is_error: z.boolean().optional(),
});

const PART_OPTIONS = [
  TextPart,
  InputTextPart,
  OutputTextPart,
  RefusalPart,
  ThinkingPart,
  ToolUseBlock,
  ToolResultBlock,
  ImageUrlPart,
  InputAudioPart,
  FilePart,
  InputImagePart,
  InputFilePart,
  ImageBlock,
  DocumentBlock,
  RedactedThinkingBlock,
] as const;

export const ContentPartSchema = oneOf('type', PART_OPTIONS).openapi('ContentPart', {
  description:
    'A content part or block (OpenAI Chat, OpenAI Responses, Anthropic). Text-bearing types are scanned; ' +
    `${SKIPPED_PART_TYPES.join(', ')} are skipped and counted.`,
  example: { type: 'text', text: 'Hva er været i Bergen?' },
});

const Content = z.union([text, z.array(ContentPartSchema).max(MAX_PARTS_PER_MESSAGE)]);

// -------------------------------------------------------------------------------- tool calls

const FunctionToolCall = z.looseObject({
  id: z.string(),
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string(),
    arguments: z.string().openapi({ description: 'JSON text; scanned, kept valid on redaction.' }),
  }),
});
const CustomToolCall = z.looseObject({
  id: z.string(),
  type: z.literal('custom'),
  custom: z.looseObject({ name: z.string(), input: z.string() }),
});
const ToolCall = oneOf('type', [FunctionToolCall, CustomToolCall]);

// ---------------------------------------------------------------------------------- messages

const common = { name: z.string().optional() };

/** Messages keyed by `role`; `type` is optional (`"message"`, as OpenAI Responses writes it). */
function messageOptions<T extends z.ZodType>(type: T) {
  return [
    z.looseObject({ type, role: z.literal('system'), content: Content, ...common }),
    z.looseObject({ type, role: z.literal('developer'), content: Content, ...common }),
    z.looseObject({ type, role: z.literal('user'), content: Content, ...common }),
    z.looseObject({
      type,
      role: z.literal('assistant'),
      content: Content.nullable().optional(),
      refusal: text.nullable().optional(),
      tool_calls: z.array(ToolCall).max(MAX_PARTS_PER_MESSAGE).optional(),
      function_call: z
        .looseObject({ name: z.string(), arguments: z.string() })
        .nullable()
        .optional(),
      ...common,
    }),
    z.looseObject({
      type,
      role: z.literal('tool'),
      content: Content,
      tool_call_id: z.string().optional(),
    }),
    z.looseObject({
      type,
      role: z.literal('function'),
      content: text.nullable(),
      name: z.string(),
    }),
  ] as const;
}

export const MessageSchema = oneOf('role', messageOptions(z.literal('message').optional())).openapi(
  'Message',
  {
    description:
      'A chat message: OpenAI Chat Completions (`system`, `developer`, `user`, `assistant`, `tool`, `function`; `name`, `tool_calls`, `tool_call_id`, `refusal`), an OpenAI Responses message, or an Anthropic message. `content` is a string or an array of content parts.',
    example: {
      role: 'user',
      content: [
        { type: 'text', text: 'Hva står på bildet?' },
        { type: 'image_url', image_url: { url: 'https://example.com/x.png' } },
      ],
    },
  },
);

// ----------------------------------------------------------------- OpenAI Responses items

const TypedMessage = oneOf('role', messageOptions(z.literal('message')));
const ResponsesOutput = z.union([text, z.array(ContentPartSchema).max(MAX_PARTS_PER_MESSAGE)]);

const ITEM_OPTIONS = [
  TypedMessage,
  z.looseObject({
    type: z.literal('function_call'),
    call_id: z.string(),
    name: z.string(),
    arguments: z.string(),
  }),
  z.looseObject({
    type: z.literal('function_call_output'),
    call_id: z.string(),
    output: ResponsesOutput,
  }),
  z.looseObject({
    type: z.literal('custom_tool_call'),
    call_id: z.string(),
    name: z.string(),
    input: z.string(),
  }),
  z.looseObject({
    type: z.literal('custom_tool_call_output'),
    call_id: z.string(),
    output: ResponsesOutput,
  }),
  z.looseObject({
    type: z.literal('reasoning'),
    summary: z.array(z.looseObject({ type: z.literal('summary_text'), text })),
    content: z.array(z.looseObject({ type: z.literal('reasoning_text'), text })).optional(),
  }),
  z.looseObject({ type: z.literal('item_reference'), id: z.string() }),
] as const;

export const ResponsesItemSchema = oneOf('type', ITEM_OPTIONS).openapi('ResponsesItem', {
  description:
    'An OpenAI Responses input item: `message`, `function_call` (its `arguments` scanned), `function_call_output`, `custom_tool_call(_output)`, `reasoning` (summary scanned), `item_reference`.',
  example: {
    type: 'function_call',
    call_id: 'call_1',
    name: 'lookup_customer',
    arguments: '{"email":"kari@example.no"}',
  },
});

/** One element of a chat `input` array: a message (has `role`) or a Responses item (has `type`). */
// z.lazy keeps the options as `$ref`s in the OpenAPI document (nested unions are otherwise inlined).
export const InputItemSchema = z.union([
  z.lazy(() => MessageSchema),
  z.lazy(() => ResponsesItemSchema),
]);

export const InputSchema = z
  .union([text, z.array(InputItemSchema).min(1).max(MAX_CHAT_MESSAGES)])
  .openapi('CheckInput', {
    description:
      'The prompt: a string, or an array of messages / items as the client sends them to the model (OpenAI Chat Completions `messages`, OpenAI Responses `input`, Anthropic `messages`).',
    example: [
      { role: 'developer', content: 'Answer briefly.' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'lookup', arguments: '{"fnr":"01010012356"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: 'Kari Nordmann, Bergen' },
    ],
  });

// ------------------------------------------------------------------------------------ output

/** An OpenAI Chat Completions choice (`choices[i]`). */
const ChoiceSchema = z
  .looseObject({ index: z.number().int().optional(), message: MessageSchema })
  .openapi('Choice', {
    description: 'An OpenAI Chat Completions choice (`choices[i]`); its `message` is checked.',
    example: {
      index: 0,
      message: { role: 'assistant', content: 'Ring meg på 912 34 567.', refusal: null },
      finish_reason: 'stop',
    },
  });

/** An element of an `output` array: a choice, an Anthropic content block, or a Responses item. */
const OutputBlockSchema = oneOf('type', [...PART_OPTIONS, ...ITEM_OPTIONS]).openapi('OutputBlock', {
  description:
    'An Anthropic content block of a response (`text`, `tool_use`, `thinking`, …) or an OpenAI Responses output item (`message`, `function_call`, `reasoning`, …).',
  example: { type: 'tool_use', id: 'toolu_1', name: 'send_mail', input: { to: 'kari@example.no' } },
});
export const OutputEntrySchema = z.union([ChoiceSchema, z.lazy(() => OutputBlockSchema)]);

export const OutputSchema = z
  .union([
    text,
    z.lazy(() => MessageSchema),
    z.array(OutputEntrySchema).min(1).max(MAX_CHAT_MESSAGES),
  ])
  .openapi('CheckOutput', {
    description:
      "A model's answer: a string, an assistant message, an OpenAI `choices` array, an Anthropic `content` block array, or an OpenAI Responses `output` item array.",
    example: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Kundens e-post er kari@example.no.' },
        finish_reason: 'stop',
      },
    ],
  });

export type CheckInput = z.infer<typeof InputSchema>;
export type CheckOutput = z.infer<typeof OutputSchema>;
