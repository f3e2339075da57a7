/**
 * Chat completion chunks → the Responses API event stream
 * (https://platform.openai.com/docs/api-reference/responses-streaming):
 * `event:` + `data:` lines, each with a rising `sequence_number`. Items open on their first delta and close in
 * output order at the end. Success ends with `response.completed` (or `.incomplete`) once the turn is stored; a
 * broken upstream or a failed store ends with `response.failed`, never a silent end.
 */
import { ApiError, toApiError } from '../errors.js';
import type { ChatCompletionChunk } from '../schemas/chat.js';
import type { OutputItem, ResponseObject } from '../schemas/responses.js';
import type { SseEvent, StreamAccounting } from '../services/model-stream.js';
import type { Usage } from '../schemas/common.js';

interface ToolCallDelta {
  index: number;
  id?: string;
  function?: { name?: string; arguments?: string };
}

export interface Finished {
  output: OutputItem[];
  usage: Usage;
  finishReason: string | null;
}

export interface ResponseStreamOptions {
  /** The response as it starts (no output, no usage). */
  skeleton: ResponseObject;
  messageId: (index: number) => string;
  callId: (index: number) => string;
  promptTokens: number;
  countTokens: (text: string) => number;
  /** Stores the finished turn and gives the final response object; a throw becomes `response.failed`. */
  finish: (finished: Finished) => Promise<ResponseObject>;
  accounting: StreamAccounting;
}

export async function* responseEvents(
  chunks: AsyncGenerator<ChatCompletionChunk, void, undefined>,
  o: ResponseStreamOptions,
): AsyncGenerator<SseEvent, void, undefined> {
  let sequence = 0;
  const event = (type: string, fields: Record<string, unknown>): SseEvent => ({
    event: type,
    data: { type, sequence_number: sequence++, ...fields },
  });
  const output: OutputItem[] = [];
  let text: { index: number; text: string } | undefined;
  const calls = new Map<number, { index: number; item: Extract<OutputItem, { type: 'function_call' }> }>();
  let upstreamUsage: Usage | undefined;
  let finishReason: string | null = null;
  let completed = false;
  /** What reached the caller so far, for the quota (text and call arguments count alike). */
  const delivered = () => [text?.text ?? '', ...[...calls.values()].map((c) => c.item.name + c.item.arguments)];
  const starting = { ...o.skeleton, status: 'in_progress' as const, output: [], usage: null };
  try {
    yield event('response.created', { response: starting });
    yield event('response.in_progress', { response: starting });
    try {
      for await (const chunk of chunks) {
        if (chunk.usage) upstreamUsage = chunk.usage;
        const choice = chunk.choices.find((c) => c.index === 0);
        if (!choice) continue;
        if (choice.finish_reason) finishReason = choice.finish_reason;
        const delta = choice.delta;
        if (delta.content) {
          if (!text) {
            text = { index: output.length, text: '' };
            const item: OutputItem = {
              id: o.messageId(output.length),
              type: 'message',
              status: 'in_progress',
              role: 'assistant',
              content: [],
            };
            output.push(item);
            yield event('response.output_item.added', { output_index: text.index, item });
            yield event('response.content_part.added', {
              item_id: item.id,
              output_index: text.index,
              content_index: 0,
              part: { type: 'output_text', text: '', annotations: [] },
            });
          }
          text.text += delta.content;
          yield event('response.output_text.delta', {
            item_id: output[text.index]!.id,
            output_index: text.index,
            content_index: 0,
            delta: delta.content,
            logprobs: [],
          });
        }
        for (const call of (delta.tool_calls ?? []) as ToolCallDelta[]) {
          let open = calls.get(call.index);
          if (!open) {
            const item = {
              id: o.callId(output.length),
              type: 'function_call' as const,
              status: 'in_progress' as const,
              call_id: call.id ?? `call_${output.length}`,
              name: call.function?.name ?? '',
              arguments: '',
            };
            open = { index: output.length, item };
            calls.set(call.index, open);
            output.push(item);
            yield event('response.output_item.added', { output_index: open.index, item: { ...item } });
          }
          const args = call.function?.arguments;
          if (args) {
            open.item.arguments += args;
            yield event('response.function_call_arguments.delta', {
              item_id: open.item.id,
              output_index: open.index,
              delta: args,
            });
          }
        }
      }
    } catch (error) {
      yield failed(event, o.skeleton, output, error);
      return;
    } finally {
      await chunks.return(undefined);
    }

    const status = finishReason === 'length' || finishReason === 'content_filter' ? 'incomplete' : 'completed';
    for (let index = 0; index < output.length; index++) {
      const item = output[index]!;
      if (item.type === 'message' && text) {
        const part = { type: 'output_text' as const, text: text.text, annotations: [] };
        yield event('response.output_text.done', {
          item_id: item.id,
          output_index: index,
          content_index: 0,
          text: text.text,
          logprobs: [],
        });
        yield event('response.content_part.done', { item_id: item.id, output_index: index, content_index: 0, part });
        output[index] = { ...item, status, content: [part] };
      } else if (item.type === 'function_call') {
        yield event('response.function_call_arguments.done', {
          item_id: item.id,
          output_index: index,
          name: item.name,
          arguments: item.arguments,
        });
        output[index] = { ...item, status };
      }
      yield event('response.output_item.done', { output_index: index, item: output[index] });
    }
    const answered =
      (text ? o.countTokens(text.text) : 0) +
      [...calls.values()].reduce((s, c) => s + o.countTokens(c.item.name + c.item.arguments), 0);
    const usage: Usage = upstreamUsage ?? {
      prompt_tokens: o.promptTokens,
      completion_tokens: answered,
      total_tokens: o.promptTokens + answered,
    };
    let final: ResponseObject;
    try {
      final = await o.finish({ output, usage, finishReason });
      completed = true;
      await o.accounting.onComplete?.(usage, delivered());
    } catch (error) {
      yield failed(event, o.skeleton, output, error);
      return;
    }
    yield event(final.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response: final });
  } finally {
    // A broken stream, a failed store, or a client that left: charged what was delivered, nothing stored.
    if (!completed) await o.accounting.onAbandon?.(delivered());
  }
}

function failed(
  event: (type: string, fields: Record<string, unknown>) => SseEvent,
  skeleton: ResponseObject,
  output: OutputItem[],
  error: unknown,
): SseEvent {
  const apiError = toApiError(
    error,
    new ApiError(500, 'server_error', 'The stream failed.', null, 'stream_interrupted'),
  );
  return event('response.failed', {
    response: {
      ...skeleton,
      status: 'failed',
      output,
      usage: null,
      error: { code: apiError.code ?? apiError.type, message: apiError.message },
    },
  });
}
