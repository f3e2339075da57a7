// The playground page's script: plain DOM, no framework, no build step. Served from the API's own origin.
const $ = (id) => document.getElementById(id);
const api = document.querySelector('meta[name="api-base"]').content;
const base = document.querySelector('meta[name="playground-base"]').content;

const DEFAULT_MODEL = { chat: 'gpt-4o-mini', completion: 'gpt-35-turbo-instruct' };

const state = {
  mode: 'chat',
  /** Stateless chat: the turns so far, client-side. */
  transcript: [],
  /** An open server-side conversation: {id, title, system}. */
  conversation: null,
  /** Responses API mode: the last stored response, which the next turn names as previous_response_id. */
  lastResponseId: null,
  controller: null,
  presets: [],
};

// ---------------------------------------------------------------- HTTP

function headers(json = true) {
  const h = {};
  if (json) h['content-type'] = 'application/json';
  const user = $('user-id').value.trim();
  if (user) h['x-ms-client-principal-id'] = user;
  return h;
}

async function errorMessage(response) {
  const id = response.headers.get('x-request-id');
  const quote = id ? ` (request id ${id})` : '';
  try {
    const body = await response.json();
    if (body?.error?.message) return `${response.status}: ${body.error.message}${quote}`;
  } catch {
    // Not JSON: fall through to the status line.
  }
  return `${response.status} ${response.statusText}${quote}`;
}

/** The last request as code for a browser app, with this page's API address and user. */
function showAppCode(path, body, user) {
  const base = `${location.origin}${api}`;
  const json = JSON.stringify(body, null, 2).replace(/\n/g, '\n  ');
  const local = user ? `{ 'x-ms-client-principal-id': ${JSON.stringify(user)} }` : '{}';
  $('code-fetch').textContent = [
    `const local = ${local}; // locally only: in Azure, Easy Auth names the user`,
    `const response = await fetch('${base}${path}', {`,
    `  method: 'POST',`,
    `  headers: { 'content-type': 'application/json', ...local },`,
    `  body: JSON.stringify(${json}),`,
    `  // credentials: 'include', // in Azure: send the Easy Auth session cookie`,
    `});`,
    `if (!response.ok) throw new Error(\`\${response.status} \${response.headers.get('x-request-id')}\`);`,
    body.stream
      ? `// text/event-stream: read response.body; each "data: {…}" line is a chunk, "data: [DONE]" ends it`
      : `console.log(await response.json());`,
  ].join('\n');
  const { model, stream, stream_options: _options, ...rest } = body;
  const method = path === '/completions' ? 'completions.create' : 'chat.completions.create';
  $('code-openai').textContent = path.startsWith('/conversations')
    ? "// Conversations are this API's own routes: call them with fetch (above)."
    : [
        `import OpenAI from 'openai';`,
        `// No Azure key in the browser: the API holds the credentials; apiKey is a placeholder locally.`,
        `const client = new OpenAI({ baseURL: '${base}', apiKey: 'unused', dangerouslyAllowBrowser: true,`,
        `  defaultHeaders: ${local} });`,
        `const answer = await client.${method}(${JSON.stringify({ model, ...rest, ...(stream ? { stream } : {}) }, null, 2)});`,
        stream
          ? `for await (const chunk of answer) console.log(chunk.choices[0]);`
          : `console.log(answer.choices[0], answer._request_id);`,
      ].join('\n');
  const prompt =
    path === '/completions'
      ? `prompt: ${JSON.stringify(body.prompt)}`
      : `messages: ${JSON.stringify(body.messages ?? [{ role: 'user', content: body.content }])}`;
  $('code-ai-sdk').textContent = path.startsWith('/conversations')
    ? "// Conversations are this API's own routes: call them with fetch (above)."
    : [
        `import { createOpenAI } from '@ai-sdk/openai';`,
        `import { streamText } from 'ai';`,
        `const provider = createOpenAI({ baseURL: '${base}', apiKey: 'unused', headers: ${local} });`,
        `const { textStream } = streamText({ model: provider.${path === '/completions' ? 'completion' : 'chat'}(${JSON.stringify(model ?? 'gpt-4o-mini')}), ${prompt} });`,
        `for await (const text of textStream) console.log(text);`,
      ].join('\n');
}

async function call(method, path, body, signal) {
  const response = await fetch(`${api}${path}`, {
    method,
    headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  if (!response.ok) throw new Error(await errorMessage(response));
  return response.status === 204 ? null : response.json();
}

/** Server-Sent Events from a fetch body: yields {event, data} per event, as the bytes arrive. */
async function* readEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer = (buffer + value).replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = text;
        else if (field === 'data') data.push(text);
      }
      if (data.length) yield { event, data: data.join('\n') };
    }
  }
}

// ---------------------------------------------------------------- form values

function numberValue(id) {
  const v = $(id).value.trim();
  return v === '' ? undefined : Number(v);
}

function parameters() {
  const stop = $('stop')
    .value.split('\n')
    .map((s) => s.replace(/\\n/g, '\n'))
    .filter((s) => s.length > 0);
  const p = {
    temperature: numberValue('temperature'),
    top_p: numberValue('top_p'),
    max_tokens: numberValue('max_tokens'),
    presence_penalty: numberValue('presence_penalty'),
    frequency_penalty: numberValue('frequency_penalty'),
  };
  if (stop.length) p.stop = stop;
  for (const key of Object.keys(p)) if (p[key] === undefined || Number.isNaN(p[key])) delete p[key];
  return p;
}

const model = () => $('model').value.trim() || undefined;

/** The messages a stateless chat would send now, including the message being typed. */
function chatMessages(includePending = true) {
  const messages = [];
  const system = $('system').value.trim();
  if (system) messages.push({ role: 'system', content: system });
  messages.push(...state.transcript);
  const pending = $('user-message').value;
  if (includePending && pending.trim()) messages.push({ role: 'user', content: pending });
  return messages;
}

// ---------------------------------------------------------------- rendering

function bubble(role, content) {
  const item = document.createElement('div');
  item.className = `message ${role}`;
  item.dataset.role = role;
  const who = document.createElement('span');
  who.className = 'who';
  who.textContent = role;
  const text = document.createElement('div');
  text.className = 'text';
  text.textContent = content;
  item.append(who, text);
  return item;
}

function renderAnswer() {
  const answer = $('answer');
  answer.replaceChildren();
  if (state.mode === 'chat') {
    for (const m of state.transcript) answer.append(bubble(m.role, m.content));
  }
}

function setMode(mode) {
  if (state.mode === mode) return;
  const previous = state.mode;
  state.mode = mode;
  for (const radio of document.querySelectorAll('input[name="mode"]')) radio.checked = radio.value === mode;
  $('chat-fields').hidden = mode !== 'chat';
  $('completion-fields').hidden = mode !== 'completion';
  if ($('model').value === DEFAULT_MODEL[previous]) $('model').value = DEFAULT_MODEL[mode];
  if (mode === 'completion' && state.conversation) leaveConversation();
  renderAnswer();
  scheduleCount();
}

function showError(message) {
  $('error').textContent = message ?? '';
}

function showUsage(usage, finishReason, seconds) {
  const parts = [];
  if (usage)
    parts.push(
      `prompt ${usage.prompt_tokens} · completion ${usage.completion_tokens} · total ${usage.total_tokens} tokens`,
    );
  if (finishReason) parts.push(`finish: ${finishReason}`);
  parts.push(`${seconds.toFixed(2)} s`);
  $('usage').textContent = `Usage: ${parts.join(' · ')}`;
  $('usage').dataset.promptTokens = usage ? String(usage.prompt_tokens) : '';
  $('usage').dataset.completionTokens = usage ? String(usage.completion_tokens) : '';
}

// ---------------------------------------------------------------- live token count

let countTimer;
let countSeq = 0;
function scheduleCount() {
  clearTimeout(countTimer);
  countTimer = setTimeout(countTokens, 250);
}

async function countTokens() {
  const seq = ++countSeq;
  const out = $('token-count');
  let body;
  if (state.mode === 'completion') {
    body = { text: $('prompt').value, count_only: true };
  } else {
    const messages = chatMessages();
    if (!messages.length) {
      out.textContent = 'Prompt: 0 tokens';
      out.dataset.count = '0';
      return;
    }
    body = { messages };
  }
  if (model()) body.model = model();
  try {
    const result = await call('POST', '/tokenize', body);
    if (seq !== countSeq) return;
    out.textContent = `Prompt: ${result.count} tokens (${result.encoding})`;
    out.dataset.count = String(result.count);
  } catch (error) {
    if (seq !== countSeq) return;
    out.textContent = `Prompt: token count unavailable (${error.message})`;
    delete out.dataset.count;
  }
}

// ---------------------------------------------------------------- sending

function setBusy(busy) {
  $('send').disabled = busy;
  $('stop-button').disabled = !busy;
  $('answer').setAttribute('aria-busy', String(busy));
}

/** Streams or fetches one answer; `append(text)` receives its text as it arrives. Returns {usage, finishReason}. */
async function exchange(path, body, append, signal) {
  // As curl, so what the page did can be repeated from a terminal.
  const quoted = JSON.stringify(body, null, 2).replace(/'/g, "'\\''");
  const user = headers()['x-ms-client-principal-id'];
  $('request-preview').textContent =
    `curl -sN ${location.origin}${api}${path} -H 'content-type: application/json'` +
    (user && (path.startsWith('/conversations') || path === '/responses')
      ? ` -H 'x-ms-client-principal-id: ${user.replace(/'/g, "'\\''")}'`
      : '') +
    ` -d '${quoted}'`;
  showAppCode(path, body, user);
  $('request-id').textContent = '';
  const response = await fetch(`${api}${path}`, {
    method: 'POST',
    headers: headers(),
    body: JSON.stringify(body),
    signal,
  });
  const requestId = response.headers.get('x-request-id');
  if (requestId) $('request-id').textContent = `x-request-id: ${requestId}`;
  if (!response.ok) throw new Error(await errorMessage(response));
  if (path === '/responses') return responsesExchange(response, body, append);
  if (!body.stream) {
    const result = await response.json();
    const choice = result.choices?.[0];
    append(choice?.message?.content ?? choice?.text ?? result.message?.content ?? '');
    return { usage: result.usage, finishReason: choice?.finish_reason ?? result.finish_reason };
  }
  let usage;
  let finishReason;
  for await (const { event, data } of readEvents(response)) {
    if (data === '[DONE]') break;
    const chunk = JSON.parse(data);
    if (event === 'error') throw new Error(chunk?.error?.message ?? 'The stream failed.');
    const choice = chunk.choices?.[0];
    const text = choice?.delta?.content ?? choice?.text ?? chunk.delta?.content ?? '';
    if (text) append(text);
    if (choice?.finish_reason) finishReason = choice.finish_reason;
    if (chunk.finish_reason) finishReason = chunk.finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  return { usage, finishReason };
}

/** The Responses API's answer (JSON or its event stream): text, usage in chat terms, and the response id. */
async function responsesExchange(response, body, append) {
  const usageOf = (u) =>
    u && { prompt_tokens: u.input_tokens, completion_tokens: u.output_tokens, total_tokens: u.total_tokens };
  const finished = (result) => {
    state.lastResponseId = body.store === false ? null : result.id;
    return {
      usage: usageOf(result.usage),
      finishReason: result.incomplete_details?.reason ?? (result.status === 'completed' ? 'stop' : result.status),
    };
  };
  if (!body.stream) {
    const result = await response.json();
    const text = (result.output ?? [])
      .flatMap((item) => (item.type === 'message' ? item.content : []))
      .map((part) => part.text ?? part.refusal ?? '')
      .join('');
    append(text);
    return finished(result);
  }
  for await (const { data } of readEvents(response)) {
    const event = JSON.parse(data);
    if (event.type === 'response.output_text.delta') append(event.delta);
    else if (event.type === 'response.completed' || event.type === 'response.incomplete')
      return finished(event.response);
    else if (event.type === 'response.failed')
      throw new Error(event.response?.error?.message ?? 'The response failed.');
  }
  throw new Error('The stream ended before the response completed.');
}

async function send() {
  if (state.controller) return;
  showError('');
  $('usage').textContent = '';
  const stream = $('stream').checked;
  const streamFields = stream ? { stream: true, stream_options: { include_usage: true } } : {};
  let path;
  let body;
  let target;
  let userTurn;
  if (state.mode === 'completion') {
    const prompt = $('prompt').value;
    if (!prompt) return showError('Write a prompt first.');
    path = '/completions';
    body = { ...(model() ? { model: model() } : {}), prompt, ...parameters(), ...streamFields };
    $('answer').replaceChildren();
    target = document.createElement('pre');
    target.className = 'completion';
    $('answer').append(target);
  } else {
    const content = $('user-message').value;
    if (!content.trim()) return showError('Write a message first.');
    userTurn = { role: 'user', content };
    if ($('responses-api').checked) {
      path = '/responses';
      const p = parameters();
      const system = $('system').value.trim();
      body = {
        ...(model() ? { model: model() } : {}),
        input: content,
        ...(state.conversation ? { conversation: state.conversation.id } : {}),
        ...(!state.conversation && state.lastResponseId ? { previous_response_id: state.lastResponseId } : {}),
        ...(system && !state.conversation ? { instructions: system } : {}),
        ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
        ...(p.top_p !== undefined ? { top_p: p.top_p } : {}),
        ...(p.max_tokens !== undefined ? { max_output_tokens: p.max_tokens } : {}),
        truncation: 'auto',
        ...(stream ? { stream: true } : {}),
      };
    } else if (state.conversation) {
      path = `/conversations/${encodeURIComponent(state.conversation.id)}/messages`;
      body = { content, ...parameters(), ...streamFields };
    } else {
      path = '/chat/completions';
      body = { ...(model() ? { model: model() } : {}), messages: chatMessages(), ...parameters(), ...streamFields };
    }
    $('answer').append(bubble('user', content));
    const reply = bubble('assistant', '');
    reply.classList.add('streaming');
    $('answer').append(reply);
    target = reply.querySelector('.text');
  }
  const controller = new AbortController();
  state.controller = controller;
  setBusy(true);
  const started = performance.now();
  let text = '';
  try {
    const { usage, finishReason } = await exchange(
      path,
      body,
      (piece) => {
        text += piece;
        target.textContent = text;
        target.scrollIntoView({ block: 'nearest' });
      },
      controller.signal,
    );
    showUsage(usage, finishReason, (performance.now() - started) / 1000);
    if (userTurn) {
      state.transcript.push(userTurn, { role: 'assistant', content: text });
      $('user-message').value = '';
    }
  } catch (error) {
    if (error.name === 'AbortError') {
      target.textContent = `${text} [stopped]`;
      if (userTurn) state.transcript.push(userTurn, { role: 'assistant', content: text });
    } else {
      showError(error.message);
      if (userTurn) target.closest('.message')?.classList.add('failed');
    }
  } finally {
    target.closest('.message')?.classList.remove('streaming');
    state.controller = null;
    setBusy(false);
    scheduleCount();
    if (state.conversation) refreshConversations();
  }
}

// ---------------------------------------------------------------- conversations

function renderConversations(list) {
  const ul = $('conversations');
  ul.replaceChildren();
  for (const c of list) {
    const li = document.createElement('li');
    if (state.conversation?.id === c.id) li.className = 'current';
    const open = document.createElement('button');
    open.type = 'button';
    open.className = 'link';
    open.textContent = c.title || c.id;
    open.title = `Open ${c.title || c.id}`;
    open.addEventListener('click', () => openConversation(c));
    const del = document.createElement('button');
    del.type = 'button';
    del.className = 'danger small';
    del.textContent = 'Delete';
    del.setAttribute('aria-label', `Delete conversation ${c.title || c.id}`);
    del.addEventListener('click', () => deleteConversation(c));
    li.append(open, del);
    ul.append(li);
  }
}

async function refreshConversations() {
  const status = $('conversations-status');
  try {
    const list = await call('GET', '/conversations?limit=50');
    renderConversations(list.data ?? []);
    status.textContent = list.data?.length ? '' : 'No conversations yet.';
  } catch (error) {
    renderConversations([]);
    status.textContent = `Conversations unavailable: ${error.message}`;
  }
}

function enterConversation(conversation, messages) {
  state.conversation = conversation;
  state.conversationUser = $('user-id').value.trim();
  state.transcript = messages;
  setMode('chat');
  $('conversation-banner').hidden = false;
  $('conversation-title').textContent = conversation.title || conversation.id;
  $('system').value = conversation.system ?? '';
  $('system').readOnly = true;
  renderAnswer();
  scheduleCount();
}

function leaveConversation() {
  state.lastResponseId = null;
  state.conversation = null;
  state.transcript = [];
  $('conversation-banner').hidden = true;
  $('system').readOnly = false;
  renderAnswer();
  return refreshConversations();
}

async function openConversation(c) {
  showError('');
  try {
    const [meta, page] = await Promise.all([
      call('GET', `/conversations/${encodeURIComponent(c.id)}`),
      call('GET', `/conversations/${encodeURIComponent(c.id)}/messages?order=asc&limit=100`),
    ]);
    const messages = (page.data ?? [])
      .filter((m) => m.role === 'user' || m.role === 'assistant')
      .map((m) => ({ role: m.role, content: typeof m.content === 'string' ? m.content : JSON.stringify(m.content) }));
    enterConversation(meta, messages);
    refreshConversations();
    $('user-message').focus();
  } catch (error) {
    showError(`Could not open the conversation: ${error.message}`);
  }
}

async function newConversation() {
  showError('');
  const first = $('user-message').value.trim();
  const body = { title: first ? first.slice(0, 60) : `Playground ${new Date().toLocaleString()}` };
  const system = $('system').readOnly ? '' : $('system').value.trim();
  if (system) body.system = system;
  if (model()) body.model = model();
  try {
    const created = await call('POST', '/conversations', body);
    enterConversation(created, []);
    refreshConversations();
    $('user-message').focus();
  } catch (error) {
    showError(`Could not create a conversation: ${error.message}`);
  }
}

async function deleteConversation(c) {
  showError('');
  try {
    await call('DELETE', `/conversations/${encodeURIComponent(c.id)}`);
    // Wait for the refreshed list, so its status line does not overwrite this one.
    await (state.conversation?.id === c.id ? leaveConversation() : refreshConversations());
    $('conversations-status').textContent = `Deleted “${c.title || c.id}”.`;
  } catch (error) {
    showError(`Could not delete the conversation: ${error.message}`);
  }
}

// ---------------------------------------------------------------- presets

function applyPreset(preset) {
  if (state.conversation) leaveConversation();
  setMode(preset.mode);
  const b = preset.body;
  if (b.model) $('model').value = b.model;
  if (preset.mode === 'completion') $('prompt').value = b.prompt ?? '';
  else {
    state.transcript = [];
    const system = b.messages?.find((m) => m.role === 'system');
    $('system').value = system?.content ?? '';
    const users = b.messages?.filter((m) => m.role !== 'system') ?? [];
    const last = users.pop();
    state.transcript = users;
    $('user-message').value = last?.content ?? '';
  }
  const set = (id, value, fallback) => {
    $(id).value = String(value ?? fallback);
    $(id).dispatchEvent(new Event('input'));
  };
  set('temperature', b.temperature, 1);
  set('top_p', b.top_p, 1);
  set('max_tokens', b.max_tokens, 256);
  set('presence_penalty', b.presence_penalty, 0);
  set('frequency_penalty', b.frequency_penalty, 0);
  $('stop').value = (b.stop ?? []).map((s) => s.replace(/\n/g, '\\n')).join('\n');
  renderAnswer();
  $('usage').textContent = '';
  showError('');
  scheduleCount();
  (preset.mode === 'completion' ? $('prompt') : $('user-message')).focus();
}

async function loadPresets() {
  try {
    const response = await fetch(`${base}/presets.json`);
    state.presets = await response.json();
  } catch {
    state.presets = [];
  }
  const ul = $('presets');
  for (const preset of state.presets) {
    const li = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'preset';
    button.dataset.preset = preset.id;
    const title = document.createElement('strong');
    title.textContent = preset.title;
    const description = document.createElement('span');
    // `code` spans in the description become <code>; everything stays text (no HTML from data).
    preset.description.split('`').forEach((part, i) => {
      if (i % 2 === 0) description.append(part);
      else {
        const code = document.createElement('code');
        code.textContent = part;
        description.append(code);
      }
    });
    button.append(title, description);
    button.addEventListener('click', () => applyPreset(preset));
    li.append(button);
    ul.append(li);
  }
}

// ---------------------------------------------------------------- wiring

for (const id of ['temperature', 'top_p', 'presence_penalty', 'frequency_penalty']) {
  $(id).addEventListener('input', () => ($(`${id}-value`).value = $(id).value));
}
for (const radio of document.querySelectorAll('input[name="mode"]'))
  radio.addEventListener('change', () => setMode(radio.value));
for (const id of ['prompt', 'system', 'user-message', 'model']) $(id).addEventListener('input', scheduleCount);
$('form').addEventListener('submit', (event) => {
  event.preventDefault();
  send();
});
document.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    send();
  }
});
$('stop-button').addEventListener('click', () => state.controller?.abort());
$('clear').addEventListener('click', () => {
  if (!state.conversation) state.transcript = [];
  state.lastResponseId = null;
  renderAnswer();
  $('usage').textContent = '';
  showError('');
  scheduleCount();
});
$('new-conversation').addEventListener('click', newConversation);
$('refresh-conversations').addEventListener('click', refreshConversations);
$('leave-conversation').addEventListener('click', leaveConversation);
let userTimer;
$('user-id').addEventListener('input', () => {
  clearTimeout(userTimer);
  userTimer = setTimeout(() => {
    // A conversation belongs to the user who opened it: leave it only if the user id now names someone else.
    if (state.conversation && state.conversationUser !== $('user-id').value.trim()) leaveConversation();
    else refreshConversations();
  }, 400);
});

loadPresets();
refreshConversations();
scheduleCount();
document.documentElement.dataset.ready = 'true';
