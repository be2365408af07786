// The languages a visitor speaks: read from the browser, edited in the "I speak" field, sent with
// `join` (docs/protocol.md), and named in the sentence shown when two strangers share one.

import { format, formatList, gettext } from "./i18n.js";
import { MAX_LANGUAGES, MAX_LANGUAGE_TAG_LENGTH } from "./protocol.js";

// The same well-formed BCP 47 tags the server accepts (meet/protocol.py), lower-cased.
const TAG = new RegExp(
  "^[a-z]{2,3}(?:-[a-z]{3}){0,3}(?:-[a-z]{4})?(?:-(?:[a-z]{2}|[0-9]{3}))?"
  + "(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*(?:-x(?:-[a-z0-9]{1,8})+)?$",
);

const primary = (tag) => tag.split("-", 1)[0];

// Up to three of the browser's languages, one per primary language: "es-MX, en" rather than "es-MX, es, en".
export function browserLanguages() {
  const wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
  const tags = [];
  for (const raw of wanted) {
    if (typeof raw !== "string") continue;
    const tag = raw.trim();
    if (!TAG.test(tag.toLowerCase()) || tags.some((kept) => primary(kept.toLowerCase()) === primary(tag.toLowerCase()))) continue;
    tags.push(tag);
    if (tags.length === MAX_LANGUAGES) break;
  }
  return tags;
}

// The field's text as tags for `join`; throws an Error whose message the page shows.
export function parseLanguages(text) {
  const tags = [];
  for (const raw of text.split(/[\s,]+/)) {
    const tag = raw.trim().replace(/_/g, "-").toLowerCase();
    if (!tag || tags.includes(tag)) continue;
    if (tag.length > MAX_LANGUAGE_TAG_LENGTH || !TAG.test(tag)) {
      throw new Error(gettext("Write languages as codes such as es, hi or pt-BR."));
    }
    tags.push(tag);
  }
  if (tags.length > MAX_LANGUAGES) throw new Error(gettext("Up to 3 languages, please."));
  return tags;
}

// A language's name in that language itself ("Español", "हिन्दी"), or the code if the browser has none.
export function ownName(tag) {
  try {
    const name = new Intl.DisplayNames([tag], { type: "language" }).of(tag);
    if (!name || name.toLowerCase() === tag.toLowerCase()) return tag;
    return name.charAt(0).toLocaleUpperCase(tag) + name.slice(1);
  } catch {
    return tag;
  }
}

// "Español, English": what the field's codes stand for, shown beside it.
export function describeLanguages(tags) {
  return formatList(tags.map(ownName));
}

// "You both speak Español." in the page's language, the languages in their own names.
export function sharedLanguagesSentence(codes) {
  // Translators: %(languages)s is one or more language names, each in its own language ("Español and English").
  return format(gettext("You both speak %(languages)s."), { languages: formatList(codes.map(ownName)) });
}
