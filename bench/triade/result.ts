import type { HerChatStep, SessionStep } from './capacity.js';
import type { Connectivity } from './probes.js';
import { percentile } from '../lib.js';
import type { AspectScore, Profile } from './score.js';

/** One figure's raw values (ms unless said), with its p50 and p95 for the report. */
export interface Series {
  values: number[];
  p50: number;
  p95: number;
}

/** What `bench:triade` writes to bench/results/<timestamp>.json. */
export interface TriadeResult {
  version: 1;
  at: string;
  command: string;
  /** `VOICE_*` settings of the bench's environment (the service it starts reads them). */
  environment?: Record<string, string>;
  machine: string;
  profile: Profile;
  quick: boolean;
  /** The service measured: `started` (by the bench, from compiled JavaScript) or the --url given. */
  target: string;
  engines: Record<string, string>;
  gpu: { devices: string; utilizationMax?: number; memoryMaxMiB?: number } | null;
  latence: {
    coldStartMs?: number;
    listeningMs?: number;
    chatFirstToken: Series;
    chatTotal: Series;
    ttsFirstByte: Series;
    ttsTotal: Series;
  };
  streaming: {
    /** Voice turns over /v1/realtime, client clock from the user's last word. */
    turns: number;
    lastWordToCommitted: Series;
    lastWordToTranscript: Series;
    lastWordToFirstAudio: Series;
    lastWordToFirstAnswerAudio: Series;
    committedToFirstAudio: Series;
    /** The same turns over /ws/chat (the seed's path, same protocol). */
    wsChatTurns: number;
    wsChatFirstAnswerAudio: Series;
    herChatFirstAudio: Series;
    herChatTotal: Series;
    underrunsPerTurn: number;
    fillerGap: Series;
    transcriptWer: number;
  };
  connectivite: Connectivity & {
    timeoutsAll: number;
    healthStatus: number;
    readyStatus: number;
    healthMs: number;
  };
  humanite: {
    fillersPerTurn: number;
    bargeIn: Series;
    missedBargeIns: number;
    roundTripWer: number;
    /** Each answer as written and as Whisper heard the voice say it. */
    roundTrip: { said: string; heard: string }[];
    /** The same round trip on the /tts sentences (written French, not the LLM's). */
    voiceWer: number;
    pausesHeld: number;
    pauses: number;
  };
  qualite: { sttWer: number; sttWords: number; clips: number; tests?: { passed: number; failed: number } };
  capacite: {
    sessions: SessionStep[];
    knee: number;
    kneeMs: number;
    herChat: HerChatStep[];
    herChatKnee: number;
  };
  scores: AspectScore[];
  total: number;
}

export const toSeries = (values: number[]): Series => ({
  values,
  p50: percentile(values, 50),
  p95: percentile(values, 95),
});
