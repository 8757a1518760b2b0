import { describe, expect, it } from 'vitest';
import type { ServerEvent } from '../protocol/server-events.js';
import { FakeLlm, FakeStt, FakeTts } from '../testing/fake-engines.js';
import { SessionHarness } from '../testing/session-harness.js';

type Response = {
  id: string;
  status: string;
  status_details: unknown;
  output: { content: { transcript: string }[] }[];
};
const responseOf = (e: ServerEvent) => e.response as Response;

/** A TTS whose first synthesis of a matching text never answers (the filler is synthesized first). */
function hangsOnce(match: (text: string) => boolean) {
  let hung = false;
  return new FakeTts((_, text) => (!hung && match(text) ? ((hung = true), { hang: true }) : {}));
}

/** After a race, the session must still answer a normal turn. */
async function answersANormalTurn(h: SessionHarness) {
  const before = h.of('response.done').length;
  await h.turn();
  const done = responseOf(await h.waitFor('response.done', before + 1));
  expect(done.status).toBe('completed');
  await h.settled();
  expect(h.session.state.state).toBe('listening');
}

describe('RealtimeSession, a normal spoken turn', () => {
  it('sends speech events, the transcription, audio with its transcript, then response.done with timings', async () => {
    const h = await SessionHarness.create({
      stt: new FakeStt(() => ({ text: 'Quelle heure est-il ?' })),
      llm: new FakeLlm(() => ({ tokens: ['Il est ', 'midi. ', 'Bonne ', 'journée.'] })),
    });
    await h.turn();
    const done = responseOf(await h.waitFor('response.done'));
    expect(done.status).toBe('completed');
    const types = h.types();
    const order = [
      'session.created',
      'input_audio_buffer.speech_started',
      'input_audio_buffer.speech_stopped',
      'input_audio_buffer.committed',
      'response.created',
      'conversation.item.input_audio_transcription.completed',
      'response.output_audio_transcript.delta',
      'response.output_audio.done',
      'response.done',
    ];
    const positions = order.map((t) => types.indexOf(t));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(types.lastIndexOf('response.output_audio.delta')).toBeLessThan(types.indexOf('response.done'));
    expect(h.of('conversation.item.input_audio_transcription.completed')[0]!.transcript).toBe(
      'Quelle heure est-il ?',
    );
    const transcript = h
      .of('response.output_audio_transcript.delta')
      .map((e) => e.delta as string)
      .join('');
    expect(transcript).toBe('Il est midi. Bonne journée.');
    expect(done.output[0]!.content[0]!.transcript).toBe('Il est midi. Bonne journée.');
    const timings = (done as unknown as { x_timings: { origin: string; marks: Record<string, number> } })
      .x_timings;
    expect(timings.origin).toBe('speech_stopped');
    for (const mark of [
      'stt_done',
      'first_llm_token',
      'first_sentence',
      'first_tts_chunk',
      'first_audio_sent',
      'first_answer_audio_sent',
    ])
      expect(timings.marks[mark], mark).toBeGreaterThanOrEqual(0);
    expect(timings.marks.first_audio_sent!).toBeLessThanOrEqual(timings.marks.first_answer_audio_sent!);
    await h.settled();
    expect(h.session.state.state).toBe('listening');
    // The history has the user's words and the answer, in order.
    expect(h.session.conversation.messages('').map((m) => [m.role, m.content])).toEqual([
      ['user', 'Quelle heure est-il ?'],
      ['assistant', 'Il est midi. Bonne journée.'],
    ]);
  });

  it('a filler starts at once when the answer is slow, and the answer follows it without overlap or gap', async () => {
    const h = await SessionHarness.create({
      llm: new FakeLlm(() => ({ tokens: ['Voilà la réponse.'], firstTokenMs: 150 })),
    });
    await h.turn();
    const done = responseOf(await h.waitFor('response.done'));
    expect(done.status).toBe('completed');
    const item = h.session.conversation.all().at(-1)!;
    expect(item.spans.map((s) => s.text)).toEqual(['', 'Voilà la réponse.']);
    expect(item.spans[1]!.startMs).toBeCloseTo(item.spans[0]!.endMs, 5);
    expect(item.text).toBe('Voilà la réponse.');
    const timings = (done as unknown as { x_timings: { marks: Record<string, number> } }).x_timings.marks;
    expect(timings.first_audio_sent!).toBeLessThan(timings.first_llm_token!);
  });

  it('x_fillers: false turns the fillers off for the session, and the session shows it', async () => {
    const h = await SessionHarness.create({
      llm: new FakeLlm(() => ({ tokens: ['Voilà la réponse.'], firstTokenMs: 150 })),
    });
    await h.send({ type: 'session.update', session: { type: 'realtime', x_fillers: false } });
    expect((await h.waitFor('session.updated')).session).toMatchObject({ x_fillers: false });
    await h.turn();
    expect(responseOf(await h.waitFor('response.done')).status).toBe('completed');
    expect(
      h.session.conversation
        .all()
        .at(-1)!
        .spans.map((s) => s.text),
    ).toEqual(['Voilà la réponse.']);
  });

  it('no filler when the answer audio is ready before the filler delay', async () => {
    const h = await SessionHarness.create({ config: { realtime: { fillerDelayMs: 300 } } });
    await h.turn();
    await h.waitFor('response.done');
    expect(
      h.session.conversation
        .all()
        .at(-1)!
        .spans.every((s) => s.text !== ''),
    ).toBe(true);
  });

  it('text turns: conversation.item.create + response.create answers in text when asked', async () => {
    const h = await SessionHarness.create({ llm: new FakeLlm(() => ({ tokens: ['Oui', '.'] })) });
    await h.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Ça va ?' }] },
    });
    await h.send({ type: 'response.create', response: { output_modalities: ['text'] } });
    const done = responseOf(await h.waitFor('response.done'));
    expect(done.status).toBe('completed');
    expect(h.of('response.output_text.delta').map((e) => e.delta)).toEqual(['Oui', '.']);
    expect(h.of('response.output_audio.delta')).toHaveLength(0);
    expect(h.llm.calls[0]!.at(-1)).toEqual({ role: 'user', content: 'Ça va ?' });
  });

  it('the sentence cache serves a repeated sentence without synthesizing it again', async () => {
    const h = await SessionHarness.create({ fillers: false });
    await h.turn();
    await h.waitFor('response.done');
    await h.settled();
    await h.turn();
    await h.waitFor('response.done', 2);
    expect(h.tts.calls).toEqual(['Bien sûr.']);
  });
});

describe('RealtimeSession races (each named after the race it pins)', () => {
  it('interrupt before the first audio', async () => {
    const h = await SessionHarness.create({
      fillers: false,
      llm: new FakeLlm((call) => (call === 0 ? { tokens: ['Trop tard.'], firstTokenMs: 2000 } : {})),
    });
    await h.turn();
    await h.waitFor('response.created');
    await h.turn(); // the user speaks again before any answer audio
    const first = responseOf(await h.waitFor('response.done'));
    expect(first.status).toBe('cancelled');
    expect(h.of('response.output_audio.delta').filter((e) => e.response_id === first.id)).toHaveLength(0);
    const second = responseOf(await h.waitFor('response.done', 2));
    expect(second.status).toBe('completed');
    await h.settled();
    expect(h.session.state.state).toBe('listening');
    await answersANormalTurn(h);
  });

  it('interrupt during the filler', async () => {
    const h = await SessionHarness.create({
      tts: new FakeTts((_, text) => ({ msPerChar: text === 'Hum.' ? 500 : 4 })),
      llm: new FakeLlm((call) => (call === 0 ? { tokens: ['Jamais entendu.'], firstTokenMs: 3000 } : {})),
    });
    await h.turn();
    await h.waitFor('response.output_audio.delta');
    await h.turn();
    const first = responseOf(await h.waitFor('response.done'));
    expect(first.status).toBe('cancelled');
    expect(first.output[0]!.content[0]!.transcript).toBe('');
    const item = h.session.conversation.all().find((i) => i.role === 'assistant')!;
    expect(item.status).toBe('incomplete');
    expect(item.text).toBe('');
    await h.waitFor('response.done', 2);
    await answersANormalTurn(h);
  });

  it('barge-in during transcription keeps what was said before it', async () => {
    // A pause mid-sentence ends the turn; the user goes on while the first part is transcribed.
    const h = await SessionHarness.create({
      fillers: false,
      stt: new FakeStt((call) => ({
        text: call === 0 ? 'Allume la lumière' : call === 1 ? 'Allume la lumière' : 'dans la cuisine.',
        delayMs: call === 0 ? 2000 : 10,
      })),
    });
    await h.turn();
    await h.waitFor('response.created');
    await h.turn();
    const first = responseOf(await h.waitFor('response.done'));
    expect(first.status).toBe('cancelled');
    const second = responseOf(await h.waitFor('response.done', 2));
    expect(second.status).toBe('completed');
    const users = h.session.conversation.all().filter((i) => i.role === 'user');
    expect(users.map((u) => u.text)).toEqual(['Allume la lumière', 'dans la cuisine.']);
    const transcribed = h.of('conversation.item.input_audio_transcription.completed');
    expect(transcribed.map((e) => e.item_id)).toEqual(users.map((u) => u.id));
    const prompt = h.llm.calls
      .at(-1)!
      .filter((m) => m.role === 'user')
      .map((m) => m.content);
    expect(prompt).toEqual(['Allume la lumière', 'dans la cuisine.']);
    await answersANormalTurn(h);
  });

  it('turns that end while an answer plays, with interrupt_response off, are all answered', async () => {
    const h = await SessionHarness.create({
      stt: new FakeStt((call) => ({ text: ['Un.', 'Deux.', 'Trois.'][call] ?? 'Encore.' })),
      llm: new FakeLlm((call) => (call === 0 ? { tokens: ['Une longue réponse.'], firstTokenMs: 600 } : {})),
    });
    await h.send({
      type: 'session.update',
      session: {
        type: 'realtime',
        audio: { input: { turn_detection: { type: 'server_vad', interrupt_response: false } } },
      },
    });
    await h.turn();
    await h.waitFor('response.created');
    await h.turn();
    await h.turn();
    await h.waitFor('response.done', 2, 10_000);
    await h.settled();
    const done = h.of('response.done').map((e) => responseOf(e).status);
    expect(done).toEqual(['completed', 'completed']);
    const users = h.session.conversation.all().filter((i) => i.role === 'user');
    expect(users.map((u) => u.text)).toEqual(['Un.', 'Deux.', 'Trois.']);
    await answersANormalTurn(h);
  });

  it('two commits back to back', async () => {
    const h = await SessionHarness.create({
      stt: new FakeStt((call) => ({ text: call === 0 ? 'Premier.' : 'Second.', delayMs: 30 })),
    });
    // Sent without waiting for any answer, as a client streaming and committing would.
    const speech = h.speechFrames(200);
    await Promise.all(
      [
        ...speech,
        { type: 'input_audio_buffer.commit' },
        ...speech,
        { type: 'input_audio_buffer.commit' },
      ].map((e) => h.send(e)),
    );
    await h.waitFor('response.done', 2);
    await h.settled();
    const created = h.of('response.created').length;
    expect(h.of('response.done')).toHaveLength(created);
    expect(responseOf(h.of('response.done').at(-1)!).status).toBe('completed');
    expect(h.of('input_audio_buffer.committed')).toHaveLength(2);
    const users = h.session.conversation.all().filter((i) => i.role === 'user');
    expect(users.map((u) => u.id)).toEqual(h.of('input_audio_buffer.committed').map((e) => e.item_id));
    await answersANormalTurn(h);
  });

  it('response.cancel after response.done', async () => {
    const h = await SessionHarness.create();
    await h.turn();
    const done = responseOf(await h.waitFor('response.done'));
    await h.settled();
    await h.send({ type: 'response.cancel', response_id: done.id, event_id: 'evt_late' });
    const error = (await h.waitFor('error')).error as { code: string; event_id: string };
    expect(error).toMatchObject({ code: 'response_cancel_not_active', event_id: 'evt_late' });
    expect(h.of('response.done')).toHaveLength(1);
    await answersANormalTurn(h);
  });

  it('client disconnect mid-response', async () => {
    const llm = new FakeLlm((call) =>
      call === 0 ? { tokens: ['Un. ', 'Deux. ', 'Trois.'], tokenMs: 400 } : {},
    );
    const h = await SessionHarness.create({ llm });
    await h.turn();
    await h.waitFor('response.output_audio.delta');
    const sent = h.events.length;
    h.session.close();
    await h.session.idle(); // the response ends: nothing is left running
    expect(h.events.length).toBe(sent); // and nothing is sent to a closed socket
    // The engines serve the next session normally.
    const next = await SessionHarness.create({ llm, stt: h.stt, tts: h.tts });
    await answersANormalTurn(next);
  });

  it('engine error mid-stream', async () => {
    const h = await SessionHarness.create({
      llm: new FakeLlm((call) => (call === 0 ? { tokens: ['Début. ', 'Suite', ' fin.'], failAfter: 2 } : {})),
    });
    await h.turn();
    const done = responseOf(await h.waitFor('response.done'));
    expect(done.status).toBe('failed');
    expect(done.status_details).toMatchObject({ type: 'failed', error: { code: 'engine_failed' } });
    expect(((await h.waitFor('error')).error as { code: string }).code).toBe('engine_failed');
    await h.settled();
    expect(h.session.state.state).toBe('listening');
    await answersANormalTurn(h);
  });

  it.each([
    ['LLM', { llm: new FakeLlm((call) => (call === 0 ? { hangAfter: 0 } : {})) }],
    [
      'LLM after its first token',
      { llm: new FakeLlm((call) => (call === 0 ? { tokens: ['A', 'B.'], hangAfter: 1 } : {})) },
    ],
    ['STT', { stt: new FakeStt((call) => (call === 0 ? { hang: true } : {})) }],
    ['TTS', { tts: hangsOnce((text) => text !== 'Hum.') }],
  ])('engine that never answers (timeout): %s', async (_, engines) => {
    const h = await SessionHarness.create({
      ...engines,
      config: { realtime: { sttTimeoutMs: 300, firstTokenTimeoutMs: 300, ttsTimeoutMs: 300 } },
    });
    const started = performance.now();
    await h.turn();
    const done = responseOf(await h.waitFor('response.done'));
    expect(done.status).toBe('failed');
    expect(done.status_details).toMatchObject({ error: { code: 'timeout' } });
    expect(performance.now() - started).toBeLessThan(3000);
    await h.settled();
    expect(h.session.state.state).toBe('listening');
    await answersANormalTurn(h);
  });

  it('truncate of an unknown item', async () => {
    const h = await SessionHarness.create();
    await h.send({
      type: 'conversation.item.truncate',
      item_id: 'item_nope',
      content_index: 0,
      audio_end_ms: 10,
    });
    expect(((await h.waitFor('error')).error as { code: string }).code).toBe('item_not_found');
    await answersANormalTurn(h);
  });
});

describe('RealtimeSession barge-in keeps what the user heard', () => {
  it('without a truncate from the client, the answer is cut where the paced audio says playback was', async () => {
    const h = await SessionHarness.create({
      fillers: false,
      tts: new FakeTts(() => ({ msPerChar: 40 })), // ~1 s of audio per sentence
      llm: new FakeLlm((call) =>
        call === 0 ? { tokens: ['Première phrase entendue. ', 'Deuxième phrase jamais entendue.'] } : {},
      ),
    });
    await h.turn();
    await h.waitFor('response.output_audio.delta');
    await new Promise((r) => setTimeout(r, 1300)); // into the second sentence
    await h.turn();
    const first = responseOf(await h.waitFor('response.done'));
    expect(first.status).toBe('cancelled');
    const item = h.session.conversation.all().find((i) => i.role === 'assistant')!;
    expect(item.text.startsWith('Première phrase entendue.')).toBe(true);
    expect(item.text).not.toContain('jamais entendue.');
    // Audio sent never runs more than the lead (plus one chunk) ahead of playback.
    expect(item.audioMs).toBeLessThan(1300 + 400 + 200);
  });

  it('slowReaderHoldsThePacer: while the transport cannot write, no more audio is sent and none of it counts as heard', async () => {
    const h = await SessionHarness.create({
      fillers: false,
      tts: new FakeTts(() => ({ msPerChar: 40 })),
      llm: new FakeLlm((call) =>
        call === 0 ? { tokens: ['Première phrase jamais lue. ', 'Deuxième phrase jamais lue.'] } : {},
      ),
    });
    await h.turn();
    await h.waitFor('response.output_audio.delta');
    // The client stops reading: a megabyte (~16 s of audio) waits in the socket.
    h.bufferedBytes = 1024 * 1024;
    const sent = h.of('response.output_audio.delta').length;
    await new Promise((r) => setTimeout(r, 1300));
    expect(h.of('response.output_audio.delta').length).toBe(sent);
    await h.turn();
    const first = responseOf(await h.waitFor('response.done'));
    expect(first.status).toBe('cancelled');
    const item = h.session.conversation.all().find((i) => i.role === 'assistant')!;
    expect(item.text).not.toContain('Première phrase jamais lue.');
  });

  it('the pacer resumes when the slow reader catches up, and the answer completes', async () => {
    const h = await SessionHarness.create({
      fillers: false,
      tts: new FakeTts(() => ({ msPerChar: 10 })),
      llm: new FakeLlm(() => ({ tokens: ['Une phrase courte. ', 'Et une autre.'] })),
    });
    await h.turn();
    await h.waitFor('response.output_audio.delta');
    h.bufferedBytes = 1024 * 1024;
    await new Promise((r) => setTimeout(r, 300));
    const held = h.of('response.output_audio.delta').length;
    h.bufferedBytes = 0;
    const done = responseOf(await h.waitFor('response.done'));
    expect(done.status).toBe('completed');
    expect(h.of('response.output_audio.delta').length).toBeGreaterThan(held);
  });

  it('conversation.item.truncate sets the history to the audio the client played', async () => {
    const h = await SessionHarness.create({
      fillers: false,
      tts: new FakeTts(() => ({ msPerChar: 40 })),
      llm: new FakeLlm(() => ({ tokens: ['Un deux trois quatre. ', 'Cinq six sept huit.'] })),
    });
    await h.turn();
    const delta = await h.waitFor('response.output_audio.delta');
    await h.send({
      type: 'conversation.item.truncate',
      item_id: delta.item_id,
      content_index: 0,
      audio_end_ms: 400,
    });
    await h.waitFor('conversation.item.truncated');
    const done = responseOf(await h.waitFor('response.done'));
    expect(done.status).toBe('cancelled');
    const item = h.session.conversation.all().find((i) => i.role === 'assistant')!;
    expect(item.audioMs).toBe(400);
    expect(item.text).toBe('Un…'); // 400 ms of the 840 ms of 4 words: the first word only
  });
});

describe('RealtimeSession bad input', () => {
  it.each([
    ['not json', '{nope', 'invalid_json'],
    ['no type', '{"a":1}', 'invalid_event'],
    ['unknown event', '{"type":"hello.world"}', 'unknown_event'],
    ['wrong type', '{"type":"input_audio_buffer.append","audio":42}', 'invalid_event'],
    ['bad base64', '{"type":"input_audio_buffer.append","audio":"@@@"}', 'invalid_audio'],
    ['empty commit', '{"type":"input_audio_buffer.commit"}', 'input_audio_buffer_commit_empty'],
    [
      'bad format',
      '{"type":"session.update","session":{"audio":{"input":{"format":{"type":"audio/mp3"}}}}}',
      'unsupported_audio_format',
    ],
    [
      'unknown voice',
      '{"type":"session.update","session":{"audio":{"output":{"voice":"nobody"}}}}',
      'invalid_event',
    ],
    ['second response', '{"type":"response.create"}', 'conversation_already_has_active_response'],
  ])('%s → error %s, the session stays usable', async (_, message, code) => {
    const h = await SessionHarness.create({ llm: new FakeLlm(() => ({ firstTokenMs: 50 })) });
    if (code === 'conversation_already_has_active_response') await h.send({ type: 'response.create' });
    await h.send(message);
    const error = (await h.waitFor('error')).error as { code: string };
    expect(error.code).toBe(code);
    await h.settled();
    await answersANormalTurn(h);
  });

  it('frames over the size limit and floods over the rate limit get errors, not a closed socket', async () => {
    const h = await SessionHarness.create({
      config: { realtime: { maxFrameBytes: 2048, maxMessagesPerSec: 50 } },
    });
    await h.send({ type: 'input_audio_buffer.append', audio: 'A'.repeat(4096) });
    expect(((await h.waitFor('error')).error as { code: string }).code).toBe('frame_too_large');
    await Promise.all(Array.from({ length: 80 }, () => h.send({ type: 'input_audio_buffer.clear' })));
    expect(h.of('error').some((e) => (e.error as { code: string }).code === 'rate_limited')).toBe(true);
    expect(h.closedWith).toBeUndefined();
    await new Promise((r) => setTimeout(r, 1100));
    await answersANormalTurn(h);
  });

  it('oversizedFramesCountAgainstTheRateLimit: a flood of messages over the size limit is rate limited too', async () => {
    const h = await SessionHarness.create({
      config: { realtime: { maxFrameBytes: 2048, maxMessagesPerSec: 50 } },
    });
    const big = JSON.stringify({ type: 'input_audio_buffer.append', audio: 'A'.repeat(4096) });
    await Promise.all(Array.from({ length: 80 }, () => h.send(big)));
    const codes = h.of('error').map((e) => (e.error as { code: string }).code);
    expect(codes.filter((c) => c === 'frame_too_large').length).toBeLessThanOrEqual(50);
    expect(codes).toContain('rate_limited');
    expect(h.closedWith).toBeUndefined();
  });

  it('inboxFullClosesThePolicyViolator: messages sent faster than the session handles them close it with 1008', async () => {
    const h = await SessionHarness.create({
      config: {
        realtime: { maxFrameBytes: 16 * 1024, maxPendingBytes: 64 * 1024, maxMessagesPerSec: 100_000 },
      },
    });
    // 100 messages of 10 kB queued at once: 1 MB waits for a session that handles them in turn.
    const msg = JSON.stringify({ type: 'conversation.item.retrieve', item_id: 'x'.repeat(10_000) });
    const sent = Array.from({ length: 100 }, () => h.send(msg));
    await Promise.all(sent);
    expect(h.closedWith).toEqual({ code: 1008, reason: 'inbox_full' });
    expect(h.of('error').some((e) => (e.error as { code: string }).code === 'inbox_full')).toBe(true);
  });

  it('inputAudioFasterThanTwiceRealTimeIsDropped: past the burst, audio beyond 2× real time gets one error a second and is not heard', async () => {
    const h = await SessionHarness.create({
      config: { realtime: { audioBurstSec: 1, maxAudioSpeed: 2, maxMessagesPerSec: 100_000 } },
    });
    // 5 s of speech sent at once: 1 s (the burst) is heard, the rest dropped with one error.
    await h.audio(5000, true);
    const errors = h.of('error').map((e) => e.error as { code: string; message: string });
    expect(errors.map((e) => e.code)).toEqual(['input_audio_rate_exceeded']);
    expect(errors[0]!.message).toMatch(/2× real time/);
    // Real time is always accepted: a paced normal turn is answered.
    await new Promise((r) => setTimeout(r, 600));
    const before = h.of('response.done').length;
    await h.audio(400, true, { paceMs: 20 });
    await h.audio(300, false, { paceMs: 20 });
    const done = responseOf(await h.waitFor('response.done', before + 1));
    expect(done.status).toBe('completed');
    expect(h.of('error')).toHaveLength(1);
    // The session's audio clock counts what was heard: 1 s + 0.7 s, not the 5 s sent.
    const stopped = (await h.waitFor('input_audio_buffer.speech_stopped')) as unknown as {
      audio_end_ms: number;
    };
    expect(stopped.audio_end_ms).toBeLessThan(2000);
  });
});

describe('RealtimeSession audio formats and transport', () => {
  it('G.711 μ-law in and out at 8 kHz (telephony)', async () => {
    const h = await SessionHarness.create({ fillers: false });
    await h.send({
      type: 'session.update',
      session: {
        audio: { input: { format: { type: 'audio/pcmu' } }, output: { format: { type: 'audio/pcmu' } } },
      },
    });
    const { mulawEncode } = await import('../audio/g711.js');
    const frame = (loud: boolean) =>
      Buffer.from(
        mulawEncode(
          Int16Array.from({ length: 160 }, (_, i) => (loud ? Math.round(8000 * Math.sin(i / 3)) : 0)),
        ),
      ).toString('base64');
    for (let i = 0; i < 20; i++) await h.send({ type: 'input_audio_buffer.append', audio: frame(true) });
    for (let i = 0; i < 15; i++) await h.send({ type: 'input_audio_buffer.append', audio: frame(false) });
    const done = responseOf(await h.waitFor('response.done'));
    expect(done.status).toBe('completed');
    const bytes = h
      .of('response.output_audio.delta')
      .reduce((n, e) => n + Buffer.from(e.delta as string, 'base64').length, 0);
    // "Bien sûr." = 9 characters × 4 ms of audio at 8000 bytes per second.
    expect(bytes).toBeGreaterThan(8000 * 0.036 * 0.9);
    expect(bytes).toBeLessThan(8000 * 0.036 * 1.1);
  });

  it('binary frames when enabled: raw input audio in, raw output audio out', async () => {
    const h = await SessionHarness.create({ fillers: false });
    await h.send({ type: 'session.update', session: { binary_audio: true } });
    const pcm = (loud: boolean) => {
      const b = Buffer.alloc(960);
      if (loud) for (let i = 0; i < 480; i++) b.writeInt16LE(Math.round(8000 * Math.sin(i / 3)), i * 2);
      return b;
    };
    for (let i = 0; i < 20; i++) await h.session.receive(pcm(true), true);
    for (let i = 0; i < 15; i++) await h.session.receive(pcm(false), true);
    expect(responseOf(await h.waitFor('response.done')).status).toBe('completed');
    expect(h.of('response.output_audio.delta')).toHaveLength(0);
    expect(h.binary.reduce((n, b) => n + b.length, 0)).toBeGreaterThan(0);
  });

  it('binary frames without binary_audio are refused with an error, the session stays up', async () => {
    const h = await SessionHarness.create();
    await h.session.receive(Buffer.alloc(100), true);
    expect(((await h.waitFor('error')).error as { code: string }).code).toBe('binary_audio_disabled');
    await answersANormalTurn(h);
  });

  it('idle timeout: an error event, then the socket is closed with 1000', async () => {
    const h = await SessionHarness.create({ config: { realtime: { idleTimeoutMs: 1000 } } });
    const error = await h.waitFor('error', 1, 3000);
    expect((error.error as { code: string }).code).toBe('idle_timeout');
    expect(h.closedWith).toEqual({ code: 1000, reason: 'idle timeout' });
  });

  it('beta clients get the beta event names', async () => {
    const h = await SessionHarness.create({ dialect: 'beta' });
    await h.turn();
    await h.waitFor('response.done');
    expect(h.types()).toContain('response.audio.delta');
    expect(h.types()).toContain('response.audio_transcript.delta');
    expect(h.types()).not.toContain('response.output_audio.delta');
    for (const type of ['response.created', 'response.done']) {
      const { response } = (await h.waitFor(type)) as unknown as { response: Record<string, unknown> };
      expect(response.modalities).toEqual(['audio']);
      expect(response).not.toHaveProperty('output_modalities');
    }
  });
});
