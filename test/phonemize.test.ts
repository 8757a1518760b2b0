import { describe, expect, it } from 'vitest';
import { phonemize } from '../src/engines/tts/phonemize.js';
import { phonemeIds } from '../src/engines/tts/piper.js';
import { normalizeFrench } from '../src/engines/tts/text/normalize-fr.js';

/** espeak-ng 1.51 (Debian 12), voice fr, as Piper's French voices phonemize. */
describe('French text to IPA, punctuation kept', () => {
  it.each([
    ['Bonjour, M. Dupont !', 'bɔ̃ʒˈuʁ, məsjˈø dypˈɔ̃!'],
    ['Il est 21 h 30.', 'il ɛ vˈɛ̃t e yn ˈœʁ tʁˈɑ̃t.'],
    [
      "L'homme et l'arbre ; c'est l'été : Mme Martin arrive.",
      'lˈɔm e lˈaʁbʁ; sɛ letˈe: madˈam maʁtˈɛ̃ aʁˈiv.',
    ],
    ['Vraiment ? Oui.', 'vʁɛmˈɑ̃? wˈi.'],
    ['Allume la chambre à 80 %.', 'alˈym la- ʃˈɑ̃bʁ a kˈatʁvˈɛ̃ puʁ sˈɑ̃.'],
    ['Le 1er mai…', 'lə- pʁəmjˈe mˈɛ.'],
  ])('%s', async (text, ipa) => {
    expect(await phonemize(normalizeFrench(text), 'fr')).toBe(ipa.normalize('NFD'));
  });

  it('English keeps its punctuation too', async () => {
    expect(await phonemize('Hello world, how are you?', 'en-us')).toBe(
      'həlˈoʊ wˈɜːld, hˈaʊ ɑːɹ juː?'.normalize('NFD'),
    );
  });

  it('maps phonemes to ids with BOS, pads between and EOS', () => {
    const map = { '^': [1], _: [0], $: [2], a: [14], b: [15], ' ': [3] };
    expect(phonemeIds('ab a', map)).toEqual([1, 0, 14, 0, 15, 0, 3, 0, 14, 0, 2]);
    expect(phonemeIds('aé', map)).toEqual([1, 0, 14, 0, 2]); // unknown phonemes are skipped
  });
});
