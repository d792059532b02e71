// The pages' two languages, German (the default) and English, for the
// storefront and the admin page alike.
//
// The modules write every visible text in English and pass it through
// `t`, which looks it up in the language's message file
// (`/i18n/de.json`, `/i18n/en.json`): plain JSON from the English text to
// the language's text, `{name}` where a value goes, loaded once before a
// page renders. English is the key, so the English file only holds the
// texts that read differently from their key; a text missing from the
// German file shows in English, and `tests/browser/i18n.test.mjs` fails on
// it. The chosen language is remembered in the browser; numbers, money and
// dates are written the language's way (`59,90 €`, `€59.90`).

const LANGUAGES = { de: { locale: 'de-DE' }, en: { locale: 'en-GB' } };
const STORED = 'kontor.language';

function chosen() {
  try {
    const stored = localStorage.getItem(STORED);
    if (stored && LANGUAGES[stored]) return stored;
  } catch { /* storage blocked: the default */ }
  return 'de';
}

export const language = chosen();
export const locale = LANGUAGES[language].locale;

async function load(lang) {
  try {
    const response = await fetch(`/i18n/${lang}.json`);
    return response.ok ? await response.json() : {};
  } catch {
    return {};
  }
}

const messages = await load(language);
// Texts asked for that the language's file lacks; the browser tests read
// it and fail on any.
const untranslated = new Set();
globalThis.kontorUntranslated = untranslated;
document.documentElement.lang = language;

// The text in the page's language, with `{name}` replaced by `values.name`.
// Values are put in as given: callers escape what comes from outside.
export function t(text, values = {}) {
  if (language !== 'en' && !(text in messages)) untranslated.add(text);
  const template = messages[text] ?? text;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

// A text from the shop's own data (a category, a return reason): its
// translation where the message file has one, else as the shop wrote it.
export function shopText(text) {
  return messages[text] ?? text;
}

// Money in its currency, the language's way.
export function formatMoney(amount, currency = 'EUR') {
  return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(Number(amount));
}

// A number with two decimals, the language's way (for form fields).
export function formatDecimal(amount) {
  return new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2, useGrouping: false })
    .format(Number(amount));
}

// A moment as date and time, or a day, the language's way.
export function formatDateTime(value) {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(value));
}

export function formatDate(value) {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }).format(new Date(value));
}

// Translates the page's static texts: an element's text with
// `data-i18n`, and the attributes `data-i18n-attrs` names
// (`placeholder,aria-label`).
export function translateStatic(root = document) {
  root.querySelectorAll('[data-i18n]').forEach((element) => {
    element.textContent = t(element.textContent.trim());
  });
  root.querySelectorAll('[data-i18n-attrs]').forEach((element) => {
    for (const name of element.dataset.i18nAttrs.split(',')) {
      const value = element.getAttribute(name.trim());
      if (value) element.setAttribute(name.trim(), t(value));
    }
  });
}

// The language switch in the header (in the page from its first paint, so
// that nothing moves): choosing a language remembers it and shows the page
// again in it.
export function wireLanguageSwitch(select = document.getElementById('language-switch')) {
  if (!select) return;
  select.value = language;
  select.addEventListener('change', () => {
    try { localStorage.setItem(STORED, select.value); } catch { /* not remembered */ }
    location.reload();
  });
}

translateStatic();
wireLanguageSwitch();
