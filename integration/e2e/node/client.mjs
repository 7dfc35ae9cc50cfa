// Drives the OpenAI Node SDK the way an application would, for the e2e suite.
// Usage: node client.mjs <case>
// The SDK reads OPENAI_BASE_URL and OPENAI_API_KEY from the environment, as in
// any app pointed at a LiteLLM-compatible proxy. Prints one JSON object: what
// the caller got back, in the shape tests/cases.py summarizes Python calls:
// for chat, model, content per choice, tool calls, finish_reason, usage, chunk
// count; for the Responses API, the response, its text and the event count;
// or ok=false with the HTTP status.
import OpenAI from 'openai';

// No retries and a short timeout (set by the suite): a failing or hanging
// proxy shows as one failed call.
const client = new OpenAI({ maxRetries: 0, timeout: Number(process.env.E2E_CALL_TIMEOUT_MS ?? 30000) });

const cases = {
  // Same request as the chat-basic cassette.
  async chat() {
    const r = await client.chat.completions.create({
      model: 'gpt-5-nano',
      messages: [{ role: 'user', content: 'Hello!' }],
    });
    return summary(r);
  },
  // Same request as the chat-streaming cassette.
  async stream() {
    const s = await client.chat.completions.create({
      model: 'gpt-5-nano',
      messages: [{ role: 'user', content: 'Hello!' }],
      stream: true,
    });
    let content = null;
    let chunks = 0;
    let model = null;
    let finish_reason = null;
    let usage = null;
    for await (const c of s) {
      chunks++;
      model = c.model ?? model;
      usage = c.usage ? pickUsage(c.usage) : usage;
      const choice = c.choices[0];
      if (choice?.delta?.content != null) content = (content ?? '') + choice.delta.content;
      if (choice?.finish_reason) finish_reason = choice.finish_reason;
    }
    return { model, chunks, finish_reason, usage, content: content == null ? [] : [content], tool_calls: [] };
  },
  // Same request as the chat-tools cassette.
  async tools() {
    const r = await client.chat.completions.create({
      model: 'gpt-5-nano',
      messages: [{ role: 'user', content: 'What is the weather like in Boston today?' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_current_weather',
            description: 'Get the current weather in a given location',
            parameters: {
              type: 'object',
              properties: {
                location: { type: 'string', description: 'The city and state, e.g. San Francisco, CA' },
                unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
              },
              required: ['location'],
            },
          },
        },
      ],
      tool_choice: 'auto',
    });
    return summary(r);
  },
  // Same request as the oi-simple_input cassette (Responses API).
  async responses() {
    const r = await client.responses.create({
      model: 'gpt-4.1',
      input: 'Write a poem about a boy and his first pet dog.',
    });
    // output_text is the SDK's convenience, added to the object it returns;
    // the rest is the response as sent.
    const { output_text, ...response } = r;
    return { response, output_text };
  },
  // Same request as the oi-simple_input_stream cassette.
  async 'responses-stream'() {
    const s = await client.responses.create({
      model: 'gpt-4.1',
      input: 'Write a poem about a boy and his first pet dog.',
      stream: true,
    });
    let events = 0;
    let output_text = '';
    let response = null;
    for await (const e of s) {
      events++;
      if (e.type === 'response.output_text.delta') output_text += e.delta;
      if (e.type === 'response.completed') response = e.response;
    }
    return { events, output_text, response };
  },
};

function pickUsage(u) {
  return { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.total_tokens };
}

function summary(r) {
  return {
    model: r.model,
    usage: r.usage ? pickUsage(r.usage) : null,
    content: r.choices.map((c) => c.message.content),
    tool_calls: (r.choices[0].message.tool_calls ?? []).map((t) => ({
      id: t.id,
      name: t.function.name,
      arguments: t.function.arguments,
    })),
    finish_reason: r.choices[0].finish_reason,
  };
}

const name = process.argv[2];
if (!cases[name]) {
  console.error(`unknown case ${name}; known: ${Object.keys(cases).join(', ')}`);
  process.exit(2);
}
try {
  console.log(JSON.stringify({ ok: true, ...(await cases[name]()) }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, status: e.status ?? null, error: String(e.message ?? e) }));
}
