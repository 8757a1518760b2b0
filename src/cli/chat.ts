import { createInterface } from 'node:readline';
import { loadLlm } from '../engines/factory.js';
import type { ChatMessage } from '../engines/llm/types.js';
import { createContext, parse } from './context.js';
import { USAGE } from './usage.js';

export const usage = USAGE.chat;

const DEFAULT_SYSTEM =
  'Tu es un assistant vocal serviable. Réponds brièvement, en français sauf si on te parle une autre langue.';

/**
 * Text chat with the configured LLM, streamed. History is kept for the session; Ctrl-C stops the
 * answer being written (not the program); Ctrl-D or /exit quits.
 */
export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { system: { type: 'string' } }, usage);
  if (values.help) {
    process.stdout.write(
      `usage: ${usage}\nStreamed text chat with the configured LLM. Ctrl-C stops an answer; Ctrl-D or /exit quits.\n`,
    );
    return 0;
  }
  const ctx = createContext(values);
  const llm = await loadLlm(ctx.config, ctx.models, ctx.logger);
  const tty = process.stdin.isTTY;
  process.stderr.write(
    `voice chat: ${llm.info.engine}, model ${llm.info.model} (Ctrl-C stops an answer, Ctrl-D quits)\n`,
  );
  const history: ChatMessage[] = [{ role: 'system', content: values.system ?? DEFAULT_SYSTEM }];
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: tty });
  let current: AbortController | undefined;
  const interrupt = () => {
    if (current) current.abort();
    else if (tty) process.stdout.write('\n(Ctrl-D or /exit to quit)\n> ');
  };
  rl.on('SIGINT', interrupt);
  process.on('SIGINT', interrupt);
  const prompt = () => tty && rl.prompt();
  rl.setPrompt('> ');
  prompt();
  for await (const line of rl) {
    const text = line.trim();
    if (text === '/exit') break;
    if (text === '') {
      prompt();
      continue;
    }
    history.push({ role: 'user', content: text });
    current = new AbortController();
    let answer = '';
    for await (const event of llm.chat(history, { signal: current.signal })) {
      if (event.type === 'delta') {
        answer += event.text;
        process.stdout.write(event.text);
      } else if (event.finishReason === 'aborted') process.stdout.write(' [stopped]');
    }
    current = undefined;
    process.stdout.write('\n');
    // The history keeps what was written, even of a stopped answer.
    history.push({ role: 'assistant', content: answer });
    prompt();
  }
  rl.close();
  await llm.close();
  return 0;
}
