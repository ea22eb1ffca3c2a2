// The shell: sign-in, the header, and one screen at a time by the address's hash (#/dashboard, #/data, #/experiments).
import { api, session, organizationOf, ApiError } from './api.js';
import { h, fill, notice, describe, busy } from './ui.js';
import * as dashboard from './dashboard.js';
import * as data from './data.js';
import * as experiments from './experiments.js';

const screens = { dashboard, data, experiments };
const main = document.getElementById('main');
let leave = null;      // the current screen's clean-up (stops its polling)
let organization = null;

async function route() {
  if (leave) { leave(); leave = null; }
  notice(null);
  if (!session.key || !organizationOf(session.key)) return showSignIn();
  const name = (location.hash.match(/^#\/(\w+)/) ?? [])[1];
  const screen = screens[name] ?? dashboard;
  try {
    organization = await api('GET', `/v1/organizations/${session.org}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return; // signed-out event shows the sign-in
    fill(main, h('p', { class: 'error' }, describe(e)));
    return;
  }
  showHeader(name in screens ? name : 'dashboard');
  fill(main);
  try {
    leave = await screen.render(main, { organization }) ?? null;
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) fill(main, h('p', { class: 'error' }, describe(e)));
    return;
  }
  // Keyboard and screen-reader users start at the new screen's content.
  main.focus({ preventScroll: true });
}

function showHeader(current) {
  document.getElementById('nav').hidden = false;
  document.getElementById('sign-out').hidden = false;
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.route === current) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  fill(document.getElementById('who'), organization.name, ' · ', h('span', { class: 'badge' }, organization.plan.displayName));
}

function showSignIn(message) {
  document.getElementById('nav').hidden = true;
  document.getElementById('sign-out').hidden = true;
  fill(document.getElementById('who'));
  const input = h('input', { name: 'key', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false', placeholder: 'olk_…' });
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h('form', { class: 'card sign-in', id: 'sign-in', novalidate: true },
    h('h1', {}, 'Sign in'),
    h('p', {}, 'Paste an admin key of your organization. It stays in this tab only and is sent to the API as a bearer header.'),
    h('p', { class: 'muted' }, 'An organization\'s first admin key comes with it when the platform operator creates it (POST /v1/organizations); an admin makes more with POST …/api-keys.'),
    h('label', { class: 'field' }, h('span', {}, 'Admin key'), input),
    h('p', { class: 'form-error', role: 'alert', hidden: !message }, message ?? ''),
    button);
  form.addEventListener('submit', async event => {
    event.preventDefault();
    const key = input.value.trim();
    await busy(button, async () => {
      await signIn(key);
      session.set(key);
      input.value = '';
      location.hash = '#/dashboard';
      await route();
    }, form);
  });
  fill(main, form);
  input.focus();
}

/** Checks a key before keeping it: the shape, then the organization's own answer (401 wrong or revoked, 403 runtime). */
async function signIn(key) {
  const fieldError = (detail) => new ApiError(400, { title: 'Not signed in', detail, field: 'key' });
  if (!key) throw fieldError('Paste an admin key.');
  if (key.startsWith('olp_')) throw fieldError('That is the platform key, which manages organizations. Sign in with an organization\'s admin key (olk_…).');
  const orgId = organizationOf(key);
  if (!orgId) throw fieldError('That is not an organization key: one reads olk_ followed by the organization, the key id and the secret.');
  try {
    await api('GET', `/v1/organizations/${orgId}`, undefined, { key });
  } catch (e) {
    if (e.status === 401) throw fieldError(`This key is wrong or has been revoked. (${e.problem.detail})`);
    if (e.status === 403) throw fieldError(`This key cannot sign in here: the screens need an admin key. (${e.problem.detail})`);
    throw e;
  }
}

window.addEventListener('signed-out', event => {
  session.clear();
  if (leave) { leave(); leave = null; }
  showSignIn(`Signed out: ${event.detail.problem.detail ?? 'the key is no longer valid.'}`);
});
document.getElementById('sign-out').addEventListener('click', () => {
  session.clear();
  if (leave) { leave(); leave = null; }
  location.hash = '';
  showSignIn();
});
window.addEventListener('hashchange', route);
route();
