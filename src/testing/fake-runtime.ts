import { LlmPool } from '../engines/llm/pool.js';
import type { TtsEngine } from '../engines/tts/types.js';
import { TURN_FALLBACK } from '../engines/turn/types.js';
import type { EngineSet } from '../engines/types.js';
import { silentLogger } from '../log.js';
import { FillerBank } from '../pipeline/fillers.js';
import { SentenceCache } from '../pipeline/sentence-cache.js';
import { Readiness, STAGES } from '../runtime/readiness.js';
import type { Runtime } from '../runtime/runtime.js';
import { superviseEngines } from '../runtime/supervise.js';
import { configSchema, type Config } from '../config.js';
import { FakeLlm, FakeStt, FakeTts } from './fake-engines.js';
import { FakeVad } from './fake-vad.js';

/**
 * A runtime of scripted engines, loaded and warmed (for route and session plumbing tests), behind
 * the same queues and health tracking as the real engines (`engines` settings of `config`, and its
 * sentence cache size).
 */
export async function fakeRuntime(
  engines: Partial<EngineSet> = {},
  config: Pick<Config, 'engines' | 'realtime'> = configSchema.parse({}),
): Promise<Runtime> {
  const tts = new FakeTts();
  const voices = engines.voices ?? new Map<string, TtsEngine>([['fake', tts]]);
  const defaultVoice = engines.defaultVoice ?? [...voices.keys()][0]!;
  const all: EngineSet = {
    vad: engines.vad ?? FakeVad.energy(),
    stt: engines.stt ?? new FakeStt(),
    llm: engines.llm ?? new FakeLlm(),
    voices,
    defaultVoice,
    ...(engines.turn ? { turn: engines.turn } : {}),
  };
  const readiness = new Readiness();
  const infos = {
    vad: all.vad.info,
    stt: all.stt.info,
    llm: all.llm.info,
    tts: voices.get(defaultVoice)!.info,
  };
  for (const stage of STAGES) {
    readiness.loaded(stage, infos[stage]);
    readiness.warmed(stage, 0);
  }
  if (all.turn) {
    readiness.loaded('turn', all.turn.info);
    readiness.warmed('turn', 0);
  } else {
    all.turnUnavailable ??= 'no end-of-turn model in this runtime';
    readiness.failed('turn', new Error(all.turnUnavailable), TURN_FALLBACK);
  }
  return {
    engines: superviseEngines(all, config, readiness, silentLogger),
    fillers: await FillerBank.build(voices, { fr: ['Hum.'] }, silentLogger),
    cache: new SentenceCache(config.realtime.sentenceCacheSize),
    model: 'fake:scripted',
    readiness,
    ...(all.llm instanceof LlmPool ? { llmPool: all.llm } : {}),
    close: () => Promise.resolve(),
  };
}
