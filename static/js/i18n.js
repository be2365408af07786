// The page's strings in the visitor's language. Django's JavaScript catalog (/jsi18n/, loaded as a
// classic script before the modules) defines `django`; without it every string stays as written.

const catalog = globalThis.django || null;

export function gettext(text) {
  return catalog ? catalog.gettext(text) : text;
}

export function ngettext(singular, plural, count) {
  if (catalog) return catalog.ngettext(singular, plural, count);
  return count === 1 ? singular : plural;
}

// "%(name)s" placeholders, as in the Python catalogs, so translators may reorder them.
export function format(text, values) {
  return text.replace(/%\((\w+)\)s/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

export function pageLanguage() {
  return document.documentElement.lang || "en";
}

// Digits grouped the way the page's language groups them (1,234 / 1.234 / 1 234 / ١٬٢٣٤).
export function formatNumber(value) {
  try {
    return new Intl.NumberFormat(pageLanguage()).format(value);
  } catch {
    return String(value);
  }
}

// "music, chess and space", in the page's language.
export function formatList(items) {
  try {
    return new Intl.ListFormat(pageLanguage(), { type: "conjunction" }).format(items);
  } catch {
    return items.join(", ");
  }
}
