// The sheet editor never loses what was typed.
//
// - Every keystroke counts as an edit; an edit is stored once an autosave that carried it answers
//   "saved" (header X-Coach-Autosave).
// - Links and other forms on the page first flush pending edits through the same autosave (in the
//   form's htmx queue, so versions stay in order), then go on.
// - Leaving the page any other way (address bar, closing the tab) sends the form with sendBeacon;
//   the browser warns only when the text cannot be stored that way (a conflict, invalid input,
//   or a beacon the browser refused). Nobody hears whether a beacon was stored, so the text it
//   carried is also kept in this browser (localStorage, a few days); when the sheet is opened
//   again and its stored text differs, the page offers that text back (#unsent) instead of
//   losing it silently.
// - 「欄外メモへ移す」 and 「元に戻す」 answer with feedback and new values: a text box is only given
//   its new value if the person has not typed in it since the click, and focus and caret stay put.
(function () {
  "use strict";
  const KEPT_PREFIX = "coach-unsent:";
  const KEEP_MS = 3 * 24 * 60 * 60 * 1000;
  // Copies kept on leaving live three days, whichever page of the service is opened next (a shared PC).
  try {
    Object.keys(localStorage).forEach(function (key) {
      if (!key.startsWith(KEPT_PREFIX)) return;
      let at = 0;
      try { at = JSON.parse(localStorage.getItem(key)).at; } catch (e) { /* unreadable: drop it */ }
      if (!(typeof at === "number" && Date.now() - at < KEEP_MS)) localStorage.removeItem(key);
    });
  } catch (e) { /* storage switched off */ }
  const form = document.getElementById("sheet-form");
  if (!form || !window.htmx) return;
  const autosaveUrl = form.dataset.autosave;
  let edits = 0; // keystrokes and changes so far
  let stored = 0; // edits known to be stored
  let state = "saved"; // the last autosave's answer: saved | conflict | failed | invalid
  let busy = 0; // htmx requests of the form in flight
  let idleWaiters = [];
  let snapshot = null; // text box values when a move or undo was sent

  const dirty = () => edits > stored;

  form.addEventListener("input", function () { edits += 1; });

  function ofForm(event) {
    const elt = event.detail && event.detail.elt;
    return elt && (elt === form || form.contains(elt) || elt.hasAttribute("data-applies"));
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (!ofForm(event)) return;
    busy += 1;
    event.detail.xhr.coachEdits = edits; // what this request carries
    if (event.detail.elt.hasAttribute("data-applies")) {
      event.detail.xhr.coachApplies = true; // its button is gone by the time the answer is in
      snapshot = valuesNow();
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (!ofForm(event)) return;
    const xhr = event.detail.xhr;
    const answer = xhr.getResponseHeader && xhr.getResponseHeader("X-Coach-Autosave");
    if (answer) state = answer;
    if (answer === "saved") stored = Math.max(stored, xhr.coachEdits || 0);
    if (xhr.coachApplies) applyValues();
    busy = Math.max(0, busy - 1);
    if (busy === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      waiters.forEach(function (resolve) { resolve(); });
    }
  });

  function idle() {
    return busy === 0 ? Promise.resolve() : new Promise(function (resolve) { idleWaiters.push(resolve); });
  }

  // Send what is typed now through the form's own autosave; true once it is stored.
  async function flush() {
    for (let tries = 0; tries < 3 && dirty(); tries += 1) {
      await idle();
      if (!dirty()) break;
      const target = edits;
      await htmx.ajax("POST", autosaveUrl, { source: form, swap: "none" });
      await idle(); // a request queued behind another one resolves before it ran
      if (stored >= target || state !== "saved") break;
    }
    return !dirty();
  }

  // -- text sent on leaving, kept until the sheet shows it stored --------------------------------
  //
  // The copy is the writer's own (keyed by account and sheet) and holds, per field, `sent` (what the
  // beacon carried) and `bases`: the texts that may be stored when the beacon is lost — the text last
  // known stored (the page's text, then each autosave answered "saved") and the text of each request
  // that got no answer at all — with the sheet's version and its last write as the page knew them.
  // When the sheet is opened again at the copy's version, a field is offered back when the writer had
  // changed it and either the sheet still holds the text last known stored with no write since (the
  // beacon and anything after it were lost), or it holds the text of an unanswered autosave. Anything
  // else (a write since, a newer version, a field changed since) is never offered: putting text back
  // could undo a newer save. Changing a field on offer withdraws the offer for it; an offer left
  // unanswered is carried into the next copy. A page that did not leave after all (the browser refused
  // the beacon, or the page goes on saving) drops its own copy. Text is compared as coach/sameness.py does.

  const FIELDS = ["section", "title", "asis", "tobe", "purpose", "problems", "tasks", "margin"];
  const LISTS = ["problems", "tasks"];
  const unsentBanner = document.getElementById("unsent");
  const version = function () { // the autosave's answer replaces the box (hx-swap-oob): look it up each time
    const box = document.getElementById("base-version");
    return box ? box.value : "";
  };
  const renderedVersion = version();
  // The sheet's last write as this page knows it (every autosave, folded or not, changes it).
  const renderedUpdated = unsentBanner ? unsentBanner.dataset.updated : "";
  let updatedKnown = renderedUpdated;
  const thisPage = Math.random().toString(36).slice(2); // which page wrote a copy
  const keptKey = KEPT_PREFIX + (unsentBanner ? unsentBanner.dataset.who : "") + ":" + autosaveUrl;

  function boxesOf(name) {
    if (LISTS.includes(name)) return Array.from(document.querySelectorAll("#rows-" + name + " textarea"));
    const box = document.getElementById("f-" + name);
    return box ? [box] : [];
  }

  // The fields as typed now, or (`rendered`) as the server rendered them into the page.
  function fieldValues(rendered) {
    const out = {};
    FIELDS.forEach(function (name) {
      const values = boxesOf(name).map(function (box) { return rendered ? box.defaultValue : box.value; });
      // A list's empty rows are not text (the server drops them too).
      out[name] = LISTS.includes(name) ? values.filter(function (v) { return v.trim(); }) : values.join("");
    });
    return out;
  }

  // coach/sameness.py canonical_text: cleaned, NFC, no white space at line ends or around the text.
  function plain(value) {
    const one = function (v) {
      return String(v).replace(/\r\n?/g, "\n").replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, "")
        .normalize("NFC").split("\n").map(function (line) { return line.replace(/\s+$/, ""); }).join("\n").trim();
    };
    return JSON.stringify(Array.isArray(value) ? value.map(one).filter(Boolean) : one(value === undefined ? "" : value));
  }

  const rendered = fieldValues(true); // the sheet as the server sent it
  let base = rendered; // the text last known stored
  // Autosaves sent and not answered by the autosave itself (no answer, a proxy's 502/504): their text
  // may have been stored. Only requests to the autosave count (the similar-sheet panel and the AI
  // coach post from inside the form too, and store nothing the page would offer back).
  let unanswered = []; // [{ seq, values }], in the order sent (the form's htmx queue keeps it)
  let sentAutosaves = 0;
  let applied = {}; // what the last move or undo put into the boxes

  function pathOf(detail) {
    return (detail.requestConfig && detail.requestConfig.path) || (detail.pathInfo && detail.pathInfo.requestPath) || "";
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (!ofForm(event)) return;
    const xhr = event.detail.xhr;
    xhr.coachValues = fieldValues();
    if (pathOf(event.detail) === autosaveUrl) {
      xhr.coachSeq = ++sentAutosaves;
      unanswered.push({ seq: xhr.coachSeq, values: xhr.coachValues });
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!ofForm(event)) return;
    const xhr = event.detail.xhr;
    const answer = xhr.getResponseHeader && xhr.getResponseHeader("X-Coach-Autosave");
    if (xhr.coachSeq && (answer || xhr.status === 204)) {
      // Heard: this one is settled, and a later autosave stored settles every one sent before it.
      const upTo = answer === "saved" ? xhr.coachSeq : 0;
      unanswered = unanswered.filter(function (u) { return u.seq !== xhr.coachSeq && u.seq > upTo; });
    }
    if (xhr.coachApplies) recheckOffer();
    if (answer !== "saved") return;
    // A move's answer does not say its write: the copy then trusts no stored text but the unanswered.
    updatedKnown = xhr.coachApplies ? "" : (xhr.getResponseHeader("X-Coach-Updated") || "");
    dropOwnCopy(); // a copy this page wrote: it did not leave after all, and goes on saving
    // A move or undo stored the values it sent with its own changes on top (not what was typed since).
    base = Object.assign({}, xhr.coachValues || base, xhr.coachApplies ? applied : {});
  });

  let offered = null; // { fields, sent } while the banner waits for an answer

  function keep() {
    if (!unsentBanner) return;
    const sent = fieldValues();
    const bases = [base].concat(unanswered.map(function (u) { return u.values; }));
    const carried = []; // an unanswered offer goes into the new copy for the boxes not changed since:
    if (offered) {      // that text was never stored anywhere, so no later write can have replaced it
      offered.fields.forEach(function (name) {
        if (plain(sent[name]) === plain(rendered[name])) {
          sent[name] = offered.sent[name];
          carried.push(name);
        }
      });
    }
    try {
      localStorage.setItem(keptKey, JSON.stringify({ at: Date.now(), page: thisPage, version: version(), updated: updatedKnown,
                                              carried: carried, bases: bases, sent: sent }));
    } catch (e) { /* storage full or switched off: the beacon is all there is */ }
  }

  // The copy, when this page wrote it (an offer on the banner stays, to be carried into the next one).
  function dropOwnCopy() {
    const own = kept();
    if (own && own.page === thisPage) {
      try { localStorage.removeItem(keptKey); } catch (e) { /* nothing kept */ }
    }
  }

  function forget() {
    offered = null;
    try { localStorage.removeItem(keptKey); } catch (e) { /* nothing kept */ }
  }

  function kept() {
    let raw = null;
    try { raw = localStorage.getItem(keptKey); } catch (e) { return null; }
    if (!raw) return null;
    try {
      const value = JSON.parse(raw);
      if (value && typeof value.at === "number" && Array.isArray(value.bases) && value.bases.length && value.sent &&
          Date.now() - value.at < KEEP_MS) {
        return value;
      }
    } catch (e) { /* not ours */ }
    forget();
    return null;
  }

  function label(name) {
    const list = document.getElementById("rows-" + name);
    if (list) return list.dataset.label;
    const text = document.querySelector('label[for="f-' + name + '"]');
    if (!text) return name;
    const main = text.querySelector(".field-name");
    return (main || text).textContent.trim();
  }

  // Changing a field on offer (typing, removing a row, a move) is the writer's answer for it: the
  // newer text wins, for good.
  function recheckOffer() {
    if (!offered) return;
    const now = fieldValues();
    const changed = offered.fields.filter(function (f) { return plain(now[f]) !== plain(rendered[f]); });
    if (!changed.length) return;
    offered.fields = offered.fields.filter(function (f) { return !changed.includes(f); });
    const value = kept();
    if (!offered.fields.length || !value) {
      unsentBanner.hidden = true;
      forget();
      return;
    }
    changed.forEach(function (f) { delete value.sent[f]; }); // never offered again
    try { localStorage.setItem(keptKey, JSON.stringify(value)); } catch (e) { /* kept as it was */ }
    unsentBanner.querySelector("[data-unsent-fields]").textContent = offered.fields.map(label).join("・");
  }
  form.addEventListener("input", recheckOffer);

  // Another tab of this browser answered the offer (or wrote a newer copy): this banner is out of date.
  window.addEventListener("storage", function (event) {
    if (event.key !== keptKey || !offered) return;
    offered = null;
    unsentBanner.hidden = true;
  });

  function offerKept() {
    const value = kept();
    if (!unsentBanner || !value) return;
    // A newer version than the copy's (a restore, another person's save, a stored beacon that made
    // one) means the sheet moved on since: nothing is offered, whatever the fields say.
    const lost = value.version !== renderedVersion ? [] : FIELDS.filter(function (name) {
      const now = plain(rendered[name]);
      if (!(name in value.sent) || plain(value.sent[name]) === now) return false;
      // The sheet holds the text last known stored and the writer had changed it, or the sheet holds
      // the text of an autosave that got no answer (the writer's, and older than what was sent).
      const noWriteSince = !!value.updated && value.updated === renderedUpdated;
      const carried = Array.isArray(value.carried) && value.carried.includes(name);
      return (now === plain(value.bases[0][name]) && plain(value.sent[name]) !== now && (noWriteSince || carried)) ||
        value.bases.slice(1).some(function (b, i) { // an unanswered autosave that changed this field
          return plain(b[name]) === now && plain(b[name]) !== plain(value.bases[i][name]);
        });
    });
    if (!lost.length) { forget(); return; } // stored, or changed since: nothing to give back
    offered = { fields: lost, sent: value.sent };
    const at = new Date(value.at);
    unsentBanner.querySelector("[data-unsent-at]").textContent =
      (at.getMonth() + 1) + "月" + at.getDate() + "日 " + at.getHours() + ":" + String(at.getMinutes()).padStart(2, "0");
    unsentBanner.querySelector("[data-unsent-fields]").textContent = lost.map(label).join("・");
    unsentBanner.hidden = false;
    unsentBanner.querySelector("[data-unsent-restore]").addEventListener("click", function () {
      const now = fieldValues();
      // A box typed in since the page opened keeps what was typed: the newer text wins.
      const back = lost.filter(function (name) { return plain(now[name]) === plain(rendered[name]); });
      back.forEach(function (name) {
        const v = value.sent[name];
        if (LISTS.includes(name)) setList(name, Array.isArray(v) ? v.map(String) : [], true);
        else {
          const box = document.getElementById("f-" + name);
          if (box && !box.readOnly) box.value = String(v);
        }
      });
      unsentBanner.hidden = true;
      forget();
      if (back.length) boxesOf(back[0])[0].dispatchEvent(new Event("input", { bubbles: true })); // the autosave stores it
    });
    unsentBanner.querySelector("[data-unsent-discard]").addEventListener("click", function () {
      unsentBanner.hidden = true;
      forget();
    });
  }

  function beacon() {
    if (!navigator.sendBeacon) return false;
    keep();
    const data = new FormData(form);
    data.delete("op");
    data.append("leaving", "1");
    if (!navigator.sendBeacon(autosaveUrl, data)) { dropOwnCopy(); return false; } // the browser asks; the page stays
    stored = edits;
    return true;
  }

  function leaving(href) {
    return href && !href.startsWith("#") && !href.startsWith("javascript:");
  }

  // Links in the editor (履歴, 印刷, the header's links): store first, then go.
  document.addEventListener("click", function (event) {
    const link = event.target.closest("a[href]");
    if (!link || !dirty() || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey ||
        event.shiftKey || link.target === "_blank" || !leaving(link.getAttribute("href"))) return;
    if (state === "conflict" || state === "invalid") return; // cannot be stored: beforeunload asks
    event.preventDefault();
    flush().then(function (ok) { if (ok) window.location.assign(link.href); });
  });

  // Other forms on the page (ログアウト …): store first, then submit. The sheet form's own submit
  // carries every field, so what it sends is stored by the server.
  document.addEventListener("submit", function (event) {
    const other = event.target;
    if (other === form) {
      const button = event.submitter;
      if (!button || !button.hasAttribute("hx-post")) stored = edits;
      return;
    }
    if (!dirty() || state === "conflict" || state === "invalid") return;
    event.preventDefault();
    flush().then(function (ok) { if (ok) HTMLFormElement.prototype.submit.call(other); });
  }, true);

  window.addEventListener("beforeunload", function (event) {
    if (!dirty()) return;
    if (state !== "conflict" && state !== "invalid" && beacon()) return;
    event.preventDefault();
    event.returnValue = "";
  });

  window.addEventListener("pagehide", function () {
    if (dirty() && state !== "conflict" && state !== "invalid") beacon();
  });

  // -- moves and undo: new values without replacing a box the person is typing in ------------------

  function boxes() {
    return Array.from(form.querySelectorAll("textarea"));
  }

  function valuesNow() {
    const out = new Map();
    boxes().forEach(function (box) { out.set(box, box.value); });
    return out;
  }

  function setValue(box, value) {
    if (box.value === value) return;
    if (snapshot && snapshot.has(box) && snapshot.get(box) !== box.value) return; // typed in since
    if (document.activeElement === box) {
      const start = Math.min(box.selectionStart, value.length);
      const end = Math.min(box.selectionEnd, value.length);
      box.value = value;
      box.setSelectionRange(start, end);
    } else {
      box.value = value;
    }
  }

  function setList(name, items, exact) {
    const list = document.getElementById("rows-" + name);
    if (!list) return;
    let rows = Array.from(list.querySelectorAll("li"));
    while (rows.length < items.length + 1) {
      const row = rows[rows.length - 1].cloneNode(true);
      row.querySelector("textarea").value = "";
      list.appendChild(row);
      rows = Array.from(list.querySelectorAll("li"));
    }
    rows.forEach(function (li, i) {
      const box = li.querySelector("textarea");
      if (i < items.length) {
        setValue(box, items[i]);
      } else if (i > items.length && (exact || (box !== document.activeElement && !box.value.trim()))) {
        li.remove(); // `exact`: the list becomes `items`, rows with text included
      } else if (i === items.length) {
        setValue(box, "");
      }
    });
    list.dispatchEvent(new CustomEvent("coach-renumber", { bubbles: true }));
  }

  function applyValues() {
    const values = document.getElementById("field-values");
    if (!values) return;
    applied = {};
    values.querySelectorAll("[data-field]").forEach(function (el) {
      applied[el.dataset.field] = el.textContent;
      const box = document.getElementById("f-" + el.dataset.field);
      if (box) setValue(box, el.textContent);
    });
    values.querySelectorAll("[data-list]").forEach(function (el) {
      const items = Array.from(el.children).map(function (c) { return c.textContent; });
      applied[el.dataset.list] = items.filter(function (v) { return v.trim(); });
      setList(el.dataset.list, items);
    });
    snapshot = null;
    values.replaceChildren();
  }

  // 「元に戻す」 is offered for a few seconds.
  function expire(root) {
    root.querySelectorAll("[data-expires]").forEach(function (button) {
      setTimeout(function () { button.remove(); }, 15000);
    });
  }
  expire(document);
  offerKept();
  // Back or Forward from the browser's page cache: this page lives again. A copy it wrote itself on
  // leaving is older than whatever it does now, so it goes (nothing is sent: the page's next edit
  // goes through the usual rules, as before). A copy of another page of the sheet is left alone.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) dropOwnCopy();
  });
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.target && event.target.id === "flash") expire(event.target);
  });
})();
