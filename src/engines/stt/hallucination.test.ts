import { describe, expect, it } from 'vitest';
import { filterHallucination, isKnownHallucination, stripAnnotations } from './hallucination.js';

describe('hallucination filter', () => {
  it('always removes bracketed annotations', () => {
    expect(stripAnnotations('[rires] Allume la lumière (musique) ♪')).toBe('Allume la lumière');
    expect(filterHallucination(' [Musique] ', -20)).toEqual({ text: '', dropped: true });
  });

  it('recognises the subtitle credits Whisper invents, whatever the punctuation and case', () => {
    expect(isKnownHallucination("Sous-titres réalisés par la communauté d'Amara.org")).toBe(true);
    expect(isKnownHallucination('  Merci d’avoir regardé !')).toBe(true);
    expect(isKnownHallucination('Générique')).toBe(true);
    expect(isKnownHallucination('Allume la lumière')).toBe(false);
  });

  it('drops known phrases on low-energy audio only', () => {
    expect(filterHallucination('Merci.', -55)).toEqual({ text: '', dropped: true });
    expect(filterHallucination('Merci.', -22)).toEqual({ text: 'Merci.', dropped: false });
    expect(filterHallucination('Ferme les volets.', -55)).toEqual({
      text: 'Ferme les volets.',
      dropped: false,
    });
  });
});
