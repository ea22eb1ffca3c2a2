// The API as curl sees it: the admin key as a bearer header, problem details turned into errors that name the field.
const KEY = 'objectalabs.adminKey';

/** The signed-in key, kept in this tab's session storage only (never a cookie, never a URL). */
export const session = {
  get key() { return sessionStorage.getItem(KEY); },
  get org() { return organizationOf(this.key); },
  set(key) { sessionStorage.setItem(KEY, key); },
  clear() { sessionStorage.removeItem(KEY); },
};

/** An organization key reads olk_{organization id, 32 hex digits}_{key id}_{secret}; null for anything else. */
export function organizationOf(key) {
  const m = /^olk_([0-9a-f]{32})_[0-9a-z]{10}_[0-9A-Za-z]{40}$/.exec(key ?? '');
  if (!m) return null;
  const h = m[1];
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export class ApiError extends Error {
  constructor(status, problem) {
    const p = problem && typeof problem === 'object' ? problem : { detail: String(problem ?? '') };
    super(p.detail || p.title || `HTTP ${status}`);
    this.status = status;
    this.problem = p;
    this.field = p.field ?? (p.errors ? Object.keys(p.errors)[0] : undefined);
  }

  /** The problem in words: what went wrong, and the field or line at fault. */
  describe() {
    const p = this.problem;
    const parts = [p.title && p.detail && p.title !== p.detail ? `${p.title}: ${p.detail}` : (p.detail || p.title || this.message)];
    if (this.field) parts.push(`(field: ${this.field}${p.line ? `, line ${p.line}` : ''})`);
    if (p.retryAfterSeconds) parts.push(`Retry in ${p.retryAfterSeconds} s.`);
    return parts.join(' ');
  }
}

/** Calls the API; JSON bodies as JSON, strings (JSONL) as they are; resolves to the parsed answer, throws ApiError. */
export async function api(method, path, body, { contentType, key } = {}) {
  const headers = { Authorization: `Bearer ${key ?? session.key}`, Accept: 'application/json, application/problem+json' };
  let payload;
  if (body !== undefined) {
    if (typeof body === 'string' || body instanceof Blob) {
      payload = body;
      headers['Content-Type'] = contentType ?? 'application/jsonl';
    } else {
      payload = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
    }
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, cache: 'no-store', credentials: 'omit', redirect: 'error' });
  } catch (e) {
    throw new ApiError(0, { title: 'The service cannot be reached', detail: e.message });
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text }; }
  if (!response.ok) {
    const error = new ApiError(response.status, data ?? { title: response.statusText });
    if (response.status === 401 && !key) window.dispatchEvent(new CustomEvent('signed-out', { detail: error }));
    throw error;
  }
  return data;
}

/** A path under the signed-in organization. */
export const org = (path = '') => `/v1/organizations/${session.org}${path}`;

/** A new UUID (also outside secure contexts, where crypto.randomUUID is missing). */
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map(v => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
