// The visitor's interests: the "Interests" field's text as the words `join` carries.

import { format, formatNumber, gettext } from "./i18n.js";
import { MAX_INTEREST_LENGTH, MAX_INTERESTS } from "./protocol.js";

// Lower-cased, without duplicates; throws an Error whose message the page shows.
export function parseInterests(text) {
  const words = [];
  for (const raw of text.split(",")) {
    const word = raw.trim().toLowerCase();
    if (!word || words.includes(word)) continue;
    if (word.length > MAX_INTEREST_LENGTH) throw new Error(format(gettext("Each interest can be at most %(max)s characters."), { max: formatNumber(MAX_INTEREST_LENGTH) }));
    words.push(word);
  }
  if (words.length > MAX_INTERESTS) throw new Error(format(gettext("Up to %(max)s interests, please."), { max: formatNumber(MAX_INTERESTS) }));
  return words;
}
