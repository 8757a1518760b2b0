import { configMarkdown, redactSecrets } from '../config.js';
import { createContext, parse } from './context.js';
import { USAGE } from './usage.js';

export const usage = USAGE.config;

/** Prints the effective configuration (JSON), or the documentation table of every field. */
export function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, { markdown: { type: 'boolean' } }, usage);
  if (values.help) process.stdout.write(`usage: ${usage}\n`);
  else if (values.markdown) process.stdout.write(configMarkdown());
  else {
    const { config } = createContext(values);
    process.stdout.write(JSON.stringify(redactSecrets(config), null, 2) + '\n');
  }
  return Promise.resolve(0);
}
