import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { silentLogger } from '../log.js';
import type { Dialect, ServerEvent } from '../protocol/server-events.js';
import type { FallbackMetrics } from './metrics.js';
import { parseUpstreamEvent, type UpstreamHandlers, type UpstreamLink } from './upstream-client.js';
import { UpstreamSession } from './upstream-session.js';

/**
 * The relay's reading of events this server never sends itself: a GA turn as OpenAI's API
 * reference documents its events (test/fixtures/openai-realtime-ga-turn.jsonl: item added/done,
 * rate limits, transcription deltas with usage, usage in response.done), fed to a session as if
 * the upstream had sent it.
 */
const turn = readFileSync(
  new URL('../../test/fixtures/openai-realtime-ga-turn.jsonl', import.meta.url),
  'utf8',
)
  .trim()
  .split('\n');

async function relay(dialect: Dialect, sessionUpdate?: object) {
  const config = loadConfig({ env: {}, overrides: { fallback: { realtime: { apiKey: 'k' } } } });
  const toClient: ServerEvent[] = [];
  const binary: Uint8Array[] = [];
  const toUpstream: { type: string; [k: string]: unknown }[] = [];
  const usage: unknown[] = [];
  let handlers!: UpstreamHandlers;
  const link: UpstreamLink = { send: (e) => toUpstream.push(e), close: () => undefined };
  const metrics: FallbackMetrics = {
    fallbackSession: () => undefined,
    fallbackFailed: () => undefined,
    upstreamError: () => undefined,
    upstreamFirstAudio: () => undefined,
    upstreamTurn: (_status, u) => usage.push(u),
    fallbackHttp: () => undefined,
  };
  const session = new UpstreamSession({
    config,
    logger: silentLogger,
    transport: {
      sendJson: (e) => toClient.push(e),
      sendBinary: (b) => binary.push(b),
      close: () => undefined,
    },
    dialect,
    id: 'sess_test',
    reason: 'always',
    voices: { has: () => false },
    metrics,
    onLost: () => undefined,
    connect: (h) => {
      handlers = h;
      return Promise.resolve(link);
    },
  });
  if (sessionUpdate)
    await session.receive(JSON.stringify({ type: 'session.update', session: sessionUpdate }), false);
  await session.idle();
  for (const line of turn) handlers.event(parseUpstreamEvent(line)!);
  return { session, toClient, toUpstream, binary, usage };
}

describe('the relay reads an OpenAI GA turn', () => {
  it('passes the turn on in GA names, keeps its session object, mirrors the conversation and counts the usage', async () => {
    const { session, toClient, toUpstream, usage } = await relay('ga');
    expect(toUpstream[0]!.type).toBe('session.update');
    const types = toClient.map((e) => e.type);
    expect(types[0]).toBe('session.created');
    expect(toClient[0]!.session).toMatchObject({ id: 'sess_test', x_backend: 'openai' });
    expect(types.filter((t) => t === 'session.created' || t === 'session.updated')).toHaveLength(1);
    for (const t of [
      'conversation.item.added',
      'conversation.item.done',
      'rate_limits.updated',
      'response.done',
    ])
      expect(types, t).toContain(t);
    expect(types.filter((t) => t === 'response.output_audio.delta')).toHaveLength(3);
    const [user, assistant] = session.conversation.all();
    expect(user).toMatchObject({ role: 'user', text: 'Quelle heure est-il ?', modality: 'audio' });
    expect(assistant).toMatchObject({
      role: 'assistant',
      text: 'Il est midi et quart.',
      status: 'completed',
      audioMs: 60,
    });
    expect(usage).toEqual([expect.objectContaining({ input_tokens: 132, output_tokens: 121 })]);
  });

  it('speaks beta to a beta client: item.added becomes item.created, item.done is not sent, audio events take beta names', async () => {
    const { toClient } = await relay('beta');
    const types = toClient.map((e) => e.type);
    expect(types).toContain('conversation.item.created');
    expect(types).not.toContain('conversation.item.added');
    expect(types).not.toContain('conversation.item.done');
    expect(types).toContain('response.audio.delta');
    expect(types).toContain('response.audio_transcript.done');
    expect(types).not.toContain('response.output_audio.delta');
  });

  it("converts the upstream's 24 kHz PCM to the client's format, in binary frames when asked", async () => {
    const { toClient, binary, toUpstream } = await relay('ga', {
      audio: { output: { format: { type: 'audio/pcmu' } } },
      binary_audio: true,
    });
    expect(toClient.filter((e) => e.type === 'response.output_audio.delta')).toHaveLength(0);
    // 3 deltas of 20 ms: 8 kHz µ-law is one byte a sample (the resampler holds a few back).
    const bytes = binary.reduce((n, b) => n + b.length, 0);
    expect(bytes).toBeGreaterThan(400);
    expect(bytes).toBeLessThanOrEqual(480);
    // The upstream is still asked for PCM16 24 kHz.
    const update = toUpstream.findLast((e) => e.type === 'session.update')!;
    expect(update.session).toMatchObject({
      audio: { output: { format: { type: 'audio/pcm', rate: 24000 } } },
    });
  });

  it('a beta upstream: its event names are read as the GA ones', () => {
    expect(parseUpstreamEvent('{"type":"response.audio.delta","delta":""}')!.type).toBe(
      'response.output_audio.delta',
    );
    expect(parseUpstreamEvent('{"type":"response.text.done"}')!.type).toBe('response.output_text.done');
    expect(parseUpstreamEvent('[1]')).toBeUndefined();
    expect(parseUpstreamEvent('{"type":7}')).toBeUndefined();
  });
});
