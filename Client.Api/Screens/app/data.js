// Training Data Manager (spec §6): import, upload, add; counts; example cards with edit, remove and validate;
// filters and sort; the quality report with links to the examples at fault.
import { api, org } from './api.js';
import { h, fill, fmt, stars, field, select, busy, notice } from './ui.js';

const PAGE = 20;

export async function render(main) {
  const [agents, catalog] = await Promise.all([api('GET', org('/agents')), api('GET', '/v1/base-models')]);
  const counts = h('p', { id: 'counts', class: 'counts' });
  const focus = h('section', { id: 'focus', 'aria-label': 'Example at fault', hidden: true });
  const list = h('div', { id: 'examples', class: 'cards' });
  const more = h('button', { type: 'button', class: 'quiet', hidden: true }, 'Load more');
  const quality = h('section', { id: 'quality', 'aria-labelledby': 'quality-title' });
  const state = { cursor: null };

  const filters = {
    validation: select('validation', [['', 'All'], ['validated', 'Validated'], ['pending', 'Pending']], ''),
    agentId: select('agentId', [['', 'All agents'], ...agents.map(a => [a.id, a.name])], ''),
    tag: h('input', { name: 'tag', placeholder: 'any tag', maxlength: 100 }),
    q: h('input', { name: 'q', type: 'search', placeholder: 'words in the messages', maxlength: 200 }),
    sort: select('sort', [['date', 'Newest first'], ['quality', 'Quality'], ['source', 'Source']], 'date'),
  };
  const filterForm = h('form', { class: 'card', id: 'filters', role: 'search' },
    h('div', { class: 'grid' },
      field('Show', filters.validation), field('Agent', filters.agentId), field('Tag', filters.tag), field('Search', filters.q), field('Sort by', filters.sort)),
    h('p', { class: 'form-error', role: 'alert', hidden: true }),
    h('div', { class: 'row' }, h('button', { type: 'submit' }, 'Apply')));

  async function load(reset) {
    if (reset) state.cursor = null;
    const query = new URLSearchParams({ limit: String(PAGE), sort: filters.sort.value });
    for (const name of ['validation', 'agentId', 'tag', 'q']) if (filters[name].value.trim()) query.set(name, filters[name].value.trim());
    if (state.cursor) query.set('cursor', state.cursor);
    const page = await api('GET', org(`/examples?${query}`));
    fill(counts, h('strong', { class: 'validated-count' }, fmt.int(page.counts.validated)), ' validated · ',
      h('strong', { class: 'pending-count' }, fmt.int(page.counts.pending)), ' pending');
    const cards = page.items.map(e => exampleCard(e, agents, () => load(true)));
    if (reset) fill(list, cards.length ? cards : h('p', { class: 'muted' }, 'No example matches.'));
    else list.append(...cards);
    state.cursor = page.nextCursor;
    more.hidden = !page.nextCursor;
  }
  const reload = () => load(true).catch(notice);

  filterForm.addEventListener('submit', event => {
    event.preventDefault();
    busy(filterForm.querySelector('button[type=submit]'), () => load(true), filterForm);
  });
  more.addEventListener('click', () => busy(more, () => load(false)));

  fill(main,
    h('h1', {}, 'Training Data Manager'),
    counts,
    h('div', { class: 'cards' },
      importCard(agents, reload),
      uploadCard(agents, catalog, reload),
      addCard(agents, reload)),
    quality,
    h('h2', {}, 'Examples'),
    filterForm,
    focus,
    list,
    more);
  renderQuality(quality, catalog, focus, agents, reload);
  await load(true);
}

function importCard(agents, reload) {
  const inputs = {
    agentId: select('agentId', [['', 'All agents'], ...agents.map(a => [a.id, a.name])], ''),
    minRating: select('minRating', [['', 'Any rating'], ...[5, 4, 3, 2, 1].map(n => [String(n), `${n} or more`])], '4'),
    endedFrom: h('input', { name: 'endedFrom', type: 'date' }),
    endedTo: h('input', { name: 'endedTo', type: 'date' }),
  };
  const report = h('div', { 'aria-live': 'polite' });
  const button = h('button', { type: 'submit' }, 'Import');
  const form = h('form', { class: 'card', id: 'import-form', novalidate: true },
    h('h2', {}, 'Import from conversations'),
    field('Agent', inputs.agentId), field('Minimum rating', inputs.minRating),
    h('div', { class: 'row' }, field('Ended from', inputs.endedFrom), field('Ended before', inputs.endedTo)),
    h('p', { class: 'form-error', role: 'alert', hidden: true }), button, report);
  form.addEventListener('submit', event => {
    event.preventDefault();
    busy(button, async () => {
      const day = v => v ? new Date(`${v}T00:00:00Z`).toISOString() : null;
      const answer = await api('POST', org('/conversations/imports'), {
        agentId: inputs.agentId.value || null,
        minRating: inputs.minRating.value ? Number(inputs.minRating.value) : null,
        endedFrom: day(inputs.endedFrom.value),
        endedTo: day(inputs.endedTo.value),
      });
      fill(report, h('p', { class: 'import-report' },
        `${fmt.count(answer.conversations, 'conversation')} matched: ${fmt.count(answer.created, 'example')} created, `,
        `${fmt.int(answer.alreadyImported)} already imported, ${fmt.int(answer.skipped)} skipped.`),
        answer.issues?.length ? h('ul', {}, answer.issues.slice(0, 20).map(i => h('li', {}, i.reason ?? JSON.stringify(i)))) : null);
      reload();
    }, form);
  });
  return form;
}

function uploadCard(agents, catalog, reload) {
  const inputs = {
    file: h('input', { name: 'file', type: 'file', accept: '.jsonl,.json,.txt,application/jsonl', required: true }),
    baseModel: select('baseModel', [['', 'No target (token counts with o200k_base)'], ...catalog.filter(m => m.fineTunable).map(m => [m.id, m.id])], ''),
    agentId: select('agentId', [['', 'No agent (the organization\'s)'], ...agents.map(a => [a.id, a.name])], ''),
    mode: select('mode', [['allOrNothing', 'All or nothing'], ['storeValid', 'Store the valid lines']], 'allOrNothing'),
    dryRun: h('input', { name: 'dryRun', type: 'checkbox' }),
  };
  const report = h('div', { id: 'upload-report', 'aria-live': 'polite' });
  const button = h('button', { type: 'submit' }, 'Upload');
  const form = h('form', { class: 'card', id: 'upload-form', novalidate: true },
    h('h2', {}, 'Upload JSONL'),
    h('p', { class: 'muted' }, 'One example per line in OpenAI\'s chat format: {"messages":[{"role":"user",…},{"role":"assistant",…}]}.'),
    field('File', inputs.file), field('Target base model', inputs.baseModel), field('Agent', inputs.agentId), field('Mode', inputs.mode),
    h('label', { class: 'row' }, inputs.dryRun, 'Dry run: check every line, store nothing'),
    h('p', { class: 'form-error', role: 'alert', hidden: true }), button, report);
  form.addEventListener('submit', event => {
    event.preventDefault();
    busy(button, async () => {
      fill(report);
      const file = inputs.file.files[0];
      if (!file) throw Object.assign(new Error('Choose a JSONL file.'), {});
      const query = new URLSearchParams({ mode: inputs.mode.value, dryRun: String(inputs.dryRun.checked) });
      if (inputs.baseModel.value) query.set('baseModel', inputs.baseModel.value);
      if (inputs.agentId.value) query.set('agentId', inputs.agentId.value);
      try {
        showUpload(report, await api('POST', org(`/examples/uploads?${query}`), file, { contentType: 'application/jsonl' }));
        reload();
      } catch (e) {
        if (e.problem?.issues) { showUpload(report, e.problem, true); return; }
        throw e;
      }
    }, form);
  });
  return form;
}

function showUpload(box, answer, refused) {
  fill(box,
    h('p', { class: refused ? 'error' : '' }, answer.dryRun && refused ? 'Dry run: ' : '', refused ? `${answer.title}: ${answer.detail}` : answer.summary),
    answer.issues?.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'upload-issues' },
      h('caption', {}, `Lines at fault${answer.issuesTruncated ? ' (the first ones)' : ''}`),
      h('thead', {}, h('tr', {}, ['Line', 'Where', 'Problem', 'Severity'].map(c => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, answer.issues.map(i => h('tr', { dataset: { line: i.line } },
        h('td', {}, String(i.line)), h('td', {}, i.path ?? ''), h('td', {}, i.reason, h('small', { class: 'muted' }, ` (${i.code})`)), h('td', {}, i.severity)))))) : null);
}

function addCard(agents, reload) {
  const inputs = {
    agentId: select('agentId', [['', 'No agent (the organization\'s)'], ...agents.map(a => [a.id, a.name])], ''),
    system: h('textarea', { name: 'system', rows: 2, placeholder: 'optional' }),
    user: h('textarea', { name: 'user', rows: 3, required: true }),
    assistant: h('textarea', { name: 'assistant', rows: 3, required: true }),
    tags: h('input', { name: 'tags', placeholder: 'billing, refunds' }),
  };
  const button = h('button', { type: 'submit' }, 'Add example');
  const form = h('form', { class: 'card', id: 'add-form', novalidate: true },
    h('h2', {}, 'Add an example'),
    field('Agent', inputs.agentId), field('System message', inputs.system), field('User says', inputs.user), field('Assistant answers', inputs.assistant),
    field('Tags', inputs.tags, 'Comma-separated.'),
    h('p', { class: 'form-error', role: 'alert', hidden: true }), button);
  form.addEventListener('submit', event => {
    event.preventDefault();
    busy(button, async () => {
      const messages = [];
      if (inputs.system.value.trim()) messages.push({ role: 'system', content: inputs.system.value });
      messages.push({ role: 'user', content: inputs.user.value }, { role: 'assistant', content: inputs.assistant.value });
      await api('POST', org('/examples'), { example: { messages }, agentId: inputs.agentId.value || null, tags: splitTags(inputs.tags.value) });
      form.reset();
      notice('Example added (pending until validated).', 'ok');
      reload();
    }, form);
  });
  return form;
}

const splitTags = text => text.split(',').map(t => t.trim()).filter(Boolean);

function chat(messages) {
  return h('div', { class: 'chat' }, messages.map(m => h('div', { class: `turn ${m.role}` },
    h('b', {}, m.role), typeof m.content === 'string' ? m.content : JSON.stringify(m.content ?? m.tool_calls ?? ''))));
}

export function exampleCard(e, agents, reload) {
  const card = h('article', { class: 'card example', dataset: { exampleId: e.id, validated: String(e.isValidated) } });
  const form = h('form', { class: 'actions' }, h('p', { class: 'form-error', role: 'alert', hidden: true }));
  const button = (label, action, quiet = true) => {
    const b = h('button', { type: 'button', class: quiet ? 'quiet' : '' }, label);
    b.addEventListener('click', () => busy(b, action, form));
    return b;
  };
  const score = select('qualityScore', [['1', '★★★★★ 1.0'], ['0.8', '★★★★☆ 0.8'], ['0.6', '★★★☆☆ 0.6'], ['0.4', '★★☆☆☆ 0.4'], ['0.2', '★☆☆☆☆ 0.2']], '0.8');
  score.setAttribute('aria-label', 'Quality score');
  const agent = agents.find(a => a.id === e.agentId);
  form.append(h('div', { class: 'row' },
    e.isValidated ? null : [score, button('Validate', async () => {
      await api('POST', org(`/examples/${e.id}/validation`), { qualityScore: Number(score.value) });
      await reload();
    }, false)],
    button('Edit', async () => edit(card, e, reload)),
    button('Remove', async () => {
      if (!confirm('Remove this example? This cannot be undone.')) return;
      await api('DELETE', org(`/examples/${e.id}`));
      await reload();
    })));
  fill(card,
    h('header', {},
      h('span', { class: `badge status-${e.isValidated ? 'validated' : 'pending'}` }, e.isValidated ? 'validated' : 'pending'),
      h('span', { class: 'badge' }, e.source),
      agent ? h('span', { class: 'badge' }, agent.name) : null,
      stars(e.qualityScore)),
    chat(e.example.messages ?? []),
    e.tags.length ? h('div', { class: 'tags' }, e.tags.map(t => h('span', { class: 'badge' }, `#${t}`))) : null,
    e.notes ? h('p', { class: 'muted' }, e.notes) : null,
    h('small', { class: 'muted' }, `Added ${fmt.time(e.createdAt)}`),
    form);
  return card;
}

/** Edits the messages' contents and the tags; changing the content clears the validation (the API's rule). */
function edit(card, e, reload) {
  const messages = (e.example.messages ?? []).map(m => ({ ...m }));
  const areas = messages.map((m, i) => field(m.role, h('textarea', { name: `content-${i}`, rows: 2, value: typeof m.content === 'string' ? m.content : '', disabled: typeof m.content !== 'string' })));
  const tags = h('input', { name: 'tags', value: e.tags.join(', ') });
  const save = h('button', { type: 'submit' }, 'Save');
  const cancel = h('button', { type: 'button', class: 'quiet', onclick: () => reload() }, 'Cancel');
  const form = h('form', { class: 'edit', novalidate: true }, areas, field('Tags', tags),
    h('p', { class: 'form-error', role: 'alert', hidden: true }), h('div', { class: 'row' }, save, cancel));
  form.addEventListener('submit', event => {
    event.preventDefault();
    busy(save, async () => {
      messages.forEach((m, i) => { if (typeof m.content === 'string') m.content = form.querySelector(`[name="content-${i}"]`).value; });
      await api('PATCH', org(`/examples/${e.id}`), { example: { ...e.example, messages }, tags: splitTags(tags.value) });
      notice('Example saved.', 'ok');
      await reload();
    }, form);
  });
  fill(card, h('h3', {}, 'Edit example'), form);
  form.querySelector('textarea')?.focus();
}

function renderQuality(section, catalog, focus, agents, reload) {
  const baseModel = select('baseModel', catalog.filter(m => m.fineTunable).map(m => [m.id, m.id]), catalog.some(m => m.id === 'sandbox/sandbox-small') ? 'sandbox/sandbox-small' : undefined);
  const out = h('div', { id: 'quality-report', 'aria-live': 'polite' });
  const button = h('button', { type: 'submit' }, 'Check quality');
  const form = h('form', { class: 'card', novalidate: true }, h('div', { class: 'row' }, field('Target base model', baseModel), button),
    h('p', { class: 'form-error', role: 'alert', hidden: true }), out);
  const show = async id => {
    const example = await api('GET', org(`/examples/${id}`));
    fill(focus, h('h3', {}, 'Example at fault'), exampleCard(example, agents, async () => { focus.hidden = true; await reload(); }));
    focus.hidden = false;
    focus.scrollIntoView({ block: 'start' });
  };
  const link = id => h('a', { href: '#/data', onclick: ev => { ev.preventDefault(); show(id).catch(notice); } }, id.slice(0, 8));
  form.addEventListener('submit', event => {
    event.preventDefault();
    busy(button, async () => {
      const r = await api('GET', org(`/examples/quality?baseModel=${encodeURIComponent(baseModel.value)}`));
      fill(out,
        h('p', {}, `${fmt.int(r.examples)} examples, ${fmt.int(r.totalTokens)} tokens${r.tokensApproximate ? ' (approximate)' : ''}; median ${r.tokensPerExample.median} tokens per example.`),
        h('ul', { class: 'verdicts' }, r.verdicts.map(v => h('li', { class: v.level === 'error' ? 'error' : '' }, `${v.level === 'ok' ? '✓' : '⚠'} ${v.message}`))),
        h('dl', {},
          h('dt', {}, 'Exact duplicates'), h('dd', {}, r.exactDuplicates.length ? r.exactDuplicates.map(g => h('span', {}, '[', g.map((id, i) => [i ? ', ' : '', link(id)]), '] ')) : 'none'),
          h('dt', {}, 'Near duplicates'), h('dd', {}, r.nearDuplicates.length ? r.nearDuplicates.map(g => h('span', {}, '[', g.map((id, i) => [i ? ', ' : '', link(id)]), '] ')) : 'none'),
          h('dt', {}, `Over ${r.tokenLimit ?? '?'} tokens`), h('dd', {}, r.overTokenLimit.length ? r.overTokenLimit.map((id, i) => [i ? ', ' : '', link(id)]) : 'none'),
          h('dt', {}, 'Personal data'), h('dd', {}, r.personalData.length ? h('ul', {}, r.personalData.map(p => h('li', {}, link(p.exampleId), ` ${p.kind} at ${p.path}: ${p.masked}`))) : 'none'),
          h('dt', {}, 'Balance by tag'), h('dd', {}, Object.keys(r.byTag).length ? Object.entries(r.byTag).map(([t, n]) => `#${t}: ${n}`).join(' · ') : 'no tags'),
          h('dt', {}, 'Balance by agent'), h('dd', {}, Object.entries(r.byAgent).map(([a, n]) => `${agents.find(x => x.id === a)?.name ?? a}: ${n}`).join(' · '))));
    }, form);
  });
  fill(section, h('h2', { id: 'quality-title' }, 'Quality report'), form);
}
