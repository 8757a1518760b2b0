import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resample } from '../src/audio/resample.js';
import { float32ToInt16 } from '../src/audio/pcm.js';
import { encodeWav, readWav } from '../src/audio/wav.js';
import { MODELS_DIR, TESTAUDIO_DIR, requireSharedAssets } from './helpers.js';

requireSharedAssets();
const tmp = mkdtempSync(join(tmpdir(), 'voice-cli-'));

function voice(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['bin/voice.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, MODELS_DIR, VOICE_STT_THREADS: '2', ...env },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One line on stderr, no stack trace, non-zero exit. */
function expectOneLineError(r: ReturnType<typeof voice>, pattern: RegExp) {
  expect(r.code).not.toBe(0);
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('voice CLI', () => {
  it('transcribe prints only the transcript', () => {
    const r = voice(['transcribe', join(TESTAUDIO_DIR, 'fr/s2p_jlo/jlo_30_ouvre_tous_les_volets.wav')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Ouvre tous les volets.\n');
  });

  it('transcribe reads a 48 kHz stereo WAV and takes --language', async () => {
    const jfk = await readWav(join(TESTAUDIO_DIR, 'en/wcpp_jfk.wav'));
    const mono48 = float32ToInt16(resample(jfk.samples, 16000, 48000));
    const stereo = new Int16Array(mono48.length * 2);
    mono48.forEach((s, i) => {
      stereo[2 * i] = s;
      stereo[2 * i + 1] = s;
    });
    const file = join(tmp, 'jfk48-stereo.wav');
    const buf = encodeWav(stereo, 48000);
    buf.writeUInt16LE(2, 22); // channels
    buf.writeUInt32LE(48000 * 4, 28); // byte rate
    buf.writeUInt16LE(4, 32); // block align
    writeFileSync(file, buf);
    const r = voice(['transcribe', file, '--language', 'en']);
    expect(r.code).toBe(0);
    expect(r.stdout.toLowerCase()).toContain('ask not what your country can do for you');
  });

  it('transcribe gives empty text on noise', () => {
    const r = voice(['transcribe', join(TESTAUDIO_DIR, 'vad/leopard_empty_noise.wav')]);
    expect(r).toMatchObject({ code: 0, stdout: '\n' });
  });

  it('bad input: one line and a non-zero exit', () => {
    expectOneLineError(
      voice(['transcribe', join(tmp, 'nope.wav')]),
      /nope\.wav: no such file \[file_not_found\]/,
    );
    const text = join(tmp, 'notes.wav');
    writeFileSync(text, 'these are not samples');
    expectOneLineError(voice(['transcribe', text]), /not a WAV file/);
    const empty = join(tmp, 'empty.wav');
    writeFileSync(empty, encodeWav(new Int16Array(0), 16000));
    expectOneLineError(voice(['vad', empty]), /holds no audio samples \[empty_audio\]/);
    const alaw = join(tmp, 'alaw.wav');
    const b = encodeWav(new Int16Array(100), 8000);
    b.writeUInt16LE(6, 20);
    writeFileSync(alaw, b);
    expectOneLineError(
      voice(['transcribe', alaw]),
      /encoding 6 \(A-law\) is not supported .*\[unsupported_audio_format\]/,
    );
    expectOneLineError(voice(['transcribe']), /expected one WAV file/);
    expectOneLineError(voice(['transcribe', 'a.wav', '--lang', 'fr']), /Unknown option '--lang'/);
    expectOneLineError(voice(['frobnicate']), /unknown command "frobnicate"/);
    expectOneLineError(voice(['bench', 'speed']), /expected one benchmark: triade/);
    expectOneLineError(
      voice(['vad', join(TESTAUDIO_DIR, 'vad/cobra_sample.wav'), '--threshold', 'high']),
      /--threshold expects a number/,
    );
  });

  it('an invalid config value names the field and the accepted values', () => {
    expectOneLineError(
      voice(['transcribe', join(TESTAUDIO_DIR, 'en/wcpp_jfk.wav')], { VOICE_STT_DEVICE: 'tpu' }),
      /stt\.device \(VOICE_STT_DEVICE\) = "tpu" .* expected one of cpu, cuda/,
    );
  });

  it('vad prints one line per segment, start and end in seconds', () => {
    const r = voice(['vad', join(TESTAUDIO_DIR, 'vad/cobra_sample.wav')]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    for (const line of lines) expect(line).toMatch(/^\d+\.\d{3}\t\d+\.\d{3}$/);
  });

  it('a missing model names the file, the expected sha256 and the fixing command', () => {
    const empty = mkdtempSync(join(tmpdir(), 'voice-nomodels-'));
    const r = voice(['transcribe', join(TESTAUDIO_DIR, 'en/wcpp_jfk.wav')], { MODELS_DIR: empty });
    expectOneLineError(
      r,
      /silero_vad\.onnx not found .*expected sha256 1a153a22.*voice models fetch silero_vad/,
    );
  });

  it('doctor reports each engine ready, with device, model and load time', () => {
    const r = voice(['doctor'], { OLLAMA_HOST: '127.0.0.1:9' });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^vad\s+ready\s+silero-vad, model silero_vad, cpu, 1 thread\(s\), loaded in \d+ ms$/m,
    );
    expect(r.stdout).toMatch(
      /^stt\s+ready\s+whisper\.cpp, model ggml-base-q5_1, cpu, 2 thread\(s\), loaded in \d+ ms$/m,
    );
    expect(r.stdout).toMatch(
      /^llm\s+ready\s+llama\.cpp, model SmolLM2-135M-Instruct\.Q4_1, cpu, 1 thread\(s\), loaded in \d+ ms; auto: Ollama not usable \(no Ollama server answers at http:\/\/127\.0\.0\.1:9/m,
    );
    expect(r.stdout).toMatch(/^tts\s+ready\s+espeak-ng, model fr, cpu, 1 thread\(s\), loaded in \d+ ms$/m);
  });

  it('doctor says why an engine is not ready, and falls back from CUDA (Whisper, llama.cpp) with a warning', () => {
    const empty = mkdtempSync(join(tmpdir(), 'voice-nomodels-'));
    const r = voice(['doctor'], { MODELS_DIR: empty });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^stt\s+NOT READY\s+model ggml-base-q5_1: .*voice models fetch ggml-base-q5_1/m);
    const cuda = voice(['doctor'], {
      VOICE_STT_DEVICE: 'cuda',
      VOICE_LLM_ENGINE: 'llamacpp',
      VOICE_LLM_DEVICE: 'cuda',
    });
    expect(cuda.code).toBe(0);
    expect(cuda.stdout).toMatch(
      /^stt\s+ready\s+whisper\.cpp, model ggml-base-q5_1, cpu \(asked for cuda: CUDA build of whisper\.cpp not available/m,
    );
    expect(cuda.stdout).toMatch(
      /^llm\s+ready\s+llama\.cpp, model SmolLM2-135M-Instruct\.Q4_1, cpu \(asked for cuda: CUDA build of llama\.cpp not available/m,
    );
    expect(cuda.stderr.match(/STT falls back to CPU/g)).toHaveLength(1);
    expect(cuda.stderr.match(/LLM falls back to CPU/g)).toHaveLength(1);
  });

  it('doctor: a missing or wrong end-of-turn model is DEGRADED (server_vad), not a failure', () => {
    const ok = voice(['doctor']);
    expect(ok.stdout).toMatch(/^turn\s+ready\s+smart-turn, model smart-turn-v3.2-cpu, cpu, 1 thread/m);
    // A model that is not Smart Turn (the VAD's file) stands for a corrupt one.
    const wrong = voice(['doctor'], { VOICE_TURNS_MODEL: 'silero_vad' });
    expect(wrong.code).toBe(0);
    expect(wrong.stdout).toMatch(
      /^turn\s+DEGRADED model silero_vad: .*not a Smart Turn v3 model.*server_vad/m,
    );
  });

  it('transcribe --format srt prints subtitles; an unknown format is refused', () => {
    const file = join(TESTAUDIO_DIR, 'en/wcpp_jfk.wav');
    const srt = voice(['transcribe', file, '--language', 'en', '--format', 'srt']);
    expect(srt.code).toBe(0);
    expect(srt.stdout).toMatch(/^1\n00:00:00,\d{3} --> 00:00:\d\d,\d{3}\n.*ask not/s);
    expectOneLineError(voice(['transcribe', file, '--format', 'mp3']), /--format takes text, json, srt, vtt/);
  });

  it('say writes a WAV that transcribe reads back; espeak French by default', () => {
    const out = join(tmp, 'say.wav');
    const r = voice(['say', 'The kitchen lights are on.', '--voice', 'en_US-joe-medium', '-o', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/piper en_US-joe-medium, [\d.]+ s at 22050 Hz/);
    expect(voice(['transcribe', out, '--language', 'en']).stdout.toLowerCase()).toContain(
      'kitchen lights are on',
    );
    const fr = voice(['say', 'Bonjour.', '-o', join(tmp, 'fr.wav')]);
    expect(fr.stderr).toMatch(/espeak-ng fr, /);
    expectOneLineError(voice(['say', '-o', out]), /nothing to say/);
    expectOneLineError(
      voice(['say', 'x', '-o', out, '--voice', 'fr_FR-siwis-medium']),
      /voice models fetch fr_FR-siwis-medium/,
    );
  });

  it('models list shows present and missing models', () => {
    const r = voice(['models', 'list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ggml-base-q5_1\s+present\s+whisper/m);
    expect(r.stdout).toMatch(/^silero_vad\s+present\s+silero-vad/m);
    expect(r.stdout).toMatch(/^ggml-large-v3-turbo\s+missing\s+whisper/m);
  });

  it('models import copies verified files into the models folder', () => {
    const target = mkdtempSync(join(tmpdir(), 'voice-import-'));
    const r = voice(['models', 'import', MODELS_DIR], { MODELS_DIR: target });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^silero_vad\.onnx: imported/m);
    expect(voice(['models', 'list'], { MODELS_DIR: target }).stdout).toMatch(/^silero_vad\s+present/m);
  });

  it('serve answers /health on the port it was given', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(
      process.execPath,
      ['bin/voice.js', 'serve', '--host', '127.0.0.1', '--port', String(port)],
      {
        env: { ...process.env, MODELS_DIR },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      let body: unknown;
      for (let i = 0; i < 100 && body === undefined; i++) {
        await new Promise((r) => setTimeout(r, 100));
        body = await fetch(`http://127.0.0.1:${port}/health`).then(
          (res) => res.json(),
          () => undefined,
        );
      }
      expect(body).toMatchObject({ status: 'ok' });
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
  });

  it('sigtermOnceTheLlmLoadedExitsZero: a library re-raising the signal does not kill the shutdown', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = spawn(process.execPath, ['bin/voice.js', 'serve', '--port', String(port)], {
      env: { ...process.env, MODELS_DIR, VOICE_LLM_ENGINE: 'llamacpp', VOICE_STORE_PATH: ':memory:' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<[number | null, string | null]>((r) => child.on('exit', (c, s) => r([c, s])));
    try {
      let status = 0;
      for (let i = 0; i < 300 && status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 100));
        status = await fetch(`http://127.0.0.1:${port}/ready`).then(
          (res) => res.status,
          () => 0,
        );
      }
      expect(status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    // Before: signal-exit (node-llama-cpp's dependencies) found no other SIGTERM listener once
    // ours, registered with `once`, had run, and re-raised the signal: exit null, SIGTERM.
    expect(await exited).toEqual([0, null]);
  });
});
