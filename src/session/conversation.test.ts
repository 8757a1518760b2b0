import { describe, expect, it } from 'vitest';
import { Conversation } from './conversation.js';

describe('Conversation.messages: the prompt', () => {
  it('promptWindowMovesInSteps: past 40 items the window jumps 20 items at a time, so its start (the LLM’s cached prefix) stays put between jumps', () => {
    const c = new Conversation();
    const firstOf = () => c.messages('').at(0)!.content;
    for (let i = 0; i < 40; i++) c.add(i % 2 ? 'assistant' : 'user', 'text', `m${i}`);
    expect(c.messages('')).toHaveLength(40);
    expect(firstOf()).toBe('m0');
    c.add('user', 'text', 'm40');
    expect(firstOf()).toBe('m20');
    for (let i = 41; i < 60; i++) {
      c.add(i % 2 ? 'assistant' : 'user', 'text', `m${i}`);
      expect(firstOf()).toBe('m20');
    }
    c.add('user', 'text', 'm60');
    expect(firstOf()).toBe('m40');
    expect(c.messages('Sois bref.').at(0)).toEqual({ role: 'system', content: 'Sois bref.' });
  });

  it('with the turn being heard: its transcript comes last, as once it is added', () => {
    const c = new Conversation();
    c.add('user', 'text', 'Bonjour');
    c.add('assistant', 'text', 'Bonjour !');
    c.add('user', 'audio', ''); // committed, not transcribed yet: not in the prompt
    expect(c.messages('', 'Quelle heure est-il ?').map((m) => m.content)).toEqual([
      'Bonjour',
      'Bonjour !',
      'Quelle heure est-il ?',
    ]);
  });
});
