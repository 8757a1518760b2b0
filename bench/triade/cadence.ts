import type { ServerEvent } from '../../src/protocol/server-events.js';

type Timed = ServerEvent & { at: number };

export interface Cadence {
  /** Answer audio chunks that arrived after the audio played so far had run out by over one frame. */
  underruns: number;
  /** Silence between the end of the filler's playback and the first answer audio (0: none). */
  fillerGapMs: number | undefined;
}

/**
 * Plays a response's delivered audio at real-time pace from its first chunk, as a client with no
 * jitter buffer would, and counts where it would have run dry. `rate`: PCM16 samples per second.
 */
export function cadence(events: Timed[], responseId: string, rate: number, frameMs = 20): Cadence {
  const mine = events.filter((e) => e.response_id === responseId);
  const answerAt = mine.find((e) => e.type === 'response.output_audio_transcript.delta')?.at;
  let playedUntil = -Infinity;
  let underruns = 0;
  let fillerGapMs: number | undefined;
  let answering = false;
  for (const e of mine) {
    if (e.type !== 'response.output_audio.delta') continue;
    const ms = (Buffer.byteLength(String(e.delta), 'base64') / 2 / rate) * 1000;
    const answer = answerAt !== undefined && e.at >= answerAt;
    if (answer && !answering) {
      answering = true;
      // The first answer chunk after a filler: the silence the filler did not cover.
      if (playedUntil > -Infinity) fillerGapMs = Math.max(0, e.at - playedUntil);
    } else if (e.at > playedUntil + frameMs && answering) underruns++;
    playedUntil = Math.max(playedUntil, e.at) + ms;
  }
  return { underruns, fillerGapMs };
}
