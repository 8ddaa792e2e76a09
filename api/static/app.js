/* Strategy Assistant – citizen chat page. Vanilla JS, no build step, no dependencies.
 * Talks to POST /api/chat (server-sent events over fetch) and GET /api/documents/{id}/passage.
 * All server text is inserted with textContent / text nodes, never as HTML. */
(() => {
  "use strict";

  const STRINGS = window.SA_STRINGS;
  const params = new URLSearchParams(location.search);
  const EMBED = params.get("embed") === "1";
  const MAX_TURNS = 6; // earlier turns are not sent; follow-ups only need the recent context
  const PASSAGE_PATH = /^\/api\/documents\/[^?#]+\/passage\?/;

  let lang = pickLanguage();
  const state = { history: [], controller: null, busy: false };
  const passages = new Map();
  let ui = null;
  let opener = null;

  // Set before the body is parsed so the embedded layout never flashes the full header.
  document.documentElement.lang = lang;
  document.documentElement.classList.toggle("embed", EMBED);

  function pickLanguage() {
    const wanted = [params.get("lang"), ...(navigator.languages || [navigator.language])];
    for (const tag of wanted) {
      const base = String(tag || "").toLowerCase().split("-")[0];
      if (Object.hasOwn(STRINGS, base)) return base;
    }
    return "da";
  }

  function t(key, vars = {}) {
    const text = STRINGS[lang][key] ?? STRINGS.da[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value == null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    node.append(...children.filter((child) => child != null && child !== ""));
    return node;
  }

  function announce(message) {
    ui.status.textContent = "";
    setTimeout(() => { ui.status.textContent = message; }, 50);
  }

  function applyStrings() {
    document.documentElement.lang = lang;
    document.title = t("title");
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
      node.placeholder = t(node.dataset.i18nPlaceholder);
    }
    for (const node of document.querySelectorAll("[data-i18n-label]")) {
      node.setAttribute("aria-label", t(node.dataset.i18nLabel));
    }
    ui.lang.value = lang;
  }

  // ---- rendering ---------------------------------------------------------------------------

  /** Answer text → paragraphs (line breaks kept), "• " lines → lists, [n] → citation chips. */
  function renderText(text, citations) {
    const frag = document.createDocumentFragment();
    let para = null;
    let list = null;
    for (const raw of text.split("\n")) {
      const line = raw.trim();
      if (!line) { para = list = null; continue; }
      if (line.startsWith("•")) {
        para = null;
        if (!list) frag.append((list = el("ul")));
        list.append(el("li", {}, ...inline(line.replace(/^•\s*/, ""), citations)));
      } else {
        list = null;
        if (para) para.append(el("br"));
        else frag.append((para = el("p")));
        para.append(...inline(line, citations));
      }
    }
    return frag;
  }

  /** Text with [n] markers → nodes. A chip never wraps away from the word and punctuation
   * around it, so "2030 [1]." stays on one line. */
  function inline(text, citations) {
    const parts = text.split(/\[(\d+)\]/); // even: text, odd: marker number
    const nodes = [];
    for (let i = 0; i < parts.length; i += 2) {
      let part = parts[i];
      const marker = i + 1 < parts.length ? chip(Number(parts[i + 1]), citations) : null;
      if (i > 0) {
        if (marker && !part.trim()) { nodes.at(-1).append(part, marker); continue; } // "[1][2]"
        const punct = /^[.,;:!?)»”]+/.exec(part)?.[0] || "";
        nodes.at(-1).append(punct);
        part = part.slice(punct.length);
      }
      if (!marker) { nodes.push(part); break; }
      const word = /\S*\s*$/.exec(part)[0];
      nodes.push(part.slice(0, part.length - word.length), el("span", { class: "nowrap" }, word, marker));
    }
    return nodes;
  }

  function chip(id, citations) {
    const cite = citations.find((c) => c.id === id);
    if (!cite) return el("span", { class: "chip chip-pending", "aria-hidden": "true", text: id });
    return el("button", {
      type: "button", class: "chip", "data-cite": id,
      "aria-label": `${t("source", { n: id })}: ${cite.title}`,
      onclick: (event) => openPassage(cite, event.currentTarget),
    }, String(id));
  }

  function describe(cite) {
    const section = (cite.section || "").replaceAll(" > ", " › ");
    const page = cite.page != null ? t("page", { n: cite.page }) : "";
    return [cite.organisation, section, page].filter(Boolean).join(" · ");
  }

  function renderSources(citations) {
    const items = citations.map((cite) => el("li", { class: "source" },
      el("button", {
        type: "button", class: "source-open", "data-cite": cite.id,
        onclick: (event) => openPassage(cite, event.currentTarget),
      },
        el("span", { class: "source-num", "aria-hidden": "true", text: cite.id }),
        el("span", { class: "source-title", text: cite.title }),
        el("span", { class: "source-meta", text: describe(cite) })),
      el("p", { class: "source-quote", text: cite.quote })));
    return el("section", { class: "sources" }, el("h3", { text: t("sources") }), el("ol", {}, ...items));
  }

  /** The not-found text ends by naming the suggested documents; the page lists them instead
   * (with their organisation), so that sentence is dropped when it is exactly that. */
  function dropSuggestionSentence(text, suggestions) {
    const titles = (suggestions || []).map((s) => s.title).join("; ");
    const at = titles ? text.lastIndexOf(titles) : -1;
    const start = at < 0 ? -1 : text.lastIndexOf(". ", at);
    if (start < 0 || !/^\.?\s*$/.test(text.slice(at + titles.length))) return text;
    return text.slice(0, start + 1);
  }

  function renderSuggestions(suggestions) {
    if (!suggestions?.length) return null;
    return el("div", { class: "suggestions", lang },
      el("p", { text: t("suggestions") }),
      el("ul", {}, ...suggestions.map((s) => el("li", {},
        el("strong", { text: s.title }), s.organisation ? ` – ${s.organisation}` : ""))));
  }

  function addUserTurn(question) {
    const node = el("article", { class: "turn user" },
      el("span", { class: "visually-hidden", text: `${t("you")}: ` }),
      el("p", { class: "bubble", text: question }));
    ui.log.append(node);
    return node;
  }

  /** The assistant's turn: fed by stream events, finished by done() or fail(). */
  function addAssistantTurn() {
    const box = el("div", { class: "answer" });
    const node = el("article", { class: "turn assistant", "data-state": "loading", "aria-busy": "true" },
      el("span", { class: "visually-hidden", text: `${t("assistant")}: ` }), box);
    ui.log.append(node);
    let text = "";
    let citations = [];
    let language = "";
    const loading = () => el("p", { class: "loading" }, el("span", { class: "dots", "aria-hidden": "true" },
      el("span"), el("span"), el("span")), t("searching"));
    const render = () => followScroll(() => {
      if (text && language) box.lang = language; // the loading line is in the page's language
      else box.removeAttribute("lang");
      box.replaceChildren(text ? renderText(text, citations) : loading());
    });
    const finish = (stateName) => {
      node.dataset.state = stateName;
      node.setAttribute("aria-busy", "false");
    };
    render();
    return {
      node,
      meta(data) { language = data.language || ""; },
      delta(data) { text += data.text || ""; node.dataset.state = "streaming"; render(); },
      reset() { text = ""; render(); },
      citations(data) { citations = data.citations || []; render(); },
      done(answer) {
        text = answer.answer || "";
        citations = answer.citations || [];
        language = answer.language || language;
        if (language) box.lang = language;
        node.dataset.found = String(answer.found !== false);
        box.classList.toggle("notice", answer.found === false);
        followScroll(() => {
          if (answer.found === false) {
            box.replaceChildren(renderText(dropSuggestionSentence(text, answer.suggestions), citations));
            box.append(renderSuggestions(answer.suggestions) || "");
          } else {
            box.replaceChildren(renderText(text, citations));
          }
          if (citations.length) node.append(renderSources(citations));
        });
        finish("done");
      },
      fail(message, retry) {
        followScroll(() => {
          box.replaceChildren(text ? renderText(text, citations) : "");
          box.append(el("div", { class: "error", role: "alert", lang },
            el("p", { text: message }),
            el("button", { type: "button", class: "btn btn-quiet", onclick: retry, text: t("retry") })));
        });
        finish("error");
      },
    };
  }

  /** Keeps the newest text in view while it streams, unless the reader has scrolled up. */
  function followScroll(change) {
    const root = document.scrollingElement;
    const atBottom = root.scrollHeight - root.scrollTop - root.clientHeight < 80;
    change();
    if (atBottom) root.scrollTop = root.scrollHeight;
  }

  // ---- talking to the API ------------------------------------------------------------------

  class ApiError extends Error {
    constructor(kind, detail = "", retryAfter = 0) {
      super(detail || kind);
      Object.assign(this, { kind, detail, retryAfter });
    }
  }

  function errorMessage(err) {
    if (err.kind === "rate") return err.retryAfter ? t("errRate", { s: err.retryAfter }) : t("errRateSoon");
    if (err.kind === "network") return t("errNetwork");
    if (err.kind === "request") return [t("errRequest"), err.detail].filter(Boolean).join(" ");
    return t("errServer");
  }

  async function httpError(response) {
    let detail = "";
    try { detail = (await response.json()).error?.message || ""; } catch { /* not JSON */ }
    if (response.status === 429) {
      return new ApiError("rate", detail, Number(response.headers.get("Retry-After")) || 0);
    }
    return new ApiError(response.status >= 500 ? "server" : "request", detail);
  }

  function parseEvent(block) {
    let event = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (!line || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
    return data.length ? { event, data: data.join("\n") } : null;
  }

  /** Server-sent events from a fetch body (EventSource cannot POST). */
  async function* readEvents(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let pending = "";
    let carry = ""; // a trailing "\r" may be the first half of "\r\n"
    try {
      for (;;) {
        const { value, done } = await reader.read();
        let chunk = carry + (done ? decoder.decode() : decoder.decode(value, { stream: true }));
        carry = !done && chunk.endsWith("\r") ? "\r" : "";
        if (carry) chunk = chunk.slice(0, -1);
        pending += chunk.replace(/\r\n?/g, "\n");
        let cut;
        while ((cut = pending.indexOf("\n\n")) >= 0) {
          const event = parseEvent(pending.slice(0, cut));
          pending = pending.slice(cut + 2);
          if (event) yield event;
        }
        if (done) {
          const last = parseEvent(pending);
          if (last) yield last;
          return;
        }
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  async function streamChat(messages, turn, signal) {
    let response;
    try {
      response = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify({ messages, stream: true }),
        signal,
      });
    } catch {
      throw new ApiError("network");
    }
    if (!response.ok) throw await httpError(response);
    if ((response.headers.get("Content-Type") || "").includes("application/json")) return response.json();
    try {
      for await (const { event, data } of readEvents(response)) {
        const payload = data ? JSON.parse(data) : {};
        if (event === "done") return payload;
        if (event === "error") {
          throw new ApiError(/rate/i.test(payload.code || "") ? "rate" : "server", payload.message);
        }
        if (event === "citations") turn.citations(payload);
        else if (["meta", "delta", "reset"].includes(event)) turn[event](payload);
      }
    } catch (err) {
      throw err instanceof ApiError ? err : new ApiError(err instanceof TypeError ? "network" : "server");
    }
    throw new ApiError("server"); // the stream ended without an answer
  }

  function setBusy(busy) {
    state.busy = busy;
    ui.send.setAttribute("aria-disabled", String(busy));
    ui.clear.hidden = !ui.log.childElementCount;
  }

  async function ask(question) {
    if (state.busy) return;
    ui.welcome.hidden = true;
    const root = document.scrollingElement;
    const userNode = addUserTurn(question);
    const turn = addAssistantTurn();
    root.scrollTop = root.scrollHeight; // the new question is in view; streaming keeps it there
    const messages = [...state.history, { role: "user", content: question }].slice(-(2 * MAX_TURNS + 1));
    const controller = new AbortController();
    state.controller = controller;
    setBusy(true);
    try {
      const answer = await streamChat(messages, turn, controller.signal);
      turn.done(answer);
      state.history.push({ role: "user", content: question }, { role: "assistant", content: answer.answer });
    } catch (err) {
      if (controller.signal.aborted) return;
      turn.fail(errorMessage(err), () => {
        userNode.remove();
        turn.node.remove();
        ask(question);
      });
    } finally {
      if (state.controller === controller) {
        state.controller = null;
        setBusy(false);
      }
    }
  }

  function clearConversation() {
    state.controller?.abort();
    state.controller = null;
    state.history = [];
    ui.log.replaceChildren();
    ui.welcome.hidden = false;
    setBusy(false);
    announce(t("cleared"));
    ui.question.focus();
  }

  // ---- the passage dialog ------------------------------------------------------------------

  async function fetchPassage(cite) {
    const link = cite.link || `/api/documents/${encodeURIComponent(cite.doc_id)}/passage?start=${cite.start}&end=${cite.end}`;
    if (!PASSAGE_PATH.test(link)) throw new Error("unexpected passage link");
    if (!passages.has(link)) {
      const request = fetch(link, { headers: { Accept: "application/json" } }).then((r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        return r.json();
      });
      passages.set(link, request);
      request.catch(() => passages.delete(link));
    }
    return passages.get(link);
  }

  async function openPassage(cite, from) {
    opener = from;
    const { dialog, passageBody: body } = ui;
    ui.passageKicker.textContent = t("source", { n: cite.id });
    ui.passageTitle.textContent = cite.title;
    ui.passageMeta.textContent = describe(cite);
    body.replaceChildren(el("p", { class: "loading", text: t("loadingPassage") }));
    const ticket = (dialog.ticket = {});
    if (!dialog.open) dialog.showModal();
    ui.passageClose.focus();
    try {
      const data = await fetchPassage(cite);
      if (dialog.ticket !== ticket) return;
      const mark = el("mark", { text: data.passage });
      const more = data.start - (data.before || "").length > 0 ? "… " : "";
      body.replaceChildren(el("p", { class: "passage" }, more, data.before || "", mark, data.after || ""));
      mark.scrollIntoView({ block: "center" });
    } catch {
      if (dialog.ticket === ticket) body.replaceChildren(el("p", { class: "error", text: t("passageError") }));
    }
  }

  // ---- wiring ------------------------------------------------------------------------------

  function init() {
    const $ = (id) => document.getElementById(id);
    ui = {
      log: $("log"), welcome: $("welcome"), status: $("status"), form: $("composer"),
      question: $("question"), send: $("send"), clear: $("clear"), lang: $("lang"),
      dialog: $("passage"), passageKicker: $("passage-kicker"), passageTitle: $("passage-title"),
      passageMeta: $("passage-meta"), passageBody: $("passage-body"), passageClose: $("passage-close"),
    };
    applyStrings();

    const autosize = () => {
      ui.question.style.height = "auto";
      ui.question.style.height = `${Math.min(ui.question.scrollHeight, 160)}px`;
    };
    ui.question.addEventListener("input", autosize);
    ui.question.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        ui.form.requestSubmit();
      }
    });
    ui.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const question = ui.question.value.trim();
      if (!question || state.busy) { ui.question.focus(); return; }
      ui.question.value = "";
      autosize();
      ask(question);
    });
    ui.clear.addEventListener("click", clearConversation);
    ui.lang.addEventListener("change", () => {
      lang = ui.lang.value;
      params.set("lang", lang);
      history.replaceState(null, "", `?${params}`);
      applyStrings();
    });

    ui.passageClose.addEventListener("click", () => ui.dialog.close());
    ui.dialog.addEventListener("click", (event) => { if (event.target === ui.dialog) ui.dialog.close(); });
    ui.dialog.addEventListener("close", () => {
      ui.dialog.ticket = null;
      if (opener?.isConnected) opener.focus();
    });

    // The floating widget (embed.js) closes its frame on Esc; it cannot see keys inside the frame.
    if (EMBED && window.parent !== window) {
      document.addEventListener("keydown", (event) => {
        if (event.key === "Escape" && !ui.dialog.open) {
          window.parent.postMessage({ type: "strategy-assistant:close" }, "*");
        }
      });
    }
  }

  document.addEventListener("DOMContentLoaded", init);
})();
