import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { silentLogger } from '../log.js';
import type { ServerEvent } from '../protocol/server-events.js';
import { PhoneCall, type PhoneLine } from './phone-call.js';

const telephony = loadConfig({ env: {} }).telephony;

/** A line that records what the call sends the carrier, and a session that records what it is sent. */
function setup(overrides: Partial<typeof telephony> = {}, marks = true) {
  const line: string[] = [];
  const sent: Record<string, unknown>[] = [];
  const phoneLine: PhoneLine = {
    audio: (bytes) => line.push(`audio ${bytes.length}`),
    ...(marks ? { mark: (name: string) => line.push(`mark ${name}`) } : {}),
    clear: () => line.push('clear'),
    bufferedAudioBytes: () => 0,
    close: () => line.push('close'),
  };
  const call = new PhoneCall(phoneLine, {
    telephony: { ...telephony, ...overrides },
    encoding: 'mulaw',
    log: silentLogger,
  });
  call.attach({
    receive: (data) => {
      sent.push(JSON.parse(String(data)) as Record<string, unknown>);
      return Promise.resolve();
    },
  });
  const event = (type: string, fields: Record<string, unknown> = {}) =>
    call.transport.sendJson({ type, ...fields } as unknown as ServerEvent);
  const answer = (id = 'item_A') => {
    event('response.created');
    event('response.output_item.added', { item: { id, role: 'assistant' } });
  };
  // 100 ms of μ-law.
  const audio = () => call.transport.sendBinary(new Uint8Array(800));
  return { call, line, sent, event, answer, audio };
}

describe('PhoneCall', () => {
  it('asks its session for 8 kHz μ-law both ways, in binary frames, with voice onsets', () => {
    const { sent } = setup();
    expect(sent[0]).toEqual({
      type: 'session.update',
      session: {
        type: 'realtime',
        binary_audio: true,
        audio: {
          input: { format: { type: 'audio/pcmu' }, turn_detection: { x_speech_onset: true } },
          output: { format: { type: 'audio/pcmu' } },
        },
      },
    });
  });

  it('marks the end of each sentence and every markIntervalMs of audio, named by item and position', () => {
    const { line, event, answer, audio } = setup({ markIntervalMs: 300 });
    answer();
    audio(); // filler, 100 ms
    event('response.output_audio_transcript.delta', { delta: 'Il est midi.' });
    for (let i = 0; i < 4; i++) audio();
    event('response.output_audio.done');
    expect(line).toEqual([
      'audio 800',
      'mark item_A:100:1',
      'audio 800',
      'audio 800',
      'audio 800',
      'mark item_A:400:2',
      'audio 800',
      'mark item_A:500:3',
    ]);
  });

  it('speech over the answer clears the line and truncates the item to the last mark echoed as played', () => {
    const { call, line, sent, event, answer, audio } = setup({ clearOn: 'speech' });
    answer();
    audio();
    event('response.output_audio_transcript.delta', { delta: 'Il est midi.' });
    audio();
    audio();
    call.markEchoed('item_A:100:1');
    event('input_audio_buffer.speech_started');
    expect(line.at(-1)).toBe('clear');
    expect(sent.at(-1)).toEqual({
      type: 'conversation.item.truncate',
      item_id: 'item_A',
      content_index: 0,
      audio_end_ms: 100,
    });
    // The echo of a mark dropped by the clear says nothing was heard past 100 ms.
    event('response.output_audio.done');
    expect(call.heardMark?.ms).toBe(100);
  });

  it('marks pending at a clear are echoed back by the carrier: those echoes do not count as heard', () => {
    const { call, line, sent, event, answer, audio } = setup({ clearOn: 'speech', markIntervalMs: 100 });
    answer();
    audio();
    audio();
    expect(line.filter((l) => l.startsWith('mark'))).toEqual(['mark item_A:100:1', 'mark item_A:200:2']);
    call.markEchoed('item_A:100:1');
    event('input_audio_buffer.speech_started');
    call.markEchoed('item_A:200:2'); // Twilio echoes the marks a clear removed
    expect(call.heardMark?.ms).toBe(100);
    expect(sent.at(-1)).toMatchObject({ type: 'conversation.item.truncate', audio_end_ms: 100 });
  });

  it('onset: the line is cleared at the first voiced frame and answer audio held; a voice that dies out releases it', () => {
    const { line, event, answer, audio } = setup();
    answer();
    audio();
    event('input_audio_buffer.x_speech_onset', { audio_start_ms: 0 });
    expect(line.at(-1)).toBe('clear');
    audio();
    event('response.output_audio_transcript.delta', { delta: 'Suite.' });
    expect(line.at(-1)).toBe('clear');
    event('input_audio_buffer.x_speech_onset_dropped', { audio_end_ms: 0 });
    expect(line.slice(-2)).toEqual(['audio 800', 'mark item_A:200:1']);
  });

  it('onset then speech: the held audio is dropped, the line is not cleared twice, the item is truncated', () => {
    const { line, sent, event, answer, audio } = setup();
    answer();
    audio();
    event('input_audio_buffer.x_speech_onset', { audio_start_ms: 0 });
    audio();
    event('input_audio_buffer.speech_started');
    audio(); // the session stops its response: anything later is not this item's
    expect(line).toEqual(['audio 800', 'clear']);
    expect(sent.at(-1)).toMatchObject({
      type: 'conversation.item.truncate',
      item_id: 'item_A',
      audio_end_ms: 0,
    });
  });

  it('speech after the answer has played in full: nothing to clear or truncate', () => {
    const { call, line, sent, event, answer, audio } = setup();
    answer();
    audio();
    event('response.output_audio.done');
    event('response.done');
    call.markEchoed('item_A:100:1');
    const before = sent.length;
    event('input_audio_buffer.speech_started');
    expect(line.at(-1)).toBe('mark item_A:100:1');
    expect(sent.length).toBe(before);
  });

  it('without marks (a gateway that does not echo them) a barge-in clears and leaves the estimate alone', () => {
    const { line, sent, event, answer, audio } = setup({ clearOn: 'speech' }, false);
    answer();
    audio();
    event('response.output_audio_transcript.delta', { delta: 'Il est midi.' });
    const before = sent.length;
    event('input_audio_buffer.speech_started');
    expect(line).toEqual(['audio 800', 'clear']);
    expect(sent.length).toBe(before);
  });

  it('DTMF: digits close together make one user item, answered; # ends them at once', async () => {
    const { call, sent } = setup({ dtmfGapMs: 50 });
    call.digit('1');
    call.digit('2');
    call.digit('#');
    expect(sent.slice(-2)).toEqual([
      {
        type: 'conversation.item.create',
        item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'DTMF: 12#' }] },
      },
      { type: 'response.create' },
    ]);
    call.digit('7');
    await new Promise((r) => setTimeout(r, 80));
    expect(sent.at(-2)).toMatchObject({ item: { content: [{ text: 'DTMF: 7' }] } });
  });

  it('DTMF over an answer interrupts it; `item` adds without answering; `ignore` drops', () => {
    const a = setup({ dtmfGapMs: 0, clearOn: 'speech' });
    a.event('response.created');
    a.call.digit('5');
    expect(a.sent.slice(-3).map((e) => e.type)).toEqual([
      'response.cancel',
      'conversation.item.create',
      'response.create',
    ]);
    const b = setup({ dtmf: 'item', dtmfGapMs: 0 });
    b.call.digit('5');
    expect(b.sent.at(-1)).toMatchObject({ type: 'conversation.item.create' });
    const c = setup({ dtmf: 'ignore', dtmfGapMs: 0 });
    c.call.digit('5');
    expect(c.sent).toHaveLength(1);
  });
});

describe('PhoneCall bounds', () => {
  it('marks never echoed (a gateway that drops them) are forgotten past 512; digits past 32 make an item', () => {
    const { call, line, sent, answer, audio } = setup({ markIntervalMs: 100, dtmfGapMs: 10_000 });
    answer();
    for (let i = 0; i < 600; i++) audio();
    // Only the newest 512 can still be echoed: the echo of the first one is ignored.
    call.markEchoed('item_A:100:1');
    expect(call.heardMark).toBeUndefined();
    call.markEchoed('item_A:60000:600');
    expect(call.heardMark?.ms).toBe(60000);
    expect(line.filter((l) => l.startsWith('mark'))).toHaveLength(600);
    for (let i = 0; i < 33; i++) call.digit('1');
    expect(sent.filter((e) => e.type === 'conversation.item.create')).toHaveLength(1);
    call.end();
  });
});
