import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The subset of @fugood/whisper.node's native API this service uses. */
export interface NativeTranscribeOptions {
  language?: string;
  maxThreads?: number;
  audioCtx?: number;
  /** > 1 selects beam search (patched in by scripts/build-whisper.sh). */
  beamSize?: number;
  temperature?: number;
  /** 0 turns off whisper.cpp's re-decoding at higher temperatures when a decode looks wrong. */
  temperatureInc?: number;
  /** Tokens per segment at most (patched in by scripts/build-whisper.sh); 0 = no limit. */
  maxTokens?: number;
  translate?: boolean;
}

export interface NativeTranscribeResult {
  result: string;
  language?: string;
  segments: { text: string; t0: number; t1: number }[];
  isAborted: boolean;
}

export interface NativeWhisperContext {
  transcribeData(
    pcm16: ArrayBuffer,
    options: NativeTranscribeOptions,
  ): { stop: () => Promise<void> | void; promise: Promise<NativeTranscribeResult> };
  release(): Promise<void>;
}

export interface NativeWhisperModule {
  WhisperContext: {
    new (options: { filePath: string; useGpu: boolean }): NativeWhisperContext;
    toggleNativeLog(enable: boolean, callback?: (level: string, text: string) => void): void;
  };
}

const require = createRequire(import.meta.url);

/** The addon scripts/build-whisper.sh compiles for this CPU (the npm prebuilt has no AVX). */
export const HOST_ADDON = fileURLToPath(new URL('../../../native/whisper/index.node', import.meta.url));
/** Its CUDA variant, built beside it when the CUDA toolkit is there (WHISPER_CUDA, nvcc). */
export const CUDA_ADDON = fileURLToPath(new URL('../../../native/whisper-cuda/index.node', import.meta.url));
const CUDA_PACKAGE = '@fugood/node-whisper-linux-x64-cuda';

export function loadHostAddon(): NativeWhisperModule {
  if (!existsSync(HOST_ADDON))
    throw new Error(
      `whisper.cpp addon not built for this machine (${HOST_ADDON}); run: bash scripts/build-whisper.sh`,
    );
  return require(HOST_ADDON) as NativeWhisperModule;
}

/**
 * The CUDA addon built here (with this project's patches: mid-graph abort, audioCtx, maxTokens,
 * beam search), else the CUDA build published by @fugood (an optional package, without them).
 */
export function loadCudaAddon(): NativeWhisperModule {
  if (existsSync(CUDA_ADDON)) return require(CUDA_ADDON) as NativeWhisperModule;
  return require(CUDA_PACKAGE) as NativeWhisperModule;
}
