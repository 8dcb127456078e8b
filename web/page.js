// Lookout status page script (served by the daemon as assets/page.js; no dependency, nothing
// fetched from elsewhere). The page is complete without it: this only keeps it fresh. Every
// `data-refresh` seconds it fetches the same page again (the server renders it once per
// detector evaluation) and swaps in the new verdict, countries, events and targets; the
// charts are swapped once a minute. A section the keyboard is in is left alone until focus
// leaves it. Changing a filter choice submits the filter form.
/* global document, window, fetch, DOMParser, setTimeout */
(() => {
  'use strict';
  const seconds = Math.max(1, Number(document.body.dataset.refresh) || 5);
  const SECTIONS = ['vantage', 'countries', 'event-list', 'targets'];
  const CHARTS_EVERY_MS = 60_000;
  let chartsAt = Date.now();
  const note = document.getElementById('refresh-note');

  function setNote(text) {
    if (note) note.textContent = text;
  }

  function swap(doc, id) {
    const fresh = doc.getElementById(id);
    const old = document.getElementById(id);
    if (!fresh || !old) return;
    if (old.contains(document.activeElement) && document.activeElement !== document.body) return;
    old.replaceWith(document.importNode(fresh, true));
  }

  async function refresh() {
    try {
      const res = await fetch(window.location.href, { headers: { Accept: 'text/html' }, cache: 'no-store', credentials: 'same-origin' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      const ids = SECTIONS.slice();
      if (Date.now() - chartsAt >= CHARTS_EVERY_MS) {
        ids.push('charts');
        chartsAt = Date.now();
      }
      ids.forEach((id) => swap(doc, id));
      const time = doc.querySelector('header time');
      const mine = document.querySelector('header time');
      if (time && mine) mine.replaceWith(document.importNode(time, true));
      document.body.dataset.refreshed = String(Date.now());
      setNote(`, refreshed every ${seconds} s`);
    } catch (err) {
      setNote(`, refresh failed (${err instanceof Error ? err.message : String(err)}), trying again`);
    }
    setTimeout(tick, seconds * 1000);
  }

  function tick() {
    // A hidden tab does not poll; it catches up once shown.
    if (document.hidden) {
      document.addEventListener('visibilitychange', tick, { once: true });
      return;
    }
    void refresh();
  }

  for (const select of document.querySelectorAll('form.filter select')) {
    select.addEventListener('change', () => select.form && select.form.requestSubmit());
  }
  setNote(`, refreshed every ${seconds} s`);
  setTimeout(tick, seconds * 1000);
})();
