/**
 * Whisper writes plausible text on silence, noise and laughter: subtitle credits and outros it saw
 * in training. Bracketed annotations ("[rires]", "(musique)", "♪") are never speech and are always
 * removed; the known phrases are dropped when the audio is low-energy, where they are all but
 * certainly invented (a person may really say "Merci.", loudly).
 */
const KNOWN_PHRASES = [
  "sous-titres réalisés par la communauté d'amara.org",
  'sous-titres réalisés para la communauté d’amara.org',
  'sous-titrage st 501',
  "sous-titrage st' 501",
  'sous-titrage société radio-canada',
  'sous-titres fait par sous-titres par amara.org',
  "merci d'avoir regardé",
  "merci d'avoir regardé cette vidéo",
  'merci de votre attention',
  "n'oubliez pas de vous abonner",
  'abonnez-vous',
  'générique',
  'musique',
  'merci',
  'merci beaucoup',
  'au revoir',
  'thank you for watching',
  'thanks for watching',
  'thank you',
  'please subscribe',
  'subtitles by the amara.org community',
  'you',
].map(normalisePhrase);

/** Below this RMS level (dBFS) audio counts as low-energy for the phrase filter. */
export const LOW_ENERGY_DBFS = -40;

export function normalisePhrase(text: string): string {
  return text
    .toLowerCase()
    .normalize('NFC')
    .replace(/[’`]/g, "'")
    .replace(/[.!?,;:…"«»]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export function stripAnnotations(text: string): string {
  return text
    .replace(/\[[^\]]*\]|\([^)]*\)|\*[^*]*\*|[♪♫]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export function isKnownHallucination(text: string): boolean {
  const n = normalisePhrase(text);
  return n.length > 0 && KNOWN_PHRASES.includes(n);
}

/** What to keep of Whisper's text: the cleaned text, and whether a hallucination was dropped. */
export function filterHallucination(text: string, levelDbfs: number): { text: string; dropped: boolean } {
  const cleaned = stripAnnotations(text);
  if (cleaned === '') return { text: '', dropped: text.trim() !== '' };
  if (levelDbfs < LOW_ENERGY_DBFS && isKnownHallucination(cleaned)) return { text: '', dropped: true };
  return { text: cleaned, dropped: false };
}
