// Fine-Tuning Dashboard (spec §6): model cards, training jobs, and a new fine-tuned model with its estimate.
import { api, org, uuid } from './api.js';
import { h, fill, fmt, stars, lossChart, field, select, busy, notice, formError } from './ui.js';

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

export async function render(main, { organization }) {
  const models = h('section', { id: 'models', 'aria-labelledby': 'models-title' });
  const jobs = h('section', { id: 'jobs', 'aria-labelledby': 'jobs-title' });
  const create = h('section', { id: 'create-model', 'aria-labelledby': 'create-title' });
  fill(main, h('h1', {}, 'Fine-Tuning Dashboard'), models, jobs, create);

  const [agents, catalog] = await Promise.all([
    api('GET', org('/agents')),
    api('GET', '/v1/base-models'),
  ]);
  let timer = null;
  let stopped = false;

  async function refresh() {
    try {
      const [cards, list] = await Promise.all([api('GET', org('/models')), api('GET', org('/training-jobs?limit=20'))]);
      renderModels(models, cards, agents, refresh);
      const active = await renderJobs(jobs, list.jobs, refresh);
      clearTimeout(timer);
      if (!stopped && active > 0) timer = setTimeout(refresh, 2000);
    } catch (e) {
      notice(e);
    }
  }
  renderCreate(create, organization, agents, catalog, refresh);
  await refresh();
  return () => { stopped = true; clearTimeout(timer); };
}

function renderModels(section, cards, agents, refresh) {
  fill(section, h('h2', { id: 'models-title' }, 'Fine-tuned models'),
    cards.length === 0
      ? h('p', { class: 'muted' }, 'No fine-tuned model yet. Validate at least 10 examples in Training data, then create one below.')
      : h('div', { class: 'cards' }, cards.map(card => modelCard(card, agents, refresh))));
}

function modelCard(card, agents, refresh) {
  const m = card.model;
  const metrics = h('div', { class: 'metrics', hidden: true });
  const agentChoice = select('agentId', [['', 'Choose an agent…'], ...agents.map(a => [a.id, a.name])], '');
  agentChoice.setAttribute('aria-label', `Agent to use ${m.name} in`);
  const form = h('form', { class: 'actions' }, h('p', { class: 'form-error', role: 'alert', hidden: true }));
  const act = (label, action, options = {}) => {
    const button = h('button', { type: 'button', class: options.quiet ? 'quiet' : '', disabled: options.disabled }, label);
    button.addEventListener('click', () => busy(button, action, form));
    return button;
  };
  const patch = status => async () => {
    if (status === 'archived' && !confirm(`Archive ${m.name} v${m.version}? Agents using it fall back to their base model.`)) return;
    await api('PATCH', org(`/models/${m.id}`), { status });
    notice(`${m.name} v${m.version} is now ${status}.`, 'ok');
    await refresh();
  };
  form.append(
    h('div', { class: 'row' }, agentChoice, act('Use in agent', async () => {
      if (!agentChoice.value) { agentChoice.focus(); throw new Error('Choose the agent that should use this model.'); }
      await api('PUT', org(`/agents/${agentChoice.value}/deployment`), { model: { modelId: m.id } });
      notice(`${agents.find(a => a.id === agentChoice.value)?.name} now uses ${m.name} v${m.version}.`, 'ok');
    }, { disabled: m.status !== 'active' })),
    h('div', { class: 'row' },
      act('View metrics', async () => {
        if (!metrics.hidden) { metrics.hidden = true; return; }
        showMetrics(metrics, await api('GET', org(`/usage/metrics?modelId=${m.id}`)));
        metrics.hidden = false;
      }, { quiet: true }),
      m.status === 'active' ? act('Deprecate', patch('deprecated'), { quiet: true }) : null,
      m.status === 'deprecated' || m.status === 'archived' ? act('Reactivate', patch('active'), { quiet: true }) : null,
      m.status !== 'archived' && m.status !== 'deleted' ? act('Archive', patch('archived'), { quiet: true }) : null));
  return h('article', { class: 'card model-card', dataset: { modelId: m.id } },
    h('header', {},
      h('h3', {}, `${m.name} `, h('span', { class: 'muted' }, `v${m.version}`)),
      h('span', { class: `badge status-${m.status}` }, m.status),
      card.isDefault ? h('span', { class: 'badge' }, 'default') : null,
      m.simulated ? h('span', { class: 'badge simulated', title: 'Trained on the sandbox provider: nothing was trained' }, 'simulated') : null),
    h('dl', {},
      h('dt', {}, 'Base model'), h('dd', {}, m.baseModel),
      h('dt', {}, 'Requests this month'), h('dd', { class: 'requests' }, fmt.int(card.usage.requests)),
      h('dt', {}, 'Cost this month'), h('dd', {}, fmt.usd(card.usage.costUsd)),
      h('dt', {}, 'Satisfaction'), h('dd', {}, card.usage.satisfaction === null ? h('span', { class: 'muted' }, 'no ratings') : [stars(card.usage.satisfaction, 5), ` (${card.usage.ratings})`]),
      h('dt', {}, 'Trained on'), h('dd', {}, `${fmt.int(m.trainingExamples)} examples (+${fmt.int(m.validationExamples)} validation)`),
      m.shutdownDate ? [h('dt', {}, 'Base model shuts down'), h('dd', {}, fmt.date(m.shutdownDate))] : null),
    card.warnings.length ? h('ul', { class: 'warnings' }, card.warnings.map(w => h('li', {}, '⚠ ', typeof w === 'string' ? w : (w.message ?? JSON.stringify(w))))) : null,
    form,
    metrics);
}

function showMetrics(box, metrics) {
  const t = metrics.total;
  fill(box, h('h4', {}, `Last 24 hours`),
    h('dl', {},
      h('dt', {}, 'Requests'), h('dd', {}, fmt.int(t.requests)),
      h('dt', {}, 'Success rate'), h('dd', {}, fmt.pct(t.successRate)),
      h('dt', {}, 'Latency p50 / p95 / p99'), h('dd', {}, `${fmt.ms(t.latency?.p50Ms)} / ${fmt.ms(t.latency?.p95Ms)} / ${fmt.ms(t.latency?.p99Ms)}`),
      h('dt', {}, 'Tokens in / out'), h('dd', {}, `${fmt.int(t.inputTokens)} / ${fmt.int(t.outputTokens)}`),
      h('dt', {}, 'Cost'), h('dd', {}, fmt.usd(t.costUsd)),
      h('dt', {}, 'Satisfaction'), h('dd', {}, t.meanSatisfaction === null || t.meanSatisfaction === undefined ? 'no ratings' : `${t.meanSatisfaction.toFixed(2)} of 5 (${t.ratings})`)));
}

async function renderJobs(section, jobs, refresh) {
  const active = jobs.filter(j => !FINISHED.has(j.status));
  const details = await Promise.all(active.map(async j => ({
    job: await api('GET', org(`/training-jobs/${j.id}`)),
    events: (await api('GET', org(`/training-jobs/${j.id}/events?limit=500`))).events,
  })));
  const recent = jobs.filter(j => FINISHED.has(j.status)).slice(0, 10);
  fill(section, h('h2', { id: 'jobs-title' }, 'Training jobs'),
    active.length === 0 ? h('p', { class: 'muted' }, 'No job is running.') : h('div', { class: 'cards' }, details.map(d => activeJob(d, refresh))),
    recent.length === 0 ? null : h('table', { class: 'jobs' },
      h('caption', {}, 'Finished jobs'),
      h('thead', {}, h('tr', {}, ['Name', 'Base model', 'Status', 'Examples', 'Cost', 'Finished'].map(c => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, recent.map(j => h('tr', { dataset: { jobId: j.id } },
        h('td', {}, j.name ?? '—'), h('td', {}, j.baseModel),
        h('td', {}, h('span', { class: `badge status-${j.status}` }, j.status), j.errorMessage ? h('small', { class: 'error' }, ` ${j.errorMessage}`) : null),
        h('td', {}, fmt.int(j.trainingExamples)), h('td', {}, fmt.usd(j.actualCostUsd ?? j.estimatedCostUsd)), h('td', {}, fmt.time(j.finishedAt)))))));
  return active.length;
}

function activeJob({ job, events }, refresh) {
  const progress = job.progress ?? 0;
  const cancel = h('button', { type: 'button', class: 'quiet', disabled: job.cancelRequested }, job.cancelRequested ? 'Cancelling…' : 'Cancel');
  cancel.addEventListener('click', () => busy(cancel, async () => {
    if (!confirm(`Cancel the training of ${job.name}?`)) return;
    await api('POST', org(`/training-jobs/${job.id}/cancel`));
    await refresh();
  }));
  return h('article', { class: 'card job', dataset: { jobId: job.id, status: job.status } },
    h('header', {}, h('h3', {}, job.name ?? job.id), h('span', { class: `badge status-${job.status}` }, job.status),
      job.simulated ? h('span', { class: 'badge simulated' }, 'simulated') : null),
    h('progress', { max: 1, value: progress, 'aria-label': `${Math.round(progress * 100)} % complete` }),
    h('dl', {},
      h('dt', {}, 'Complete'), h('dd', { class: 'progress-text' }, `${Math.round(progress * 100)} %${job.step !== null ? ` (step ${job.step} of ${job.totalSteps})` : ''}`),
      h('dt', {}, 'Started'), h('dd', {}, fmt.time(job.startedAt ?? job.createdAt)),
      h('dt', {}, 'ETA'), h('dd', {}, fmt.time(job.estimatedFinishAt)),
      h('dt', {}, 'Examples'), h('dd', {}, `${fmt.int(job.dataset?.trainingExamples)} training, ${fmt.int(job.dataset?.validationExamples)} validation`),
      h('dt', {}, 'Base model'), h('dd', {}, job.baseModel),
      h('dt', {}, 'Loss'), h('dd', {}, job.trainingLoss === null ? '—' : `${job.trainingLoss}${job.validationLoss !== null ? ` (validation ${job.validationLoss})` : ''}`)),
    lossChart(events.filter(e => e.trainLoss !== null || e.validationLoss !== null), job.totalSteps),
    h('div', { class: 'row' }, cancel));
}

/** Why a base model cannot be chosen by this organization today, or null when it can. */
function refusal(model, plan, today) {
  if (!model.fineTunable) return 'not fine-tunable';
  if (model.newJobsUntil && model.newJobsUntil < today) return `takes no new jobs since ${model.newJobsUntil}`;
  if (!plan.allowedBaseModels.includes(model.id)) return `not in the ${plan.displayName} plan`;
  return null;
}

function renderCreate(section, organization, agents, catalog, refresh) {
  const plan = organization.plan;
  if (!plan.fineTuning) {
    fill(section, h('h2', { id: 'create-title' }, 'Create new fine-tuned model'),
      h('p', {}, `The ${plan.displayName} plan does not include fine-tuning. Few-shot prompting with your validated examples works on every plan.`));
    return;
  }
  const today = new Date().toISOString().slice(0, 10);
  const providers = [...new Set(catalog.map(m => m.provider))];
  const provider = select('provider', providers.map(p => [p, p]), providers.includes('sandbox') ? 'sandbox' : providers[0]);
  const baseModel = h('select', { name: 'baseModel' });
  const fillModels = () => fill(baseModel, catalog.filter(m => m.provider === provider.value).map(m => {
    const why = refusal(m, plan, today);
    return h('option', { value: m.id, disabled: !!why }, why ? `${m.id} — ${why}` : m.id);
  }));
  provider.addEventListener('change', fillModels);
  fillModels();
  const firstAllowed = [...baseModel.options].find(o => !o.disabled);
  if (firstAllowed) baseModel.value = firstAllowed.value;
  const inputs = {
    name: h('input', { name: 'name', required: true, maxlength: 200, value: 'Customer Support Model' }),
    agentId: select('agentId', [['', 'All of the organization\'s examples'], ...agents.map(a => [a.id, a.name])], ''),
    epochs: h('input', { name: 'epochs', type: 'number', min: 1, max: 50, placeholder: 'auto' }),
    validationRatio: h('input', { name: 'validationRatio', type: 'number', min: 0, max: 0.5, step: 0.05, value: 0.2 }),
    monthlyRequests: h('input', { name: 'monthlyRequests', type: 'number', min: 1, value: 10000 }),
    averageInputTokens: h('input', { name: 'averageInputTokens', type: 'number', min: 0, value: 400 }),
    averageOutputTokens: h('input', { name: 'averageOutputTokens', type: 'number', min: 0, value: 150 }),
  };
  const result = h('div', { class: 'estimate', 'aria-live': 'polite' });
  const estimateButton = h('button', { type: 'button' }, 'Estimate cost');
  const startButton = h('button', { type: 'submit', disabled: true }, 'Start training');
  const form = h('form', { class: 'card', id: 'create-form', novalidate: true },
    h('div', { class: 'grid' },
      field('Name', inputs.name),
      field('Agent', inputs.agentId),
      field('Provider', provider),
      field('Base model', baseModel, `Models your plan (${plan.displayName}) does not allow, or that take no new jobs, are shown with the reason.`),
      field('Epochs', inputs.epochs, 'Empty: chosen from the number of examples.'),
      field('Validation share', inputs.validationRatio)),
    h('fieldset', {}, h('legend', {}, 'Projection (spec §9): expected traffic'),
      h('div', { class: 'grid' },
        field('Requests per month', inputs.monthlyRequests),
        field('Average input tokens', inputs.averageInputTokens),
        field('Average output tokens', inputs.averageOutputTokens))),
    h('p', { class: 'form-error', role: 'alert', hidden: true }),
    h('div', { class: 'row' }, estimateButton, startButton),
    result);
  let jobId = uuid(); // one id per intended job: a double submit answers the same job
  const number = el => el.value === '' ? null : Number(el.value);
  const common = () => ({
    baseModel: baseModel.value,
    agentId: inputs.agentId.value || null,
    validationRatio: number(inputs.validationRatio),
    hyperparameters: { epochs: number(inputs.epochs) },
  });
  const invalidate = () => { startButton.disabled = true; };
  form.addEventListener('input', invalidate);
  form.addEventListener('change', invalidate);
  estimateButton.addEventListener('click', () => busy(estimateButton, async () => {
    const answer = await api('POST', org('/training-jobs/estimate'), {
      ...common(),
      projection: { monthlyRequests: number(inputs.monthlyRequests), averageInputTokens: number(inputs.averageInputTokens), averageOutputTokens: number(inputs.averageOutputTokens) },
    });
    showEstimate(result, answer);
    startButton.disabled = false;
  }, form));
  form.addEventListener('submit', event => {
    event.preventDefault();
    busy(startButton, async () => {
      const job = await api('POST', org('/training-jobs'), { id: jobId, name: inputs.name.value, ...common() });
      jobId = uuid();
      startButton.disabled = true;
      fill(result);
      notice(`Training started: ${job.name} on ${job.baseModel} (${job.status}).`, 'ok');
      await refresh();
    }, form);
  });
  fill(section, h('h2', { id: 'create-title' }, 'Create new fine-tuned model'), form);
  formError(form, null);
}

function showEstimate(box, { estimate, trainingExamples, validationExamples, projection }) {
  fill(box,
    h('h3', {}, 'Estimate'),
    h('dl', {},
      h('dt', {}, 'Examples'), h('dd', {}, `${fmt.int(trainingExamples)} training, ${fmt.int(validationExamples)} validation`),
      h('dt', {}, 'Epochs'), h('dd', {}, `${estimate.epochs}${estimate.epochsAuto ? ' (auto)' : ''}`),
      h('dt', {}, 'Billable training tokens'), h('dd', {}, fmt.int(estimate.billableTrainingTokens)),
      h('dt', {}, 'Training cost'), h('dd', { class: 'total-cost' }, fmt.cost(estimate.totalCost))),
    estimate.notes?.length ? h('ul', { class: 'notes' }, estimate.notes.map(n => h('li', {}, n))) : null,
    projection ? [
      h('h3', {}, 'Monthly projection'),
      h('table', {},
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Approach'), h('th', { scope: 'col' }, 'Per month'))),
        h('tbody', {},
          h('tr', {}, h('td', {}, 'Base model'), h('td', {}, fmt.cost(projection.baseMonthly))),
          h('tr', {}, h('td', {}, `Few-shot (${projection.input.fewShotExamples} examples)`), h('td', {}, fmt.cost(projection.fewShotMonthly))),
          h('tr', {}, h('td', {}, 'Fine-tuned'), h('td', {}, fmt.cost(projection.fineTunedMonthly))))),
      h('p', {}, `Against few-shot: ${projection.versusFewShot.note ?? fmt.cost(projection.versusFewShot.monthlySaving)}`),
      h('p', {}, `Against the base model: ${projection.versusBase.note ?? fmt.cost(projection.versusBase.monthlySaving)}`),
    ] : null);
}
