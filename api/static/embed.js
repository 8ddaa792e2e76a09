/* Strategy Assistant – floating chat button for a host web page (see docs/embedding.md).
 * <script src="https://ASSISTANT-HOST/static/embed.js" data-lang="da" defer></script>
 * Adds a button in the lower right corner that opens the chat page (?embed=1) in an iframe. */
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script || document.getElementById("sa-widget-button")) return;
  const origin = new URL(script.src, location.href).origin;
  const lang = script.dataset.lang || "";
  const labels = { da: "Spørg om kommunens strategier", sv: "Fråga om kommunens strategier", en: "Ask about the strategies" };
  const closeLabels = { da: "Luk", sv: "Stäng", en: "Close" };
  const label = script.dataset.label || labels[lang] || labels.da;
  const src = `${origin}/?embed=1${lang ? `&lang=${encodeURIComponent(lang)}` : ""}`;
  const chatIcon = '<path d="M4 5h16v11H9l-5 4z" fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round"/>';
  const closeIcon = '<path d="M6 6l12 12M18 6L6 18" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/>';

  const style = document.createElement("style");
  style.textContent = `
    #sa-widget-button { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; width: 60px; height: 60px;
      display: grid; place-items: center; color: #fff; background: #1f4fa3; border: 0; border-radius: 50%;
      box-shadow: 0 6px 20px rgb(16 24 40 / 30%); cursor: pointer; }
    #sa-widget-button:hover { background: #173c7d; }
    #sa-widget-button:focus-visible { outline: 3px solid #1f4fa3; outline-offset: 3px; }
    #sa-widget-button svg { width: 28px; height: 28px; }
    #sa-widget-panel { position: fixed; right: 20px; bottom: 92px; z-index: 2147483000; width: 400px;
      height: min(640px, calc(100vh - 112px)); max-width: calc(100vw - 24px); overflow: hidden;
      border-radius: 16px; box-shadow: 0 16px 48px rgb(16 24 40 / 30%); background: #f4f6f9; }
    #sa-widget-panel iframe { width: 100%; height: 100%; border: 0; display: block; }
    @media (max-width: 480px) { #sa-widget-panel { right: 12px; left: 12px; width: auto; bottom: 88px;
      height: calc(100dvh - 100px); } #sa-widget-button { right: 12px; bottom: 16px; } }`;
  document.head.append(style);

  const button = document.createElement("button");
  button.id = "sa-widget-button";
  button.type = "button";
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "sa-widget-panel");
  const panel = document.createElement("div");
  panel.id = "sa-widget-panel";
  panel.hidden = true;

  function render(open) {
    button.setAttribute("aria-expanded", String(open));
    button.setAttribute("aria-label", open ? closeLabels[lang] || closeLabels.da : label);
    button.title = open ? "" : label;
    button.innerHTML = `<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">${open ? closeIcon : chatIcon}</svg>`;
  }

  function toggle(open) {
    if (open && !panel.firstChild) {
      const frame = document.createElement("iframe");
      frame.src = src;
      frame.title = label;
      panel.append(frame);
    }
    panel.hidden = !open;
    render(open);
    if (open) panel.firstChild.focus();
    else button.focus();
  }

  button.addEventListener("click", () => toggle(panel.hidden));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) toggle(false);
  });
  window.addEventListener("message", (event) => {
    if (event.origin === origin && event.data?.type === "strategy-assistant:close" && !panel.hidden) toggle(false);
  });
  render(false);
  document.body.append(panel, button);
})();
