/** Tiny DOM helpers and the VS Code Elements controls the panels use (registered on import). */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';

type Child = Node | string | null | undefined | false;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { class?: string; text?: string; attrs?: Record<string, string> } = {},
  children: Child[] = [],
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.class) e.className = props.class;
  if (props.text !== undefined) e.textContent = props.text;
  if (props.attrs) for (const [k, v] of Object.entries(props.attrs)) e.setAttribute(k, v);
  for (const c of children) if (c) e.append(c);
  return e;
}

export function button(
  label: string,
  onClick: () => void,
  opts: { secondary?: boolean; title?: string; disabled?: boolean } = {},
): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = label;
  if (opts.secondary) b.setAttribute('secondary', '');
  if (opts.disabled) b.setAttribute('disabled', '');
  if (opts.title) b.setAttribute('title', opts.title);
  b.addEventListener('click', () => {
    if (!b.hasAttribute('disabled')) onClick();
  });
  return b;
}

export function setDisabled(e: HTMLElement, disabled: boolean): void {
  e.toggleAttribute('disabled', disabled);
}

export interface Option {
  value: string;
  label: string;
}

/** A labelled vscode-single-select; `onChange` receives the chosen value. */
export function select(label: string, options: Option[], value: string, onChange: (v: string) => void): HTMLElement {
  const id = `sel-${Math.random().toString(36).slice(2, 9)}`;
  const s = document.createElement('vscode-single-select');
  s.id = id;
  s.setAttribute('aria-label', label);
  for (const o of options) {
    const opt = document.createElement('vscode-option');
    opt.setAttribute('value', o.value);
    opt.textContent = o.label;
    if (o.value === value) opt.setAttribute('selected', '');
    s.append(opt);
  }
  s.addEventListener('change', () => afterEvent(onChange, (s as unknown as { value: string }).value));
  return el('label', { class: 'control' }, [el('span', { class: 'control-label', text: label }), s]);
}

export function checkbox(label: string, checked: boolean, onChange: (v: boolean) => void): HTMLElement {
  const c = document.createElement('vscode-checkbox');
  c.setAttribute('label', label);
  if (checked) c.setAttribute('checked', '');
  c.addEventListener('change', () => afterEvent(onChange, (c as unknown as { checked: boolean }).checked));
  return c;
}

/**
 * Runs a control's change handler after the component has finished handling its own event. Views re-render
 * their toolbar on a change, which replaces the control: done synchronously, vscode-single-select went on
 * to open or close its dropdown popover on the detached element ("showPopover … disconnected popover").
 */
function afterEvent<T>(onChange: (v: T) => void, value: T): void {
  setTimeout(() => onChange(value), 0);
}

/** A section with a heading, a toolbar row and a body, tagged data-view for tests and styling. */
export function section(view: string, title: string): { root: HTMLElement; toolbar: HTMLElement; body: HTMLElement; heading: HTMLElement } {
  const heading = el('h2', { text: title });
  const toolbar = el('div', { class: 'toolbar', attrs: { role: 'toolbar', 'aria-label': `${title} controls` } });
  const body = el('div', { class: 'view-body' });
  const root = el('section', { class: 'view', attrs: { 'data-view': view, 'aria-label': title } }, [
    el('header', { class: 'view-header' }, [heading, toolbar]),
    body,
  ]);
  return { root, toolbar, body, heading };
}
