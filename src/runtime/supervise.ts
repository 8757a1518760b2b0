import type { Config } from '../config.js';
import { LaneQueue, LivePriority } from '../engines/lanes.js';
import { LlmPool } from '../engines/llm/pool.js';
import { ScheduledLlm, ScheduledTts, WatchedStt } from '../engines/scheduled.js';
import type { WhisperStt } from '../engines/stt/whisper.js';
import type { TtsEngine } from '../engines/tts/types.js';
import type { EngineSet } from '../engines/types.js';
import type { Logger } from '../log.js';
import { EngineHealth } from './engine-health.js';
import type { Readiness, Stage } from './readiness.js';

/**
 * The engines as requests and sessions use them once loaded: the LLM and each voice behind a lane
 * queue (voice turns first, a bounded HTTP lane), one live priority over them and whisper's own
 * queue (HTTP work holds back while a voice turn runs anywhere), and every STT, LLM and TTS job
 * watched, so a stuck or failing engine turns `/ready` to 503 with its name.
 */
export function superviseEngines(
  engines: EngineSet,
  config: Pick<Config, 'engines'>,
  readiness: Readiness,
  logger: Logger,
): EngineSet {
  const c = config.engines;
  const livePriority = new LivePriority();
  const health = (stage: Stage) => new EngineHealth(stage, readiness, c, logger);
  const ttsHealth = health('tts');
  const voices = new Map<string, TtsEngine>();
  const voiceQueues: LaneQueue[] = [];
  for (const [id, tts] of engines.voices) {
    const queue = new LaneQueue({ name: `voice ${id}`, maxBatchWaiting: c.maxQueuedHttpJobs, livePriority });
    voiceQueues.push(queue);
    voices.set(id, new ScheduledTts(tts, queue, ttsHealth));
  }
  const llmQueue = new LaneQueue({
    name: engines.llm.info.engine,
    // A pool answers llmParallel at once on each of its servers.
    capacity: c.llmParallel * (engines.llm instanceof LlmPool ? engines.llm.size : 1),
    maxBatchWaiting: c.maxQueuedHttpJobs,
    livePriority,
  });
  const stt = new WatchedStt(engines.stt, health('stt'));
  stt.useLivePriority(livePriority);
  const sttWaits = (engines.stt as Partial<Pick<WhisperStt, 'waits'>>).waits;
  return {
    ...engines,
    stt,
    llm: new ScheduledLlm(engines.llm, llmQueue, health('llm')),
    voices,
    queues: [
      ...(sttWaits ? [{ stage: 'stt' as const, waits: sttWaits }] : []),
      { stage: 'llm', waits: llmQueue.waits },
      ...voiceQueues.map((q) => ({ stage: 'tts' as const, waits: q.waits })),
    ],
  };
}
