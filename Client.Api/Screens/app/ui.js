// Small DOM helpers: elements are built with text nodes only (nothing the API returns is parsed as HTML).
import { ApiError } from './api.js';

/** h('p', { class: 'x', onclick: f }, 'text', child, [more]) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name === 'value') el.value = value; // a textarea's text is its value, not an attribute
    else if (name in el && typeof value !== 'string') el[name] = value;
    else el.setAttribute(name, value === true ? '' : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's content. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** The message in words for any error. */
export function describe(error) {
  return error instanceof ApiError ? error.describe() : (error?.message ?? String(error));
}

/** The page-wide notice (errors in red, news in green). */
export function notice(message, kind = 'error') {
  const el = document.getElementById('notice');
  if (!message) { el.hidden = true; return; }
  el.hidden = false;
  el.className = `notice ${kind}`;
  fill(el, typeof message === 'string' ? message : describe(message),
    h('button', { type: 'button', class: 'quiet', 'aria-label': 'Dismiss', onclick: () => { el.hidden = true; } }, '×'));
}

/** Shows a problem inside a form: its words, and the input it names marked invalid. */
export function formError(form, error) {
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const box = form.querySelector('.form-error');
  if (!error) { if (box) { box.hidden = true; box.textContent = ''; } return; }
  if (box) { box.hidden = false; box.textContent = describe(error); }
  else notice(error);
  const field = error instanceof ApiError ? error.field : undefined;
  // 'hyperparameters.epochs', '$.name', 'events[3].latencyMs': the input is named by the whole path, its last or its first part.
  const path = field?.replace(/^\$\./, '') ?? '';
  const parts = path.split(/[.[\]]/).filter(Boolean);
  const input = [path, parts.at(-1), parts[0]].filter(Boolean)
    .map(name => form.querySelector(`[name="${CSS.escape(name)}"]`)).find(Boolean);
  if (input) { input.setAttribute('aria-invalid', 'true'); input.focus(); }
}

/** Runs an action with its button disabled; a failure is shown in the form (or the page notice). */
export async function busy(button, action, form) {
  button.disabled = true;
  if (form) formError(form, null);
  try {
    return await action();
  } catch (e) {
    if (form) formError(form, e); else notice(e);
    return undefined;
  } finally {
    button.disabled = false;
  }
}

export const fmt = {
  usd: v => v === null || v === undefined ? '—' : `$${Number(v).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: Number(v) !== 0 && Math.abs(v) < 1 ? 4 : 2 })}`,
  cost: c => c?.isKnown === false ? `unknown (${c.unknownReason})` : fmt.usd(c?.usd),
  int: v => v === null || v === undefined ? '—' : Number(v).toLocaleString('en-US'),
  count: (n, noun) => `${Number(n).toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`,
  pct: v => v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)} %`,
  ms: v => v === null || v === undefined ? '—' : `${Number(v).toFixed(0)} ms`,
  date: v => v ? new Date(v).toLocaleDateString('en-GB', { year: 'numeric', month: 'short', day: 'numeric' }) : '—',
  time: v => v ? new Date(v).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' }) : '—',
};

/** Five stars for a value in [0, max]; the number is also given in words for screen readers. */
export function stars(value, max = 1) {
  if (value === null || value === undefined) return h('span', { class: 'muted' }, 'no rating');
  const n = Math.round((value / max) * 5);
  return h('span', { class: 'stars', title: `${value} of ${max}`, 'aria-label': `${n} of 5 stars` }, '★'.repeat(n) + '☆'.repeat(5 - n));
}

/** A small line chart of training (dashed: validation) loss per step, as SVG. */
export function lossChart(points, totalSteps) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  const width = 240, height = 60, pad = 4;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('class', 'loss-chart');
  svg.setAttribute('role', 'img');
  const train = points.filter(p => p.trainLoss !== null && p.trainLoss !== undefined);
  const last = train.at(-1);
  svg.setAttribute('aria-label', last ? `Loss chart: training loss ${last.trainLoss} at step ${last.step}` : 'No loss reported yet');
  if (train.length < 2) return svg;
  const values = points.flatMap(p => [p.trainLoss, p.validationLoss]).filter(v => v !== null && v !== undefined);
  const min = Math.min(...values), max = Math.max(...values);
  const steps = train.map(p => p.step ?? 0);
  // The x axis runs to the job's last step when it is known, so the line's length shows the progress.
  const x0 = Math.min(...steps), x1 = Math.max(totalSteps ?? 0, ...steps) || 1;
  const x = s => pad + ((s - x0) / Math.max(1, x1 - x0)) * (width - 2 * pad);
  const y = v => height - pad - ((v - min) / Math.max(1e-9, max - min)) * (height - 2 * pad);
  for (const [key, cls] of [['trainLoss', 'train'], ['validationLoss', 'validation']]) {
    const line = points.filter(p => p[key] !== null && p[key] !== undefined).map(p => `${x(p.step ?? 0).toFixed(1)},${y(p[key]).toFixed(1)}`);
    if (line.length < 2) continue;
    const path = document.createElementNS(ns, 'polyline');
    path.setAttribute('points', line.join(' '));
    path.setAttribute('class', cls);
    svg.append(path);
  }
  return svg;
}

/** A labelled input: label text, then the control (a11y: the label wraps it). */
export function field(label, control, hint) {
  return h('label', { class: 'field' }, h('span', {}, label), control, hint ? h('small', { class: 'muted' }, hint) : null);
}

/** A select of [value, text, disabled?] options. */
export function select(name, options, value) {
  return h('select', { name },
    options.map(([v, text, disabled]) => h('option', { value: v, selected: v === value, disabled: !!disabled }, text)));
}
