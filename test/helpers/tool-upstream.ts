/**
 * A small upstream speaking Azure OpenAI's chat completions shape (2024-10-21) that emits what the simulator does
 * not yet: tool calls, and JSON answers for `response_format: json_schema`. Deterministic:
 *  - tools offered and the last message is from the user → one call of the first tool, `{"city":"Paris"}`;
 *  - the last message is a tool result → "The tool said: <result>";
 *  - `response_format` json_schema → a JSON object with one sample value per required property;
 *  - otherwise "plain answer".
 * Every request body is kept in `requests`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ToolUpstream {
  url: string;
  requests: any[];
  close(): Promise<void>;
}

function sample(schema: any): unknown {
  switch (schema?.type) {
    case 'object':
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, sample(v)]));
    case 'array':
      return [sample(schema.items)];
    case 'number':
    case 'integer':
      return 7;
    case 'boolean':
      return true;
    default:
      return 'sample';
  }
}

export async function startToolUpstream(): Promise<ToolUpstream> {
  const requests: any[] = [];
  const server: Server = createServer(async (req, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    const body = JSON.parse(text || '{}');
    requests.push(body);
    const last = body.messages?.at(-1);
    let message: any;
    let finish = 'stop';
    if (body.tools?.length && last?.role === 'user') {
      message = {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_abc123',
            type: 'function',
            function: { name: body.tools[0].function.name, arguments: '{"city":"Paris"}' },
          },
        ],
      };
      finish = 'tool_calls';
    } else if (last?.role === 'tool') {
      message = { role: 'assistant', content: `The tool said: ${last.content}` };
    } else if (body.response_format?.type === 'json_schema') {
      message = { role: 'assistant', content: JSON.stringify(sample(body.response_format.json_schema.schema)) };
    } else {
      message = { role: 'assistant', content: 'plain answer' };
    }
    const base = { id: 'chatcmpl-tool', created: 1_700_000_000, model: 'gpt-4o-mini' };
    const usage = { prompt_tokens: 20, completion_tokens: 10, total_tokens: 30 };
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          ...base,
          object: 'chat.completion',
          choices: [{ index: 0, finish_reason: finish, message }],
          usage,
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = (delta: unknown, finish_reason: string | null = null) =>
      res.write(
        `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason }] })}\n\n`,
      );
    chunk({ role: 'assistant', content: '' });
    if (message.tool_calls) {
      const call = message.tool_calls[0];
      chunk({
        tool_calls: [
          { index: 0, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } },
        ],
      });
      for (const piece of ['{"city"', ':"Paris"}'])
        chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] });
    } else {
      for (const word of message.content.split(/(?<= )/)) chunk({ content: word });
    }
    chunk({}, finish);
    res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [], usage })}\n\n`);
    res.end('data: [DONE]\n\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
