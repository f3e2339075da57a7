/**
 * Writes docs/examples.md: the seed's prompt patterns (src/playground/presets.ts) as curl and as `openai`-client
 * code, each followed by what that exact code printed against this API in front of the Azure OpenAI simulator.
 * Run: `npx tsx scripts/examples-doc.ts` (starts its own simulator, Azurite-free app and ports; leaves nothing
 * running).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promptPresets, type PromptPreset } from '../src/playground/presets.js';
import { startStack } from '../test/helpers/stack.js';

const root = new URL('..', import.meta.url).pathname;
const execFileAsync = promisify(execFile);
const DOC_HOST = 'http://127.0.0.1:7071/api';

const intro: Record<string, string> = {
  generation: `The seed's first pattern: say what you want, show one finished item so the model sees the format
(a short line, not an essay), and end the prompt with \`2. \` so the natural continuation is the next item.`,
  dialogue: `A completion model continues a dialogue when the prompt sets the scene and shows a few turns. Left alone it
would go on to write the user's next line too; \`stop: ["Doctor:"]\` ends the answer just before that label (the
stop text itself is not returned, and \`finish_reason\` is \`stop\` when it was hit). The seed does this with its own
speaker label, \`stop: "博士："\`.`,
  classification: `Few-shot classification: a handful of labelled examples teach the labels and the format, and the
model labels the last, unlabelled review. \`temperature: 0\` makes the answer repeatable and \`stop: ["\\n"]\`
with a small \`max_tokens\` keeps it to one label.`,
};

/** The curl command as printed in the doc (and run, with the doc's host swapped for the test stack's). */
function curlCommand(preset: PromptPreset, host: string): string {
  const path = preset.mode === 'chat' ? 'chat/completions' : 'completions';
  return `curl -s ${host}/v1/${path} -H 'content-type: application/json' -d @- <<'JSON'\n${JSON.stringify(preset.body, null, 2)}\nJSON`;
}

/** Node code with the `openai` client: the dialogue streams, to show `stream: true`; the others print the text. */
function clientCode(preset: PromptPreset, host: string): string {
  const args = JSON.stringify(preset.body, null, 2);
  const head = `import OpenAI from 'openai';\n\n// Any apiKey: this API authenticates callers its own way and never forwards the key.\nconst client = new OpenAI({ baseURL: '${host}/v1', apiKey: 'unused' });\n\n`;
  if (preset.id === 'dialogue') {
    return `${head}const stream = await client.completions.create({\n  ...${args.replace(/\n/g, '\n  ')},\n  stream: true,\n  stream_options: { include_usage: true },\n});\nfor await (const chunk of stream) {\n  if (chunk.choices[0]?.text) process.stdout.write(chunk.choices[0].text);\n  if (chunk.choices[0]?.finish_reason) console.log(\`\\n[finish_reason: \${chunk.choices[0].finish_reason}]\`);\n  if (chunk.usage) console.log(\`[usage: \${JSON.stringify(chunk.usage)}]\`);\n}\n`;
  }
  return `${head}const completion = await client.completions.create(${args});\nconsole.log(completion.choices[0].text);\nconsole.log(\`[finish_reason: \${completion.choices[0].finish_reason}] [usage: \${JSON.stringify(completion.usage)}]\`);\n`;
}

// Asynchronous: the simulator runs in this process and must keep answering while the command waits.
async function run(command: string, args: string[]): Promise<string> {
  return (await execFileAsync(command, args, { cwd: root, encoding: 'utf8', timeout: 60_000 })).stdout;
}

const stack = await startStack({ name: 'examples-doc', simulator: true });
try {
  const sections: string[] = [];
  for (const [i, preset] of promptPresets.entries()) {
    const curlOutput = JSON.stringify(JSON.parse(await run('bash', ['-c', curlCommand(preset, stack.url)])), null, 2);
    // In the repository root so `import 'openai'` resolves from node_modules.
    const script = join(root, `.examples-${preset.id}.mjs`);
    writeFileSync(script, clientCode(preset, stack.url));
    let clientOutput: string;
    try {
      clientOutput = await run(process.execPath, [script]);
    } finally {
      rmSync(script, { force: true });
    }
    sections.push(`## ${i + 1}. ${preset.title}

${intro[preset.id] ?? preset.description}

Playground: the **${preset.title.split(':')[0]}** preset.

### curl

\`\`\`bash
${curlCommand(preset, DOC_HOST)}
\`\`\`

Simulated output (the Azure OpenAI simulator behind this API, not a real model):

\`\`\`json
${curlOutput}
\`\`\`

### \`openai\` client (Node)

\`\`\`js
${clientCode(preset, DOC_HOST).trimEnd()}
\`\`\`

Simulated output:

\`\`\`text
${clientOutput.trimEnd()}
\`\`\`
`);
  }
  const doc = `# Examples: the seed's prompt patterns through this API

The seed tutorial's "提示技巧" (prompt techniques) section shows three patterns with a completion model: generation led
in by a numbered list, a dialogue held in check by a \`stop\` sequence, and few-shot classification of reviews. Here they
are as requests to this API — the same bodies are the presets of the [playground](../README.md#playground-and-openapi)
(\`GET /api/playground\`) and are checked against the [OpenAPI document](../README.md#playground-and-openapi) by
\`test/openapi.test.ts\`.

Every output below is **simulated output**: it was produced by running the code shown against this API locally
(\`npm start\` without an Azure endpoint uses the Azure OpenAI simulator in \`dev/simulator/\`). The simulator's text
is deterministic at \`temperature: 0\` but is not a real model's answer; ids and timestamps differ per run. Against a
real deployment, point \`AZURE_OPENAI_ENDPOINT\` at it and expect real answers in the same shapes.

The defaults apply when \`model\` is omitted: \`gpt-35-turbo-instruct\` for completions, \`gpt-4o-mini\` for chat.
Regenerate this file with \`npx tsx scripts/examples-doc.ts\`.

${sections.join('\n')}`;
  writeFileSync(join(root, 'docs/examples.md'), doc);
  console.log(`wrote docs/examples.md (${promptPresets.length} patterns)`);
} finally {
  await stack.stop();
}
