/**
 * The conversation state of a session, stored explicitly (never inferred from flags):
 *
 *   listening ──speech──▶ user_speaking ──turn end──▶ thinking ──first audio──▶ speaking
 *       ▲                     │  ▲                        │                        │
 *       └──── too short ──────┘  └── barge-in ── interrupted ◀── cancel ──────────┘
 *       ▲                                                 │
 *       └────────────── response done / failed / cancelled ┘
 */
export type SessionState = 'listening' | 'user_speaking' | 'thinking' | 'speaking' | 'interrupted';

const ALLOWED: Record<SessionState, readonly SessionState[]> = {
  listening: ['user_speaking', 'thinking'],
  // thinking: the turn ended; listening: the speech was dropped (cleared, too short, no response).
  user_speaking: ['thinking', 'listening'],
  // user_speaking (from thinking or speaking): the response ended while the user was speaking
  // without interrupting it (interrupt_response off).
  thinking: ['speaking', 'interrupted', 'listening', 'user_speaking'],
  speaking: ['interrupted', 'listening', 'user_speaking'],
  interrupted: ['listening', 'user_speaking', 'thinking'],
};

export class InvalidTransition extends Error {
  override name = 'InvalidTransition';
}

export class SessionStateMachine {
  private current: SessionState = 'listening';
  private readonly listeners: ((from: SessionState, to: SessionState, reason: string) => void)[] = [];

  get state(): SessionState {
    return this.current;
  }

  /** Moves to `to`; a transition the diagram does not have is a bug and throws. */
  to(to: SessionState, reason: string): void {
    const from = this.current;
    if (from === to) return;
    if (!ALLOWED[from].includes(to)) throw new InvalidTransition(`${from} → ${to} (${reason})`);
    this.current = to;
    for (const l of this.listeners) l(from, to, reason);
  }

  /** Recovery after a bug (a refused transition): moves to `to` whatever the state is. */
  reset(to: SessionState, reason: string): void {
    const from = this.current;
    this.current = to;
    if (from !== to) for (const l of this.listeners) l(from, to, reason);
  }

  can(to: SessionState): boolean {
    return this.current === to || ALLOWED[this.current].includes(to);
  }

  onChange(listener: (from: SessionState, to: SessionState, reason: string) => void): void {
    this.listeners.push(listener);
  }
}
