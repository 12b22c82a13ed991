/** A tiny element builder: text always goes in as text nodes (never HTML), so registry data cannot inject markup. */
export type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | ((event: never) => void)>;

export const h = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] => {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (typeof value === 'function') el.addEventListener(key.slice(2), value as EventListener);
    else if (value === true) el.setAttribute(key, '');
    else if (value !== false && value !== null && value !== undefined) el.setAttribute(key, String(value));
  }
  append(el, ...children);
  return el;
};

export const append = (el: Element, ...children: Child[]) => {
  for (const child of children) if (child !== null && child !== undefined && child !== false) el.append(typeof child === 'number' ? String(child) : child);
};

/** Replaces an element's content. */
export const fill = (el: Element, ...children: Child[]) => {
  el.replaceChildren();
  append(el, ...children);
};

/** `text` with every case-insensitive occurrence of `q` wrapped in <mark>. */
export const highlight = (text: string, q: string): Child[] => {
  if (!q) return [text];
  const out: Child[] = [];
  const lower = text.toLowerCase();
  const needle = q.toLowerCase();
  let from = 0;
  for (let at = lower.indexOf(needle); at >= 0; at = lower.indexOf(needle, from)) {
    out.push(text.slice(from, at), h('mark', {}, text.slice(at, at + needle.length)));
    from = at + needle.length;
  }
  out.push(text.slice(from));
  return out;
};

export const byId = <T extends HTMLElement>(id: string, type: new () => T): T => {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`#${id} is missing`);
  return el;
};
