import type { Conversation, ConversationItem } from '../session/conversation.js';
import type { UpstreamEvent } from './upstream-client.js';

interface UpstreamItem {
  id: string;
  type: string;
  role?: 'user' | 'assistant' | 'system';
  status?: ConversationItem['status'];
  content?: { type: string; text?: string | null; transcript?: string | null }[];
}

/**
 * The upstream's conversation, mirrored into this server's `Conversation` from its events: what is
 * stored, and what a local session continues with if the upstream goes away. Items the client
 * already has (the history replayed upstream) are not announced to it a second time.
 */
export class UpstreamMirror {
  /** Items the client already knows of: their created/added/done events are not forwarded. */
  readonly known = new Set<string>();

  constructor(private readonly conversation: Conversation) {
    for (const item of conversation.all()) this.known.add(item.id);
  }

  /** Updates the conversation from `event`; false when the client must not get it. */
  apply(event: UpstreamEvent): boolean {
    const e = event as Record<string, unknown>;
    switch (event.type) {
      case 'conversation.item.created':
      case 'conversation.item.added':
      case 'conversation.item.done': {
        const item = e.item as UpstreamItem;
        if (this.known.has(item.id)) return false;
        if (item.type === 'message') this.upsert(item);
        if (event.type === 'conversation.item.done') this.known.add(item.id);
        return true;
      }
      case 'response.output_item.done': {
        const item = e.item as UpstreamItem;
        if (item.type === 'message') this.upsert(item);
        return true;
      }
      case 'conversation.item.input_audio_transcription.completed':
        this.setText(String(e.item_id), typeof e.transcript === 'string' ? e.transcript : '');
        return true;
      case 'response.output_audio_transcript.delta':
      case 'response.output_text.delta': {
        const item = this.find(String(e.item_id));
        if (item) {
          if (typeof e.delta === 'string') item.text += e.delta;
          this.conversation.touch(item);
        }
        return true;
      }
      case 'conversation.item.truncated': {
        const item = this.find(String(e.item_id));
        if (item?.modality === 'audio' && item.role === 'assistant') {
          this.settleSpans(item);
          this.conversation.truncate(item.id, Math.min(Number(e.audio_end_ms), item.audioMs));
        }
        return true;
      }
      case 'conversation.item.deleted':
        if (this.find(String(e.item_id))) this.conversation.delete(String(e.item_id));
        return true;
      default:
        return true;
    }
  }

  /** Answer audio of an item arrived: `ms` more of it was sent to the client. */
  audio(itemId: string, ms: number): void {
    const item = this.find(itemId);
    if (item) item.audioMs += ms;
  }

  /** The upstream went away mid-answer: items being written end incomplete, with what was received. */
  interrupted(): void {
    for (const item of this.conversation.all())
      if (item.status === 'in_progress') {
        item.status = 'incomplete';
        this.settleSpans(item);
        this.conversation.touch(item);
      }
  }

  private upsert(item: UpstreamItem): void {
    const parts = item.content ?? [];
    const text = parts.map((p) => p.text ?? p.transcript ?? '').join('');
    const audio = parts.some((p) => /audio/.test(p.type));
    const mine = this.find(item.id);
    if (!mine) {
      if (item.role)
        this.conversation.add(item.role, audio ? 'audio' : 'text', text, {
          id: item.id,
          status: item.status ?? 'completed',
        });
      return;
    }
    if (text !== '') mine.text = text;
    if (item.status) mine.status = item.status;
    if (mine.role === 'assistant') this.settleSpans(mine);
    this.conversation.touch(mine);
  }

  private setText(id: string, text: string): void {
    const item = this.find(id);
    if (!item) return;
    item.text = text;
    this.conversation.touch(item);
  }

  /** The whole text as one span over the audio sent: truncation keeps the heard share of its words. */
  private settleSpans(item: ConversationItem): void {
    item.spans = [{ text: item.text, startMs: 0, endMs: item.audioMs }];
  }

  private find(id: string): ConversationItem | undefined {
    return this.conversation.all().find((i) => i.id === id);
  }
}
