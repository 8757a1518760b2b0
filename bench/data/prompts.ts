/**
 * Distinct French prompts and answer-like sentences: each request of a benchmark gets its own, so
 * that no answer or sentence can come from a cache (the seed's anti-cache method).
 */
export const PROMPTS = [
  'Quelle est la capitale de l’Italie ?',
  'Donne-moi une idée de recette pour ce soir.',
  'Pourquoi le ciel est-il bleu ?',
  'Combien de jours y a-t-il dans une année bissextile ?',
  'Raconte-moi une courte histoire de pirate.',
  'Quel temps fait-il souvent en Bretagne ?',
  'Comment dit-on merci en espagnol ?',
  'Conseille-moi un livre pour les vacances.',
  'Qu’est-ce qu’un volcan ?',
  'Explique-moi comment planter des tomates.',
  'Quelle est la différence entre un lac et une mer ?',
  'Donne-moi trois prénoms pour un chat.',
];
export const TEXTS = [
  'Votre rendez-vous est confirmé pour demain à dix heures.',
  'La lumière du salon est allumée. Voulez-vous autre chose ?',
  'Il fait dix-huit degrés dans le bureau, et le chauffage est coupé.',
  'Le minuteur sonnera dans cinq minutes. Je vous préviendrai.',
  'Votre colis arrivera jeudi. Le livreur appellera avant de passer.',
  'La réunion commence dans un quart d’heure, en salle trois.',
  'J’ai ajouté du lait et des œufs à la liste de courses.',
  'Le train de dix-sept heures a dix minutes de retard.',
  'La porte du garage est fermée. Bonne soirée !',
  'Votre solde est de deux cent quarante euros.',
  'Il reste trois épisodes de votre série.',
  'Le réveil est réglé pour sept heures et demie.',
];
