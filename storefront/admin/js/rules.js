// The rule builder on the admin page: the Discounts tab (every discount with
// its uses, a form to create or change one), the Rules tab (named rule sets:
// a tree editor with typed value inputs, and beside it a simulator that runs
// the rule being edited against a sample cart and customer and shows the
// trace), and the Customers tab (find a customer by e-mail, set the groups
// rules ask about). Every save sends the version on screen; a 409 reloads.

import { request, ApiError } from '/js/api.js';
import { esc, money, words } from '/js/format.js';
import { formatDate, t } from '/js/i18n.js';

const STALE = 'urn:kontor:problem:stale-version';

// The fields a condition can look at, by type, and the operators each type
// takes (the API checks the same when a rule is saved).
const FIELDS = {
  'customer.is_new': 'boolean', 'customer.order_count': 'integer', 'customer.groups': 'names',
  'customer.email': 'email', 'shipping.country': 'country', 'billing.country': 'country',
  'cart.subtotal': 'money', 'cart.quantity': 'integer', 'cart.line_count': 'integer',
  'cart.skus': 'skus', 'cart.categories': 'names', 'coupon.code': 'coupon',
  'payment.method': 'payment', now: 'date_time',
};
const OPERATORS = {
  boolean: ['eq', 'ne'],
  integer: ['eq', 'ne', 'in', 'not_in', 'gt', 'gte', 'lt', 'lte'],
  money: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte'],
  date_time: ['eq', 'ne', 'gt', 'gte', 'lt', 'lte'],
  email: ['eq', 'ne', 'in', 'not_in', 'contains', 'not_contains'],
  coupon: ['eq', 'ne', 'in', 'not_in'],
  payment: ['eq', 'ne', 'in', 'not_in'],
  country: ['eq', 'ne', 'in', 'not_in'],
  names: ['contains', 'not_contains', 'in', 'not_in'],
  skus: ['contains', 'not_contains', 'in', 'not_in'],
};
const PAYMENT = ['prepayment', 'invoice', 'cash_on_delivery'];
const isList = (op) => op === 'in' || op === 'not_in';
// What a discount gives, in words.
const KIND_WORDS = { percent: 'percent', fixed: 'fixed', free_shipping: 'free shipping', free_item: 'free item' };
// A trace step's node as the editor names it.
const NODE_WORDS = { all: 'all of', any: 'any of', not: 'not', condition: 'condition' };

function problemText(error) {
  return error instanceof ApiError ? error.message : t('The shop cannot be reached. Please try again.');
}

// ---- Discounts -----------------------------------------------------------

function discountValue(d) {
  if (d.kind === 'percent') return `${esc(d.percent)} %`;
  if (d.kind === 'fixed') return money(d.amount);
  if (d.kind === 'free_item') return `${esc(d.quantity || 1)} × ${esc(d.sku)}`;
  return t('free shipping');
}

function requirementText(d) {
  if (!d.requirement) return t('every cart');
  if (d.requirement.rule_set) return `${t('rule set')} <a href="#/rules/${encodeURIComponent(d.requirement.rule_set)}">${esc(d.requirement.rule_set)}</a>`;
  return t('own rule');
}

export async function discountsView(app, showError, editing) {
  const [discounts, sets] = await Promise.all([request('GET', '/admin/discounts'), request('GET', '/admin/rule-sets')]);
  const current = discounts.find((d) => d.id === editing);
  app.innerHTML = `<h1>${t('Discounts')}</h1>
    <p class="muted">${t('Considered from the highest priority down; one that does not stack applies alone. An order gets at most three.')}</p>
    <table class="lines" data-testid="discounts"><thead><tr><th>${t('Discount')}</th><th>${t('Gives')}</th><th>${t('To')}</th><th>${t('Coupon')}</th><th>${t('Until')}</th><th class="num">${t('Uses')}</th><th class="num">${t('Priority')}</th><th></th></tr></thead><tbody>
    ${discounts.map((d) => `<tr data-testid="discount-row" data-id="${esc(d.id)}" class="${d.active ? '' : 'muted'}">
      <td><strong>${esc(d.name)}</strong><div class="muted">${esc(d.id)}${d.stacks ? '' : ` · ${t('does not stack')}`}${d.active ? '' : ` · ${t('paused')}`}</div></td>
      <td>${discountValue(d)}</td><td>${requirementText(d)}</td><td>${esc(d.coupon || '')}</td>
      <td>${d.ends_at ? esc(formatDate(d.ends_at)) : ''}</td>
      <td class="num" data-testid="discount-uses">${esc(d.uses)}${d.usage_limit ? ` / ${esc(d.usage_limit)}` : ''}</td>
      <td class="num">${esc(d.priority)}</td><td><a href="#/discounts/${encodeURIComponent(d.id)}">${t('Edit')}</a></td></tr>`).join('')}
    </tbody></table>
    <h2>${current ? t('Change “{name}”', { name: esc(current.name) }) : t('New discount')}</h2>
    ${discountForm(current, sets)}`;
  wireDiscountForm(app, current, () => discountsView(app, showError, editing).catch(showError), showError);
}

function discountForm(d = {}, sets) {
  const kind = d.kind || 'percent';
  const requirement = !d.requirement ? '' : d.requirement.rule_set ? `set:${d.requirement.rule_set}` : 'custom';
  const field = (name, text, value, attrs = '') => `<label>${t(text)}<input name="${name}" value="${esc(value ?? '')}" ${attrs}></label>`;
  return `<form id="discount-form" class="ship-form" data-testid="discount-form" novalidate>
    <div class="row">${field('id', 'Id', d.id, d.id ? 'readonly' : 'placeholder="winter-sale"')}${field('name', 'Name', d.name, `placeholder="${t('Shown in the cart')}"`)}</div>
    <div class="row"><label>${t('Gives')}<select name="kind">${Object.entries(KIND_WORDS).map(([k, text]) => `<option value="${k}" ${k === kind ? 'selected' : ''}>${t(text)}</option>`).join('')}</select></label>
      ${field('percent', 'Percent', d.percent, 'inputmode="decimal" data-kind="percent"')}
      ${field('amount', 'Amount (€)', d.amount, 'inputmode="decimal" data-kind="fixed"')}
      ${field('sku', 'Free product (SKU)', d.sku, 'data-kind="free_item"')}
      ${field('quantity', 'How many', d.quantity || 1, 'type="number" min="1" max="999" data-kind="free_item"')}</div>
    <div class="row"><label>${t('On')}<select name="applies_to">${['order', 'products', 'categories', 'shipping'].map((a) => `<option value="${a}" ${a === (d.applies_to || 'order') ? 'selected' : ''}>${t(a)}</option>`).join('')}</select></label>
      ${field('skus', 'SKUs (comma separated)', (d.skus || []).join(', '))}${field('categories', 'Categories (comma separated)', (d.categories || []).join(', '))}</div>
    <div class="row"><label>${t('Requirement')}<select name="requirement" data-testid="discount-requirement"><option value="">${t('none: every cart')}</option>
        ${sets.map((s) => `<option value="set:${esc(s.id)}" ${requirement === `set:${s.id}` ? 'selected' : ''}>${t('rule set: {name}', { name: esc(s.name) })}</option>`).join('')}
        <option value="custom" ${requirement === 'custom' ? 'selected' : ''}>${t('own rule (JSON)')}</option></select></label>
      <label class="wide">${t('Own rule')}<textarea name="custom_rule" rows="2">${requirement === 'custom' ? esc(JSON.stringify(d.requirement)) : ''}</textarea></label></div>
    <div class="row">${field('coupon', 'Coupon code', d.coupon, `maxlength="64" placeholder="${t('optional')}"`)}
      ${field('starts_at', 'From', d.starts_at, 'placeholder="2026-12-01T00:00:00+01:00"')}${field('ends_at', 'Until', d.ends_at, 'placeholder="2027-01-31T23:59:59+01:00"')}</div>
    <div class="row">${field('usage_limit', 'Uses in all', d.usage_limit, `type="number" min="1" placeholder="${t('no limit')}"`)}
      ${field('per_customer_limit', 'Uses per customer', d.per_customer_limit, `type="number" min="1" placeholder="${t('no limit')}"`)}
      ${field('priority', 'Priority', d.priority ?? 0, 'type="number" min="-1000" max="1000"')}
      <label><span><input type="checkbox" name="stacks" ${d.stacks === false ? '' : 'checked'}> ${t('adds to other discounts')}</span></label>
      <label><span><input type="checkbox" name="active" ${d.active === false ? '' : 'checked'}> ${t('active')}</span></label></div>
    <div class="field-error" data-testid="discount-error" data-error-for="form"></div>
    <div class="row"><button type="submit" data-testid="discount-save">${d.id ? t('Save') : t('Create')}</button>
      ${d.id ? `<button type="button" class="secondary" data-testid="discount-delete" id="discount-delete">${t('Delete')}</button> <a href="#/discounts">${t('New discount')}</a>` : ''}</div>
  </form>`;
}

function wireDiscountForm(app, current, reload, showError) {
  const form = document.getElementById('discount-form');
  const showKind = () => form.querySelectorAll('[data-kind]').forEach((input) => {
    input.closest('label').hidden = input.dataset.kind !== form.kind.value;
  });
  form.kind.addEventListener('change', showKind);
  showKind();
  const fail = (error) => {
    if (error.problem?.type === STALE) { reload(); return; }
    const slot = form.querySelector('[data-error-for="form"]');
    slot.textContent = `${error.problem?.field ? `${error.problem.field}: ` : ''}${problemText(error)}`;
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const text = (name) => String(data.get(name) || '').trim();
    const number = (name) => (text(name) === '' ? undefined : Number(text(name)));
    const list = (name) => text(name).split(',').map((s) => s.trim()).filter(Boolean);
    let requirement;
    try {
      const chosen = text('requirement');
      if (chosen.startsWith('set:')) requirement = { rule_set: chosen.slice(4) };
      else if (chosen === 'custom') requirement = JSON.parse(text('custom_rule') || 'null');
    } catch {
      form.querySelector('[data-error-for="form"]').textContent = t('The own rule is not JSON.');
      return;
    }
    const kind = text('kind');
    const body = {
      id: text('id'), name: text('name'), kind,
      percent: kind === 'percent' ? text('percent').replace(',', '.') : undefined,
      amount: kind === 'fixed' ? text('amount').replace(',', '.') : undefined,
      sku: kind === 'free_item' ? text('sku') : undefined,
      quantity: kind === 'free_item' ? number('quantity') : undefined,
      applies_to: text('applies_to'), skus: list('skus'), categories: list('categories'),
      requirement, coupon: text('coupon') || undefined,
      starts_at: text('starts_at') || undefined, ends_at: text('ends_at') || undefined,
      usage_limit: number('usage_limit'), per_customer_limit: number('per_customer_limit'),
      priority: number('priority') ?? 0, stacks: data.get('stacks') === 'on', active: data.get('active') === 'on',
      version: current?.version,
    };
    try {
      if (current) await request('PUT', `/admin/discounts/${encodeURIComponent(current.id)}`, body);
      else await request('POST', '/admin/discounts', body);
      location.hash = '#/discounts';
      reload();
    } catch (error) { fail(error); }
  });
  document.getElementById('discount-delete')?.addEventListener('click', async () => {
    try {
      await request('DELETE', `/admin/discounts/${encodeURIComponent(current.id)}?version=${current.version}`);
      location.hash = '#/discounts';
    } catch (error) { fail(error); }
  });
}

// ---- Rules ---------------------------------------------------------------

// The editor keeps the rule as the API writes it and renders it as a tree;
// each node knows its path (`all[1].any[0]`), which is also how the API
// names a node at fault.
function emptyCondition() {
  return { field: 'cart.subtotal', op: 'gte', value: '50.00' };
}

function nodeAt(rule, path) {
  let node = rule;
  for (const step of path) node = step === 'not' ? node.not : node[step[0]][step[1]];
  return node;
}

function pathText(path) {
  return path.map((step) => (step === 'not' ? 'not' : `${step[0]}[${step[1]}]`)).join('.').replace(/\.\[/g, '[');
}

function valueInput(type, op, value, path) {
  const key = `data-value="${esc(pathText(path))}"`;
  if (type === 'boolean') return `<select ${key} aria-label="${t('Value')}"><option value="true" ${value === true ? 'selected' : ''}>${t('yes')}</option><option value="false" ${value === false ? 'selected' : ''}>${t('no')}</option></select>`;
  if (type === 'payment' && !isList(op)) return `<select ${key} aria-label="${t('Value')}">${PAYMENT.map((p) => `<option ${p === value ? 'selected' : ''}>${p}</option>`).join('')}</select>`;
  const shown = Array.isArray(value) ? value.join(', ') : (value ?? '');
  const hint = isList(op) ? t('comma separated') : { money: '50.00', integer: '2', date_time: '2027-01-31T23:59:59+01:00', country: 'AT', names: 'vip', skus: 'TR-CHINO-BEIGE', email: 'anna@example.de', coupon: 'WINTER', payment: 'invoice' }[type];
  const mode = (type === 'integer' || type === 'money') && !isList(op) ? 'inputmode="decimal"' : '';
  return `<input ${key} ${mode} value="${esc(shown)}" placeholder="${esc(hint)}" aria-label="${t('Value')}" size="22">`;
}

function renderNode(node, path, sets, errors) {
  const here = pathText(path);
  const error = errors[here] ? `<div class="field-error" data-testid="rule-error">${esc(errors[here])}</div>` : '';
  const remove = path.length ? `<button type="button" class="link" data-remove-node="${esc(here)}" aria-label="${t('Remove')}">✕</button>` : '';
  if (node.all || node.any) {
    const kind = node.all ? 'all' : 'any';
    return `<div class="rule-group" data-node="${esc(here)}">
      <div class="row"><select data-group="${esc(here)}" aria-label="${t('Combine')}"><option value="all" ${kind === 'all' ? 'selected' : ''}>${t('all of')}</option><option value="any" ${kind === 'any' ? 'selected' : ''}>${t('any of')}</option></select>${remove}</div>
      <div class="rule-children">${node[kind].map((child, i) => renderNode(child, [...path, [kind, i]], sets, errors)).join('')}</div>
      <div class="row"><button type="button" class="secondary" data-add-condition="${esc(here)}">+ ${t('condition')}</button>
        <button type="button" class="secondary" data-add-group="${esc(here)}">+ ${t('group')}</button>
        <button type="button" class="secondary" data-add-not="${esc(here)}">+ ${t('not')}</button>
        ${sets.length ? `<button type="button" class="secondary" data-add-set="${esc(here)}">+ ${t('rule set')}</button>` : ''}</div>${error}</div>`;
  }
  if (node.not) {
    return `<div class="rule-group" data-node="${esc(here)}"><div class="row"><strong>${t('not')}</strong>${remove}</div>
      <div class="rule-children">${renderNode(node.not, [...path, 'not'], sets, errors)}</div>${error}</div>`;
  }
  if (node.rule_set !== undefined) {
    return `<div class="rule-condition row" data-node="${esc(here)}">${t('rule set')} <select data-set="${esc(here)}" aria-label="${t('Rule set')}">
      ${sets.map((s) => `<option value="${esc(s.id)}" ${s.id === node.rule_set ? 'selected' : ''}>${esc(s.name)}</option>`).join('')}</select>${remove}${error}</div>`;
  }
  const type = FIELDS[node.field] || 'money';
  return `<div class="rule-condition row" data-node="${esc(here)}" data-testid="rule-condition">
    <select data-field="${esc(here)}" aria-label="${t('Field')}">${Object.keys(FIELDS).map((f) => `<option ${f === node.field ? 'selected' : ''}>${f}</option>`).join('')}</select>
    <select data-op="${esc(here)}" aria-label="${t('Operator')}">${OPERATORS[type].map((o) => `<option ${o === node.op ? 'selected' : ''}>${o}</option>`).join('')}</select>
    ${valueInput(type, node.op, node.value, path)}${remove}${error}</div>`;
}

// A value typed into the editor, as the field's type wants it in JSON.
function typedValue(type, op, text) {
  const one = (s) => {
    if (type === 'integer') return Number.isFinite(Number(s)) && s !== '' ? Number(s) : s;
    if (type === 'money') return s.replace(',', '.');
    return s;
  };
  if (type === 'boolean') return text === 'true';
  if (isList(op)) return text.split(',').map((s) => one(s.trim())).filter((s) => s !== '');
  return one(text.trim());
}

function parsePath(text) {
  if (!text) return [];
  return text.split('.').map((step) => {
    if (step === 'not') return 'not';
    const match = step.match(/^(all|any)\[(\d+)\]$/);
    return [match[1], Number(match[2])];
  });
}

export async function rulesView(app, showError, id) {
  const sets = await request('GET', '/admin/rule-sets');
  const current = sets.find((s) => s.id === id);
  let rule = current ? structuredClone(current.rule) : { all: [emptyCondition()] };
  let errors = {};
  app.innerHTML = `<h1>${t('Rules')}</h1><div class="two-col">
    <div><ul class="rule-sets" data-testid="rule-sets">${sets.map((s) => `<li><a href="#/rules/${encodeURIComponent(s.id)}" class="${s.id === id ? 'active' : ''}">${esc(s.name)}</a>
      <span class="muted">${esc(s.id)}${s.used_by.length ? ` · ${t('used by {ids}', { ids: esc(s.used_by.join(', ')) })}` : ''}</span></li>`).join('')}
      <li><a href="#/rules">+ ${t('New rule set')}</a></li></ul>
      <form id="rule-form" novalidate data-testid="rule-form">
        <div class="row"><label>${t('Id')}<input name="id" value="${esc(current?.id || '')}" ${current ? 'readonly' : ''} placeholder="vip-austria"></label>
          <label>${t('Name')}<input name="name" value="${esc(current?.name || '')}" placeholder="${t('VIPs in Austria')}"></label></div>
        <div id="rule-tree" data-testid="rule-tree"></div>
        <div class="field-error" data-error-for="form" data-testid="rule-form-error"></div>
        <div class="row"><button type="submit" data-testid="rule-save">${current ? t('Save') : t('Create')}</button>
          ${current ? `<button type="button" class="secondary" id="rule-delete">${t('Delete')}</button>` : ''}</div>
      </form></div>
    <div><h2>${t('Simulate')}</h2>${current ? '' : `<p class="muted">${t('Save the rule set to try it here.')}</p>`}
      <form id="simulate-form" class="ship-form" novalidate data-testid="simulate-form" ${current ? '' : 'hidden'}>
        <label>${t('Cart (one “SKU quantity” per line)')}<textarea name="lines" rows="3">TR-CHINO-BEIGE 2</textarea></label>
        <div class="row"><label>${t('Ships to')}<input name="shipping_country" value="DE" size="3"></label>
          <label>${t('Coupon')}<input name="coupon" size="10"></label>
          <label>${t('Payment')}<select name="payment_method"><option value="">${t('any')}</option>${PAYMENT.map((p) => `<option value="${p}">${esc(words(p))}</option>`).join('')}</select></label></div>
        <div class="row"><label>${t('Earlier orders')}<input name="order_count" type="number" min="0" value="0" size="4"></label>
          <label>${t('Groups')}<input name="groups" placeholder="vip, wholesale"></label>
          <label>${t('E-mail')}<input name="email" placeholder="anna@example.de"></label></div>
        <button type="submit" data-testid="simulate">${t('Simulate the rule as edited')}</button>
        <div class="field-error" data-error-for="simulate"></div>
      </form><div id="simulation" data-testid="simulation"></div></div></div>`;

  const tree = document.getElementById('rule-tree');
  const draw = () => {
    tree.innerHTML = renderNode(rule, [], sets.filter((s) => s.id !== id), errors);
  };
  const parentAndKey = (path) => {
    const last = path[path.length - 1];
    return [nodeAt(rule, path.slice(0, -1)), last];
  };
  tree.addEventListener('change', (event) => {
    const target = event.target;
    if (target.dataset.group !== undefined) {
      const node = nodeAt(rule, parsePath(target.dataset.group));
      const children = node.all || node.any;
      delete node.all; delete node.any;
      node[target.value] = children;
    } else if (target.dataset.field !== undefined) {
      const node = nodeAt(rule, parsePath(target.dataset.field));
      node.field = target.value;
      const type = FIELDS[node.field];
      if (!OPERATORS[type].includes(node.op)) node.op = OPERATORS[type][0];
      node.value = type === 'boolean' ? true : (isList(node.op) ? [] : '');
    } else if (target.dataset.op !== undefined) {
      const node = nodeAt(rule, parsePath(target.dataset.op));
      const type = FIELDS[node.field];
      const text = Array.isArray(node.value) ? node.value.join(', ') : String(node.value ?? '');
      node.op = target.value;
      node.value = typedValue(type, node.op, text);
    } else if (target.dataset.value !== undefined) {
      const node = nodeAt(rule, parsePath(target.dataset.value));
      node.value = typedValue(FIELDS[node.field], node.op, target.value);
      return;
    } else if (target.dataset.set !== undefined) {
      nodeAt(rule, parsePath(target.dataset.set)).rule_set = target.value;
      return;
    }
    draw();
  });
  tree.addEventListener('click', (event) => {
    const button = event.target.closest('button');
    if (!button) return;
    const add = (attr, node) => {
      if (button.dataset[attr] === undefined) return false;
      const group = nodeAt(rule, parsePath(button.dataset[attr]));
      (group.all || group.any).push(node);
      return true;
    };
    const other = sets.find((s) => s.id !== id);
    if (add('addCondition', emptyCondition()) || add('addGroup', { any: [emptyCondition()] })
      || add('addNot', { not: emptyCondition() }) || (other && add('addSet', { rule_set: other.id }))) {
      draw();
      return;
    }
    if (button.dataset.removeNode !== undefined) {
      const [parent, key] = parentAndKey(parsePath(button.dataset.removeNode));
      if (key === 'not') { Object.keys(parent).forEach((k) => delete parent[k]); Object.assign(parent, emptyCondition()); } else parent[key[0]].splice(key[1], 1);
      draw();
    }
  });
  draw();

  const form = document.getElementById('rule-form');
  const fail = (error) => {
    if (error.problem?.type === STALE) { rulesView(app, showError, id).catch(showError); return; }
    // `rule.all[1].value` names a node of the tree: show it there.
    const field = error.problem?.field || '';
    const match = field.match(/^rule(?:\.(.*?))?(?:\.(field|op|value)(\[\d+\])?|\.rule_set)?$/);
    errors = {};
    if (match) errors[match[1] || ''] = problemText(error);
    else form.querySelector('[data-error-for="form"]').textContent = `${field ? `${field}: ` : ''}${problemText(error)}`;
    draw();
  };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    errors = {};
    form.querySelector('[data-error-for="form"]').textContent = '';
    const body = { id: form.id.value.trim(), name: form.name.value.trim(), rule };
    try {
      if (current) await request('PUT', `/admin/rule-sets/${encodeURIComponent(current.id)}`, { name: body.name, rule, version: current.version });
      else await request('POST', '/admin/rule-sets', body);
      location.hash = `#/rules/${encodeURIComponent(body.id)}`;
      if (current) rulesView(app, showError, id).catch(showError);
    } catch (error) { fail(error); }
  });
  document.getElementById('rule-delete')?.addEventListener('click', async () => {
    try {
      await request('DELETE', `/admin/rule-sets/${encodeURIComponent(current.id)}?version=${current.version}`);
      location.hash = '#/rules';
    } catch (error) { form.querySelector('[data-error-for="form"]').textContent = problemText(error); }
  });

  const simulate = document.getElementById('simulate-form');
  simulate.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(simulate);
    const text = (name) => String(data.get(name) || '').trim();
    const lines = text('lines').split('\n').map((l) => l.trim().split(/\s+/)).filter((p) => p[0])
      .map(([sku, quantity]) => ({ sku, quantity: Number(quantity || 1) }));
    const body = {
      rule, lines, shipping_country: text('shipping_country') || undefined, coupon: text('coupon') || undefined,
      payment_method: text('payment_method') || undefined,
      customer: { order_count: Number(text('order_count') || 0), groups: text('groups').split(',').map((g) => g.trim()).filter(Boolean), email: text('email') || undefined },
    };
    const out = document.getElementById('simulation');
    simulate.querySelector('[data-error-for="simulate"]').textContent = '';
    try {
      const answer = await request('POST', `/admin/rule-sets/${encodeURIComponent(current.id)}/simulate`, body);
      out.innerHTML = `<p data-testid="simulation-result" class="${answer.result ? 'stock-ok' : 'stock-low'}"><strong>${answer.result ? t('Applies') : t('Does not apply')}</strong></p>
        <table class="lines trace" data-testid="trace"><thead><tr><th>${t('Where')}</th><th>${t('Checks')}</th><th>${t('Expected')}</th><th>${t('Saw')}</th><th></th></tr></thead><tbody>
        ${answer.trace.map((s) => `<tr data-testid="trace-step" class="${s.result ? 'pass' : 'fail'}"><td><code>${esc(s.path)}</code></td>
          <td>${s.node === 'condition' ? `${esc(s.field)} ${esc(s.op)}` : esc(s.node === 'rule_set' ? `${t('rule set')} ${s.rule_set}` : t(NODE_WORDS[s.node] || s.node))}</td>
          <td>${s.expected === undefined || s.expected === null ? '' : esc(JSON.stringify(s.expected))}</td>
          <td>${s.node === 'condition' ? esc(JSON.stringify(s.seen)) : ''}</td><td>${s.result ? '✓' : '✗'}</td></tr>`).join('')}</tbody></table>`;
    } catch (error) {
      simulate.querySelector('[data-error-for="simulate"]').textContent = `${error.problem?.field ? `${error.problem.field}: ` : ''}${problemText(error)}`;
    }
  });
}

// ---- Customers -------------------------------------------------------------

export async function customersView(app, showError, params) {
  const email = params.get('email') || '';
  let found = null;
  let missing = '';
  if (email) {
    try {
      found = await request('GET', `/admin/customers?email=${encodeURIComponent(email)}`);
    } catch (error) {
      if (error.status === 404 || error.status === 422) missing = error.status === 404 ? t('No registered customer with this address has ordered yet.') : problemText(error);
      else throw error;
    }
  }
  app.innerHTML = `<h1>${t('Customers')}</h1>
    <form id="customer-search" class="row" novalidate><label>${t('E-mail')}<input name="email" type="email" value="${esc(email)}" data-testid="customer-email"></label>
      <button type="submit">${t('Find')}</button></form>
    ${missing ? `<p class="muted" data-testid="customer-missing">${esc(missing)}</p>` : ''}
    ${found ? `<div class="parcel" data-testid="customer"><div class="parcel-head"><strong>${esc(found.email)}</strong>
        <span class="muted">${t('{count} order(s)', { count: esc(found.order_count) })} · ${esc(found.id)}</span></div>
      <form id="groups-form" class="row" novalidate><label>${t('Groups (comma separated)')}<input name="groups" value="${esc(found.groups.join(', '))}" data-testid="customer-groups"></label>
        <button type="submit" data-testid="save-groups">${t('Save groups')}</button></form>
      <div class="field-error" data-error-for="groups"></div>
      <p class="muted">${t("Rules ask about groups with {field}; they apply from the customer's next cart.", { field: '<code>customer.groups</code>' })}</p></div>` : ''}`;
  document.getElementById('customer-search').addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = `#/customers?email=${encodeURIComponent(event.target.email.value.trim())}`;
  });
  document.getElementById('groups-form')?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const groups = event.target.groups.value.split(',').map((g) => g.trim()).filter(Boolean);
    try {
      await request('PUT', `/admin/customers/${encodeURIComponent(found.id)}/groups`, { groups, version: found.version });
      customersView(app, showError, params).catch(showError);
    } catch (error) {
      if (error.problem?.type === STALE) { customersView(app, showError, params).catch(showError); return; }
      document.querySelector('[data-error-for="groups"]').textContent = problemText(error);
    }
  });
}
