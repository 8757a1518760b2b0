/**
 * Stage timestamps of one turn on one monotonic clock (performance.now()). The origin is the end of
 * the user's speech when the turn was detected by the VAD, else the moment the response was asked.
 */
export const TURN_MARKS = [
  'rag_started',
  'rag_done',
  'rag_dropped',
  'speech_stopped',
  'response_created',
  'stt_done',
  'first_llm_token',
  'first_sentence',
  'first_tts_chunk',
  'first_audio_sent',
  'first_answer_audio_sent',
  'llm_done',
  'last_audio_sent',
  'done',
] as const;
export type TurnMark = (typeof TURN_MARKS)[number];

export interface TurnTimings {
  clock: 'monotonic';
  origin: 'speech_stopped' | 'response_created';
  /** performance.now() of the origin, in ms (to line turns up with each other and with logs). */
  origin_ms: number;
  /** Milliseconds since the origin, one decimal; a stage that did not happen is absent. */
  marks: Partial<Record<TurnMark, number>>;
}

export class TurnTimeline {
  private readonly at = new Map<TurnMark, number>();

  constructor(
    private readonly now: () => number = () => performance.now(),
    speechStoppedAt?: number,
  ) {
    if (speechStoppedAt !== undefined) this.at.set('speech_stopped', speechStoppedAt);
  }

  /** Records a stage the first time it happens; later calls keep the first time. */
  mark(stage: TurnMark): void {
    if (!this.at.has(stage)) this.at.set(stage, this.now());
  }

  /** Records a stage at a time already past (work that began before the turn ended: negative marks). */
  markAt(stage: TurnMark, at: number): void {
    if (!this.at.has(stage)) this.at.set(stage, at);
  }

  has(stage: TurnMark): boolean {
    return this.at.has(stage);
  }

  toJSON(): TurnTimings {
    const originName = this.at.has('speech_stopped') ? 'speech_stopped' : 'response_created';
    const origin = this.at.get(originName) ?? this.now();
    const marks: Partial<Record<TurnMark, number>> = {};
    for (const stage of TURN_MARKS) {
      const t = this.at.get(stage);
      if (t !== undefined) marks[stage] = Math.round((t - origin) * 10) / 10;
    }
    return { clock: 'monotonic', origin: originName, origin_ms: Math.round(origin * 10) / 10, marks };
  }
}
