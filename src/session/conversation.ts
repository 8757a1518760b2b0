import { ClientEventError } from '../protocol/client-events.js';
import { newId, type Dialect } from '../protocol/server-events.js';
import type { ChatMessage } from '../engines/llm/types.js';

/** A stretch of an assistant item's audio; `text` is empty for a filler (heard, not part of the answer). */
export interface SpokenSpan {
  text: string;
  startMs: number;
  endMs: number;
}

export interface ConversationItem {
  id: string;
  role: 'user' | 'assistant' | 'system';
  status: 'in_progress' | 'completed' | 'incomplete';
  /** Audio items carry a transcript; text items their text. */
  modality: 'audio' | 'text';
  text: string;
  /** Assistant audio: what was sent, span by span, on the item's audio timeline. */
  spans: SpokenSpan[];
  audioMs: number;
  /**
   * The audio sent, when the server cut the item where it estimated playback was (a barge-in
   * without the client's word yet): a `truncate` from the client still applies to all of it.
   */
  sent?: { spans: SpokenSpan[]; audioMs: number };
}

/** Items the LLM sees at most (older ones are left out of the prompt, not deleted). */
const PROMPT_ITEMS = 40;
/** How far the prompt's window moves when it is full (it holds PROMPT_ITEMS - PROMPT_STEP + 1 to PROMPT_ITEMS). */
const PROMPT_STEP = 20;

/** What changed in a conversation since the last `takeChanges()`: what persistence writes. */
export interface ConversationChanges {
  /** Items added, or whose text or status changed. */
  changed: ConversationItem[];
  /** Ids of items deleted (by the client or by eviction). */
  removed: string[];
}

/**
 * The history of one session, as the client sees it and as the LLM is prompted with it. Changes
 * to an item's text or status go through `touch` (or the methods here), so that persistence
 * writes only what changed instead of comparing the whole conversation after every event.
 */
export class Conversation {
  private readonly items: ConversationItem[] = [];
  private readonly changed = new Set<string>();
  private readonly removed = new Set<string>();

  add(
    role: ConversationItem['role'],
    modality: ConversationItem['modality'],
    text = '',
    options: { id?: string; previousItemId?: string | null; status?: ConversationItem['status'] } = {},
  ): { item: ConversationItem; previousItemId: string | null } {
    const id = options.id ?? newId('item');
    if (this.items.some((i) => i.id === id))
      throw new ClientEventError(
        'invalid_event',
        `an item with id ${id} already exists`,
        undefined,
        'item.id',
      );
    let index = this.items.length;
    if (options.previousItemId === null) index = 0;
    else if (options.previousItemId !== undefined) {
      const at = this.items.findIndex((i) => i.id === options.previousItemId);
      if (at < 0)
        throw new ClientEventError(
          'item_not_found',
          `previous_item_id ${options.previousItemId} is not in the conversation`,
          undefined,
          'previous_item_id',
        );
      index = at + 1;
    }
    const item: ConversationItem = {
      id,
      role,
      status: options.status ?? 'completed',
      modality,
      text,
      spans: [],
      audioMs: 0,
    };
    this.items.splice(index, 0, item);
    this.changed.add(id);
    this.removed.delete(id);
    return { item, previousItemId: this.items[index - 1]?.id ?? null };
  }

  /** Marks an item whose text or status changed. */
  touch(item: ConversationItem): void {
    this.changed.add(item.id);
  }

  /** Changes since the last call, which are then forgotten. */
  takeChanges(): ConversationChanges {
    const changed: ConversationItem[] = [];
    for (const item of this.items) if (this.changed.has(item.id)) changed.push(item);
    const removed = [...this.removed];
    this.changed.clear();
    this.removed.clear();
    return { changed, removed };
  }

  /**
   * Removes the oldest items while there are more than `maxItems` or more than `maxChars` of text
   * (an item being written, and the newest item, always stay). Returns the removed items.
   */
  evict(maxItems: number, maxChars: number): ConversationItem[] {
    let chars = 0;
    for (const i of this.items) chars += i.text.length;
    const evicted: ConversationItem[] = [];
    while (this.items.length > 1 && (this.items.length > maxItems || chars > maxChars)) {
      if (this.items[0]!.status === 'in_progress') break;
      const item = this.items.shift()!;
      chars -= item.text.length;
      this.forget(item.id);
      evicted.push(item);
    }
    return evicted;
  }

  get(id: string): ConversationItem {
    const item = this.items.find((i) => i.id === id);
    if (!item)
      throw new ClientEventError(
        'item_not_found',
        `no item with id ${id.slice(0, 80)}`,
        undefined,
        'item_id',
      );
    return item;
  }

  delete(id: string): void {
    this.items.splice(this.items.indexOf(this.get(id)), 1);
    this.forget(id);
  }

  private forget(id: string) {
    this.changed.delete(id);
    this.removed.add(id);
  }

  get length(): number {
    return this.items.length;
  }

  all(): readonly ConversationItem[] {
    return this.items;
  }

  /**
   * Keeps only the first `audioEndMs` of an assistant item's audio: the text becomes what the user
   * heard (whole spans, then the heard share of the words of the span cut through). `estimate`:
   * the server's guess of what was played, with `sentMs` the audio really sent (a sentence's audio
   * counts in `audioMs` from its first chunk); a later truncate by the client counts from all the
   * audio sent, not from that guess.
   */
  truncate(
    id: string,
    audioEndMs: number,
    by: 'client' | 'estimate' = 'client',
    sentMs = Infinity,
  ): ConversationItem {
    const item = this.get(id);
    this.checkTruncate(item, audioEndMs);
    const sent = item.sent ?? { spans: item.spans, audioMs: Math.min(item.audioMs, sentMs) };
    item.spans = sent.spans
      .filter((s) => s.startMs < audioEndMs)
      .map((s) =>
        s.endMs <= audioEndMs ? s : { ...s, text: heardText([s], audioEndMs), endMs: audioEndMs },
      );
    item.text = item.spans
      .map((s) => s.text)
      .filter((t) => t !== '')
      .join(' ');
    item.audioMs = Math.min(sent.audioMs, audioEndMs);
    if (by === 'estimate') item.sent = sent;
    else delete item.sent;
    item.status = 'incomplete';
    this.touch(item);
    return item;
  }

  /** Throws the precise refusal of a truncate, changing nothing. */
  checkTruncate(item: ConversationItem, audioEndMs: number): void {
    if (item.role !== 'assistant' || item.modality !== 'audio')
      throw new ClientEventError(
        'item_not_truncatable',
        `item ${item.id} is not assistant audio`,
        undefined,
        'item_id',
      );
    const sentMs = item.sent?.audioMs ?? item.audioMs;
    if (audioEndMs > sentMs + 1)
      throw new ClientEventError(
        'item_not_truncatable',
        `audio_end_ms ${audioEndMs} is beyond the ${Math.round(sentMs)} ms of audio sent`,
        undefined,
        'audio_end_ms',
      );
  }

  /**
   * The prompt: system instructions, then the latest items with text; with `nextUserText`, as it
   * will be once the user's turn being heard is added with that transcript.
   */
  messages(instructions: string, nextUserText?: string): ChatMessage[] {
    const items: { role: ConversationItem['role']; text: string }[] = this.items.filter(
      (i) => i.text.trim() !== '',
    );
    if (nextUserText) items.push({ role: 'user', text: nextUserText });
    // The window's start moves PROMPT_STEP items at a time, not one per turn: the prompt's
    // beginning stays the same for many turns, so the LLM keeps reusing what it read of it.
    const start = Math.max(0, Math.ceil((items.length - PROMPT_ITEMS) / PROMPT_STEP) * PROMPT_STEP);
    const history = items.slice(start).map((i) => ({ role: i.role, content: i.text }));
    return instructions ? [{ role: 'system', content: instructions }, ...history] : history;
  }
}

export function heardText(spans: SpokenSpan[], audioEndMs: number): string {
  const parts: string[] = [];
  for (const s of spans) {
    if (s.text === '' || s.startMs >= audioEndMs) continue;
    if (s.endMs <= audioEndMs) parts.push(s.text);
    else {
      const words = s.text.split(/\s+/);
      const share = (audioEndMs - s.startMs) / (s.endMs - s.startMs);
      const kept = words.slice(0, Math.floor(words.length * share));
      if (kept.length > 0) parts.push(`${kept.join(' ')}…`);
    }
  }
  return parts.join(' ');
}

/** An item as the protocol shows it. */
export function renderItem(item: ConversationItem, dialect: Dialect) {
  const ga = dialect === 'ga';
  let content;
  if (item.role === 'assistant')
    content =
      item.modality === 'audio'
        ? [{ type: ga ? 'output_audio' : 'audio', transcript: item.text }]
        : [{ type: ga ? 'output_text' : 'text', text: item.text }];
  else
    content =
      item.modality === 'audio'
        ? [{ type: 'input_audio', transcript: item.text || null }]
        : [{ type: 'input_text', text: item.text }];
  return {
    id: item.id,
    object: 'realtime.item',
    type: 'message',
    role: item.role,
    status: item.status,
    content,
  };
}
