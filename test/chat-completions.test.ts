import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { FakeLlm } from '../src/testing/fake-engines.js';
import { fakeRuntime } from '../src/testing/fake-runtime.js';
import { listenForTest } from './helpers.js';

/** `/v1/chat/completions` through the official openai client (scripted LLM: this is the wire format). */
const llm = new FakeLlm(() => ({ tokens: ['Il ', 'est ', 'midi.'] }));
let app: Awaited<ReturnType<typeof listenForTest>>['app'];
let openai: OpenAI;

beforeAll(async () => {
  const server = await listenForTest(loadConfig({ env: {} }), await fakeRuntime({ llm }));
  app = server.app;
  openai = new OpenAI({ apiKey: 'none', baseURL: `${server.base}/v1`, maxRetries: 0 });
});
afterAll(() => app?.close());

describe('POST /v1/chat/completions', () => {
  it('answers as JSON with usage, developer messages read as system ones', async () => {
    const done = await openai.chat.completions.create({
      model: 'anything',
      messages: [
        { role: 'developer', content: 'Réponds en français.' },
        { role: 'user', content: [{ type: 'text', text: 'Quelle heure est-il ?' }] },
      ],
      max_tokens: 20,
    });
    expect(done.object).toBe('chat.completion');
    expect(done.choices[0]!.message).toMatchObject({ role: 'assistant', content: 'Il est midi.' });
    expect(done.choices[0]!.finish_reason).toBe('stop');
    expect(done.usage).toBeDefined();
    expect(llm.calls.at(-1)).toEqual([
      { role: 'system', content: 'Réponds en français.' },
      { role: 'user', content: 'Quelle heure est-il ?' },
    ]);
  });

  it('streams chunks, then a usage chunk when asked', async () => {
    const stream = await openai.chat.completions.create({
      model: 'anything',
      messages: [{ role: 'user', content: 'Bonjour' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: unknown;
    const reasons: (string | null)[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]) reasons.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Il est midi.');
    expect(reasons.at(-1)).toBe('stop');
    expect(usage).toMatchObject({ total_tokens: expect.any(Number) as number });
  });

  it('bad input is a 400 with a catalogue code', async () => {
    const res = await fetch(`${openai.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
  });
});
