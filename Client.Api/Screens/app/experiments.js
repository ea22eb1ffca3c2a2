// Experiments on an agent: deploy a model, start an A/B experiment with a split and a margin, watch the arms and the
// verdicts, change the split, promote or stop.
import { api, org } from './api.js';
import { h, fill, fmt, field, select, busy, notice } from './ui.js';

const VERDICTS = {
  notEnoughData: 'Not enough data yet',
  candidateBetter: 'Candidate better',
  candidateWorse: 'Candidate worse',
  noDifference: 'No difference (within the margin)',
};

export async function render(main, ctx) {
  let cleanup = null;
  const draw = async preferredAgent => {
    cleanup?.();
    cleanup = await drawScreen(main, ctx, preferredAgent, draw);
  };
  await draw(null);
  return () => cleanup?.();
}

async function drawScreen(main, { organization }, preferredAgent, redraw) {
  const [agents, cards, catalog] = await Promise.all([api('GET', org('/agents')), api('GET', org('/models')), api('GET', '/v1/base-models')]);
  const today = new Date().toISOString().slice(0, 10);
  const servable = catalog.filter(m => !m.shutdownDate || m.shutdownDate > today);
  const add = addAgentCard(servable, created => redraw(created.id));
  if (agents.length === 0) {
    fill(main, h('h1', {}, 'Experiments'), h('p', {}, 'No agent yet. An agent is what the runtime resolves a model for: add the first one.'), add);
    return null;
  }
  const choices = [
    ...cards.filter(c => c.model.status === 'active').map(c => [`model:${c.model.id}`, `${c.model.name} v${c.model.version} (fine-tuned, ${c.model.baseModel})`]),
    ...servable.map(m => [`base:${m.id}`, `${m.id} (base)`]),
  ];
  const agent = select('agentId', agents.map(a => [a.id, a.name]), agents.some(a => a.id === preferredAgent) ? preferredAgent : agents[0].id);
  const body = h('div', { id: 'experiment' });
  fill(main, h('h1', {}, 'Experiments'), h('form', { class: 'card row', id: 'agent-choice' }, field('Agent', agent)), body, add);
  let timer = null;
  let stopped = false;

  async function refresh() {
    clearTimeout(timer);
    try {
      const deployment = await api('GET', org(`/agents/${agent.value}/deployment`)).catch(e => { if (e.status === 404) return null; throw e; });
      const results = deployment?.experiment ? await api('GET', org(`/agents/${agent.value}/deployment/experiment/results`)) : null;
      show(body, { organization, agentId: agent.value, deployment, results, choices, cards, refresh });
    } catch (e) {
      notice(e);
    }
    if (!stopped) timer = setTimeout(refresh, 5000);
  }
  agent.addEventListener('change', refresh);
  await refresh();
  return () => { stopped = true; clearTimeout(timer); };
}

/** A new agent: its name and the base model it falls back to. */
function addAgentCard(models, added) {
  const name = h('input', { name: 'name', required: true, maxlength: 200, placeholder: 'Support bot' });
  const base = select('defaultBaseModel', [['', 'None'], ...models.map(m => [m.id, m.id])], models.some(m => m.id === 'openai/gpt-4o-mini-2024-07-18') ? 'openai/gpt-4o-mini-2024-07-18' : '');
  const button = h('button', { type: 'submit' }, 'Add agent');
  const form = h('form', { class: 'card', id: 'add-agent', novalidate: true },
    h('h2', {}, 'Add an agent'),
    h('div', { class: 'grid' }, field('Name', name), field('Default base model', base, 'What the agent falls back to when its model cannot serve.')),
    h('p', { class: 'form-error', role: 'alert', hidden: true }), button);
  form.addEventListener('submit', event => {
    event.preventDefault();
    busy(button, async () => {
      const created = await api('POST', org('/agents'), { name: name.value, defaultBaseModel: base.value || null });
      notice(`Agent ${created.name} added.`, 'ok');
      await added(created);
    }, form);
  });
  return form;
}

const choice = value => value.startsWith('model:') ? { modelId: value.slice(6) } : { baseModel: value.slice(5) };

function describeChoice(c, cards) {
  if (!c) return '—';
  if (c.modelId) {
    const card = cards.find(x => x.model.id === c.modelId);
    return card ? `${card.model.name} v${card.model.version}` : c.modelId;
  }
  return c.baseModel;
}

function show(box, ctx) {
  const { deployment, results, organization } = ctx;
  // The form being typed in survives the 5 s refresh.
  if (box.contains(document.activeElement) && document.activeElement.matches('input, select, textarea')) return;
  fill(box,
    deploymentCard(ctx),
    !deployment ? null
      : deployment.experiment ? runningCard(ctx)
        : organization.plan.abTesting ? startCard(ctx)
          : h('p', { class: 'card' }, `A/B testing is part of the Business and Enterprise plans; this organization is on ${organization.plan.displayName}.`),
    deployment?.pastExperiments?.length ? pastCard(deployment.pastExperiments, ctx.cards) : null);
  if (results) box.dataset.verdict = results.analysis.successRate.verdict;
}

function deploymentCard({ agentId, deployment, choices, cards, refresh }) {
  const model = select('model', choices, deployment?.model ? (deployment.model.modelId ? `model:${deployment.model.modelId}` : `base:${deployment.model.baseModel}`) : choices[0]?.[0]);
  const fallback = select('fallback', [['', 'The agent\'s base model'], ...choices.filter(c => c[0].startsWith('base:'))],
    deployment?.fallback?.baseModel ? `base:${deployment.fallback.baseModel}` : '');
  const button = h('button', { type: 'submit' }, deployment ? 'Change model' : 'Deploy');
  const form = h('form', { class: 'card', id: 'deploy-form', novalidate: true },
    h('h2', {}, 'Deployment'),
    deployment ? h('p', {}, `Serving ${describeChoice(deployment.model, cards)}; fallback ${describeChoice(deployment.fallback, cards)}.`)
      : h('p', { class: 'muted' }, 'This agent is not deployed yet: choose the model its traffic goes to.'),
    h('div', { class: 'grid' }, field('Model', model), field('Fallback', fallback)),
    h('p', { class: 'form-error', role: 'alert', hidden: true }), button);
  form.addEventListener('submit', event => {
    event.preventDefault();
    busy(button, async () => {
      await api('PUT', org(`/agents/${agentId}/deployment`), { model: choice(model.value), fallback: fallback.value ? choice(fallback.value) : null });
      notice('Deployment saved.', 'ok');
      await refresh();
    }, form);
  });
  return form;
}

function startCard({ agentId, deployment, choices, cards, refresh }) {
  const candidate = select('candidate', choices, choices.find(c => c[0].startsWith('model:'))?.[0] ?? choices[0]?.[0]);
  const share = h('input', { name: 'candidateShare', type: 'number', min: 1, max: 99, value: 20 });
  const margin = h('input', { name: 'margin', type: 'number', min: 0.1, max: 50, step: 0.1, value: 2 });
  const button = h('button', { type: 'submit' }, 'Start experiment');
  const form = h('form', { class: 'card', id: 'start-experiment', novalidate: true },
    h('h2', {}, 'Start an experiment'),
    h('p', {}, `Control: ${describeChoice(deployment.model, cards)} (the agent's current model).`),
    h('div', { class: 'grid' },
      field('Candidate', candidate),
      field('Candidate share (%)', share, 'Each conversation keeps its arm for the whole experiment.'),
      field('Margin (percentage points)', margin, 'Differences of success rate smaller than this count as no difference.')),
    h('p', { class: 'form-error', role: 'alert', hidden: true }), button);
  form.addEventListener('submit', event => {
    event.preventDefault();
    busy(button, async () => {
      await api('POST', org(`/agents/${agentId}/deployment/experiment`), {
        candidate: choice(candidate.value),
        candidateShare: share.value === '' ? null : Number(share.value) / 100,
        margin: margin.value === '' ? null : Number(margin.value) / 100,
      });
      notice('Experiment started.', 'ok');
      await refresh();
    }, form);
  });
  return form;
}

function armRow(name, m, fellBack) {
  return h('tr', {}, h('th', { scope: 'row' }, name), h('td', {}, fmt.int(m.requests)), h('td', {}, fmt.pct(m.successRate)),
    h('td', {}, m.meanSatisfaction === null ? '—' : `${m.meanSatisfaction.toFixed(2)} (${m.satisfactionCount})`),
    h('td', {}, fmt.ms(m.latency.p95Ms)), h('td', {}, fmt.usd(m.costUsd)), h('td', {}, fmt.int(fellBack)));
}

function verdict(a, unit) {
  const interval = a.lower === null ? '' : ` — difference ${unit(a.difference)}, interval [${unit(a.lower)}, ${unit(a.upper)}]`;
  return h('li', { class: `verdict ${a.verdict}`, dataset: { metric: a.metric, verdict: a.verdict } },
    h('strong', {}, `${a.metric === 'successRate' ? 'Success rate' : 'Satisfaction'}: ${VERDICTS[a.verdict] ?? a.verdict}`),
    interval, h('br'), h('small', { class: 'muted' }, `${a.reason ?? ''} n = ${a.controlCount} / ${a.candidateCount}, margin ${unit(a.margin)}.`));
}

function runningCard({ agentId, deployment, results, cards, refresh }) {
  const e = deployment.experiment;
  const form = h('form', { class: 'card', id: 'running-experiment', novalidate: true });
  const share = h('input', { name: 'candidateShare', type: 'number', min: 0, max: 100, value: Math.round(e.candidateShare * 100) });
  const act = (label, action, quiet) => {
    const b = h('button', { type: 'button', class: quiet ? 'quiet' : '' }, label);
    b.addEventListener('click', () => busy(b, action, form));
    return b;
  };
  const pct = v => v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)} pp`;
  const num = v => v === null || v === undefined ? '—' : v.toFixed(2);
  const a = results.analysis;
  fill(form,
    h('h2', {}, 'Running experiment'),
    h('p', {}, `Control ${describeChoice(e.control, cards)} against candidate ${describeChoice(e.candidate, cards)}, ${Math.round(e.candidateShare * 100)} % to the candidate, since ${fmt.time(e.startedAt)}.`),
    h('div', { class: 'table-wrap' }, h('table', { class: 'arms' },
      h('thead', {}, h('tr', {}, ['Arm', 'Requests', 'Success', 'Satisfaction', 'p95', 'Cost', 'Served by fallback'].map(c => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, armRow('Control', results.controlMetrics, results.controlServedByFallback), armRow('Candidate', results.candidateMetrics, results.candidateServedByFallback)))),
    h('ul', { class: 'verdicts' }, verdict(a.successRate, pct), verdict(a.satisfaction, num)),
    a.sampleRatio.mismatch ? h('p', { class: 'error' }, `⚠ Sample ratio mismatch: the candidate got ${fmt.pct(a.sampleRatio.observedCandidateShare)} of the traffic, not ${fmt.pct(a.sampleRatio.configuredCandidateShare)} (p = ${a.sampleRatio.pValue.toExponential(2)}). Check the runtime's reporting before trusting the verdict.`) : null,
    h('p', { class: 'form-error', role: 'alert', hidden: true }),
    h('div', { class: 'row' }, field('Candidate share (%)', share), act('Change split', async () => {
      await api('PUT', org(`/agents/${agentId}/deployment/experiment/split`), { candidateShare: share.value === '' ? null : Number(share.value) / 100 });
      await refresh();
    }, true)),
    h('div', { class: 'row' },
      act('Promote candidate', async () => {
        try {
          await api('POST', org(`/agents/${agentId}/deployment/experiment/promote`));
        } catch (err) {
          if (err.status !== 409 || !confirm(`${err.problem.detail}\n\nPromote anyway?`)) throw err;
          await api('POST', org(`/agents/${agentId}/deployment/experiment/promote?force=true`));
        }
        notice('Candidate promoted: it now serves all of the agent\'s traffic.', 'ok');
        await refresh();
      }),
      act('Stop experiment', async () => {
        if (!confirm('Stop the experiment? All traffic goes back to the control.')) return;
        await api('POST', org(`/agents/${agentId}/deployment/experiment/stop`));
        notice('Experiment stopped; its verdicts are kept below.', 'ok');
        await refresh();
      }, true)));
  return form;
}

function pastCard(past, cards) {
  return h('section', { class: 'card', id: 'past-experiments' }, h('h2', {}, 'Past experiments'),
    h('div', { class: 'table-wrap' }, h('table', {},
      h('thead', {}, h('tr', {}, ['Control', 'Candidate', 'Status', 'Success-rate verdict', 'Ended'].map(c => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, past.slice().reverse().map(e => h('tr', { dataset: { experimentId: e.id } },
        h('td', {}, describeChoice(e.control, cards)), h('td', {}, describeChoice(e.candidate, cards)),
        h('td', {}, h('span', { class: 'badge' }, e.status)),
        h('td', {}, e.outcome ? VERDICTS[e.outcome.successRate] ?? e.outcome.successRate : '—'),
        h('td', {}, fmt.time(e.endedAt))))))));
}
