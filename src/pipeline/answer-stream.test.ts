import { describe, expect, it } from 'vitest';
import { VoiceError } from '../errors.js';
import { FakeLlm, FakeTts } from '../testing/fake-engines.js';
import { streamAnswer, type AnswerEvent, type AnswerOptions } from './answer-stream.js';
import { SentenceCache } from './sentence-cache.js';
import { TurnTimeline } from './timing.js';

const options = (o: Partial<AnswerOptions>): AnswerOptions => ({
  llm: new FakeLlm(),
  tts: new FakeTts(),
  messages: [{ role: 'user', content: 'Bonjour' }],
  signal: new AbortController().signal,
  voice: 'fake',
  speed: 1,
  firstClauseMinChars: 40,
  firstTokenTimeoutMs: 1000,
  ttsTimeoutMs: 1000,
  ...o,
});

async function collect(stream: AsyncIterable<AnswerEvent>): Promise<AnswerEvent[]> {
  const events: AnswerEvent[] = [];
  for await (const e of stream) events.push(e);
  return events;
}

const SLOW_ANSWER = ['Il est midi. ', 'Il fait ', 'beau ', 'à ', 'Paris ', "aujourd'hui", '.'];

describe('streamAnswer', () => {
  it("a sentence's audio comes out while the LLM is still writing, then done comes last", async () => {
    const timeline = new TurnTimeline();
    const events = await collect(
      streamAnswer(options({ llm: new FakeLlm(() => ({ tokens: SLOW_ANSWER, tokenMs: 30 })), timeline })),
    );
    const types = events.map((e) => e.type);
    const firstAudio = types.indexOf('audio');
    const lastText = types.lastIndexOf('text');
    expect(firstAudio).toBeGreaterThan(0);
    expect(firstAudio).toBeLessThan(lastText);
    expect(types.at(-1)).toBe('done');
    const audio = events.filter((e) => e.type === 'audio').map((e) => e.text);
    expect(audio).toEqual(['Il est midi.', "Il fait beau à Paris aujourd'hui."]);
    const done = events.at(-1) as Extract<AnswerEvent, { type: 'done' }>;
    expect(done.text).toBe(SLOW_ANSWER.join(''));
    expect(done.finishReason).toBe('stop');
    const marks = timeline.toJSON().marks;
    for (const mark of ['first_llm_token', 'first_sentence', 'first_tts_chunk', 'llm_done'] as const)
      expect(marks[mark]).toBeTypeOf('number');
  });

  it('without a TTS the answer is text only', async () => {
    const events = await collect(streamAnswer(options({ tts: undefined })));
    expect(events.map((e) => e.type)).toEqual(['text', 'text', 'text', 'done']);
  });

  it('a cached sentence is not synthesized again', async () => {
    const tts = new FakeTts();
    const cache = new SentenceCache(8);
    await collect(streamAnswer(options({ tts, cache })));
    await collect(streamAnswer(options({ tts, cache })));
    expect(tts.calls).toEqual(['Bien sûr.']);
    expect([cache.hits, cache.misses]).toEqual([1, 1]);
  });

  it('a TTS failure ends the stream with that error and stops the LLM', async () => {
    const llm = new FakeLlm(() => ({ tokens: [...SLOW_ANSWER, ...SLOW_ANSWER], tokenMs: 30 }));
    const started = performance.now();
    const stream = streamAnswer(options({ llm, tts: new FakeTts(() => ({ fail: 'voice broke' })) }));
    await expect(collect(stream)).rejects.toThrow('voice broke');
    expect(performance.now() - started).toBeLessThan(300);
  });

  it('an LLM that never sends its first token times out', async () => {
    const llm = new FakeLlm(() => ({ hangAfter: 0 }));
    const error = await collect(streamAnswer(options({ llm, firstTokenTimeoutMs: 50 }))).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(VoiceError);
    expect((error as VoiceError).code).toBe('timeout');
  });

  it('an empty answer is an engine failure', async () => {
    const error = await collect(streamAnswer(options({ llm: new FakeLlm(() => ({ tokens: [' '] })) }))).catch(
      (e: unknown) => e,
    );
    expect((error as VoiceError).code).toBe('engine_failed');
  });

  it('leaving the loop early stops the LLM', async () => {
    const controller = new AbortController();
    const llm = new FakeLlm(() => ({ tokens: SLOW_ANSWER, tokenMs: 50 }));
    let llmDone = false;
    const chat = llm.chat.bind(llm);
    llm.chat = async function* (messages, opts) {
      for await (const e of chat(messages, opts)) {
        if (e.type === 'done') llmDone = e.finishReason === 'aborted';
        yield e;
      }
    };
    for await (const e of streamAnswer(options({ llm, signal: controller.signal })))
      if (e.type === 'text') break;
    await new Promise((r) => setTimeout(r, 120));
    expect(llmDone).toBe(true);
  });

  it('aborting the signal ends the stream with an aborted error', async () => {
    const controller = new AbortController();
    const llm = new FakeLlm(() => ({ tokens: SLOW_ANSWER, tokenMs: 50 }));
    setTimeout(() => controller.abort(new VoiceError('aborted', 'client left')), 80);
    const error = await collect(streamAnswer(options({ llm, signal: controller.signal }))).catch(
      (e: unknown) => e,
    );
    expect((error as VoiceError).code).toBe('aborted');
  });
});
