import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MODELS_DIR, requireSharedAssets } from './helpers.js';

requireSharedAssets();

describe('voice chat', () => {
  it('streams answers, keeps going after Ctrl-C stops one, quits on /exit', async () => {
    const child = spawn(process.execPath, ['bin/voice.js', 'chat', '--system', 'You are a storyteller.'], {
      env: { ...process.env, MODELS_DIR, VOICE_LLM_ENGINE: 'llamacpp', VOICE_LLM_MAX_TOKENS: '400' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const waitFor = async (cond: () => boolean, what: string) => {
      for (let i = 0; i < 600 && !cond(); i++) await new Promise((r) => setTimeout(r, 50));
      if (!cond()) throw new Error(`timed out waiting for ${what}; stdout: ${out}; stderr: ${err}`);
    };
    child.stdin.write('Tell me a very long story about a dragon.\n');
    await waitFor(() => out.length > 20, 'the answer to start');
    child.kill('SIGINT');
    await waitFor(() => out.includes('[stopped]'), 'the answer to stop');
    expect(child.exitCode).toBeNull();
    const before = out.length;
    child.stdin.write('What is the capital of France?\n');
    await waitFor(() => out.length > before + 5 && out.endsWith('\n'), 'a second answer');
    child.stdin.write('/exit\n');
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
    expect(err).toMatch(/voice chat: llama\.cpp, model SmolLM2-135M-Instruct\.Q4_1/);
  });
});
