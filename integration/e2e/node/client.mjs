// Drives the OpenAI Node SDK the way an application would, for the e2e suite.
// Usage: node client.mjs <case>
// The SDK reads OPENAI_BASE_URL and OPENAI_API_KEY from the environment, as in
// any app pointed at a LiteLLM-compatible proxy. Prints one JSON object: what
// the caller got back (content, tool calls, chunk count, or the error status).
import OpenAI from 'openai';

const client = new OpenAI({ maxRetries: 0 });

const cases = {
  // Same request as the chat-basic cassette.
  async chat() {
    const r = await client.chat.completions.create({
      model: 'gpt-5-nano',
      messages: [{ role: 'user', content: 'Hello!' }],
    });
    return { content: r.choices[0].message.content, model: r.model, usage: r.usage };
  },
  // Same request as the chat-streaming cassette.
  async stream() {
    const s = await client.chat.completions.create({
      model: 'gpt-5-nano',
      messages: [{ role: 'user', content: 'Hello!' }],
      stream: true,
    });
    let content = '';
    let chunks = 0;
    for await (const c of s) {
      chunks++;
      content += c.choices[0]?.delta?.content ?? '';
    }
    return { content, chunks };
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
    const m = r.choices[0].message;
    return { tool_calls: m.tool_calls ?? [], finish_reason: r.choices[0].finish_reason };
  },
};

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
