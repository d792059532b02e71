// The staff admin page: orders (search, filters, detail with history),
// products (price, stock, backorder and selling links, version-checked), and
// the local mail outbox. Hash-routed like the storefront:
//   #/orders?q=&status=&payment_status=&shipping_status=&return_status=
//   #/orders/ID
//   #/orders/new          (an order taken on the phone)
//   #/products
//   #/carriers
//   #/credit-notes
//   #/outbox
//   #/signin

import { request, requestPage, ApiError } from '/js/api.js';
import { esc, money, paymentWords, words } from '/js/format.js';
import { formatDateTime, formatDecimal, t } from '/js/i18n.js';
import * as session from '/js/session.js';
import { editsBlock, linesBlock, phoneOrderView, totalsBlock, wireEdits } from './edits.js';
import { moreButton, wireMore } from '/js/pages.js';
import { creditNotesView, returnsBlock, wireReturns } from './returns.js';
import { customersView, discountsView, rulesView } from './rules.js';

const app = document.getElementById('app');

const euro = (amount) => money(amount);
const label = words;
const when = (at) => esc(formatDateTime(at));

const STATUSES = {
  status: ['open', 'completed', 'cancelled'],
  return_status: ['requested', 'approved', 'received', 'refunded', 'rejected', 'closed'],
  payment_status: ['pending', 'partially_paid', 'paid', 'partially_refunded', 'refunded'],
  shipping_status: ['not_shipped', 'partially_shipped', 'shipped', 'partially_delivered', 'delivered'],
};

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/orders';
  const [path, query = ''] = raw.split('?');
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(query) };
}

function showError(error) {
  if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
    const reason = error.status === 403 ? t('This account is not a staff account.') : t('Please sign in.');
    session.signOut();
    location.hash = `#/signin?reason=${encodeURIComponent(reason)}`;
    return;
  }
  const message = error instanceof ApiError ? error.message : t('Kontor cannot be reached. Please try again.');
  app.innerHTML = `<div class="alert">${esc(message)}</div>`;
}

async function signInView(params) {
  const { cognito } = await session.config();
  if (cognito) {
    await session.signInWithCognito('/admin/#/orders');
    return;
  }
  app.innerHTML = `<div class="narrow"><h1>${t('Staff sign-in')}</h1>
    ${params.get('reason') ? `<div class="alert">${esc(params.get('reason'))}</div>` : ''}
    <p class="muted">${t("The local runtime signs staff in with their e-mail address; in the cloud, this is Cognito's sign-in page and the account must be in the {group} group.", { group: '<code>staff</code>' })}</p>
    <form id="signin-form" class="checkout" novalidate>
      <label for="email">${t('E-mail')}</label><input id="email" name="email" type="email" autocomplete="email" required>
      <div class="field-error" data-error-for="email"></div>
      <button type="submit" data-testid="staff-sign-in">${t('Sign in')}</button>
    </form></div>`;
  const form = document.getElementById('signin-form');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await session.signInLocally(form.email.value.trim(), true);
      updateAccount();
      location.hash = '#/orders';
    } catch (error) {
      form.querySelector('[data-error-for="email"]').textContent = error.message;
    }
  });
}

function select(name, text, value) {
  return `<label>${t(text)}<select name="${name}" data-testid="filter-${name}"><option value="">${t('any')}</option>
    ${STATUSES[name].map((s) => `<option value="${s}" ${s === value ? 'selected' : ''}>${label(s)}</option>`).join('')}</select></label>`;
}

async function ordersView(params) {
  const query = new URLSearchParams();
  for (const key of ['q', 'status', 'payment_status', 'shipping_status', 'return_status']) {
    if (params.get(key)) query.set(key, params.get(key));
  }
  const path = `/admin/orders?${query}`;
  const { items: orders, next } = await requestPage(path);
  app.innerHTML = `<h1>${t('Orders')}</h1>
    <p><a class="button" href="#/orders/new" data-testid="new-phone-order">${t('New phone order')}</a></p>
    <form class="toolbar" id="order-search">
      <label>${t('Search')}<input type="search" name="q" value="${esc(params.get('q') || '')}" placeholder="${t('Order number, e-mail, name or tracking number')}" data-testid="order-search"></label>
      ${select('status', 'Order', params.get('status'))}
      ${select('payment_status', 'Payment', params.get('payment_status'))}
      ${select('shipping_status', 'Shipping', params.get('shipping_status'))}
      ${select('return_status', 'Returns', params.get('return_status'))}
      <button type="submit" data-testid="order-search-submit">${t('Search')}</button>
    </form>
    ${orders.length ? `<table class="lines" data-testid="orders"><thead><tr><th>${t('Number')}</th><th>${t('Placed')}</th><th>${t('Name')}</th><th>${t('E-mail')}</th>
      <th class="num">${t('Total')}</th><th>${t('Order')}</th><th>${t('Payment')}</th><th>${t('Shipping')}</th><th class="num">${t('Open returns')}</th></tr></thead><tbody>
      ${orders.map(orderRow).join('')}</tbody></table>${moreButton()}`
    : `<p class="muted" data-testid="no-orders">${t('No orders match.')}</p>`}`;
  document.getElementById('order-search').addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(event.target);
    const next = new URLSearchParams();
    for (const [key, value] of data) if (String(value).trim()) next.set(key, String(value).trim());
    location.hash = `#/orders?${next}`;
  });
  const rows = app.querySelector('[data-testid="orders"] tbody');
  if (!rows) return;
  // One listener for the rows there are and the rows "Show more" adds.
  rows.addEventListener('click', (event) => {
    const row = event.target.closest('tr[data-id]');
    if (row && event.target.tagName !== 'A') location.hash = `#/orders/${encodeURIComponent(row.dataset.id)}`;
  });
  wireMore(app.querySelector('[data-testid="show-more"]'), path, next, (page) => {
    rows.insertAdjacentHTML('beforeend', page.map(orderRow).join(''));
  });
}

const orderRow = (o) => `<tr class="clickable" data-testid="order-row" data-id="${esc(o.id)}" data-number="${esc(o.number)}">
  <td><a href="#/orders/${encodeURIComponent(o.id)}">${esc(o.number)}</a></td><td>${when(o.created_at)}</td>
  <td>${esc(o.name)}</td><td>${esc(o.email)}</td><td class="num">${euro(o.total)}</td>
  <td><span class="status">${label(o.status)}</span></td><td><span class="status">${label(o.payment_status)}</span></td>
  <td><span class="status">${label(o.shipping_status)}</span></td><td class="num">${o.open_returns || ''}</td></tr>`;

const address = (a) => `${esc(a.name)}<br>${esc(a.street)}<br>${esc(a.postal_code)} ${esc(a.city)}<br>${esc(a.country)}`;

async function orderView(id) {
  const order = await request('GET', `/admin/orders/${encodeURIComponent(id)}`);
  app.innerHTML = `<p><a href="#/orders">← ${t('All orders')}</a></p>
    <h1>${t('Order')} <span data-testid="order-number">${esc(order.number)}</span></h1>
    <p class="muted">${t('Placed {when} by {email}', { when: when(order.created_at), email: esc(order.email) })}
      ${order.customer_id ? t('(customer {id})', { id: esc(order.customer_id) }) : t('(guest)')} · ${t('version {version}', { version: esc(order.version) })}</p>
    <div class="meta">
      <div><strong>${t('Order')}</strong><br><span class="status">${label(order.status)}</span></div>
      <div><strong>${t('Payment')}</strong><br>${label(order.payment_method)} · <span class="status">${paymentWords(order)}</span></div>
      <div><strong>${t('Shipping')}</strong><br><span class="status">${label(order.shipping_status)}</span></div>
      <div><strong>${t('Ships to')}</strong><br>${address(order.shipping_address)}</div>
      <div><strong>${t('Bills to')}</strong><br>${address(order.billing_address)}</div>
    </div>
    ${linesBlock(order)}
    ${totalsBlock(order)}
    ${editsBlock(order)}
    ${lifecycleBlock(order)}
    ${returnsBlock(order)}
    ${notesBlock(order)}
    <h2>${t('Parcels')}</h2>
    <div id="parcel-alert"></div>
    ${order.shipments.map((s) => parcelBlock(order, s)).join('') || `<p class="muted">${t('Nothing shipped yet.')}</p>`}
    ${packForm(order)}
    <h2>${t('History')}</h2>
    <ul class="history" data-testid="history">${order.history.map((h) => `<li><time>${when(h.at)}</time><strong>${label(h.action)}</strong>
      ${t('by {who}', { who: esc(h.by) })} — ${esc(h.detail)}</li>`).join('')}</ul>`;
  wireParcels(order);
  wireLifecycle(order);
  wireNotes(order);
  wireEdits(order, () => orderView(order.id).catch(showError)).catch(showError);
  wireReturns(order, () => orderView(order.id).catch(showError));
}

// Notes: internal ones for colleagues (the default), or for the customer,
// who sees them on the order page and gets them by e-mail.
function notesBlock(order) {
  return `<div class="notes" data-testid="notes"><h2>${t('Notes')}</h2>
    ${order.all_notes.length ? `<ul class="history">${order.all_notes.map((n) => `<li data-testid="note" data-visible="${n.visible_to_customer}">
      <time>${when(n.at)}</time><strong>${n.visible_to_customer ? t('To the customer') : t('Internal')}</strong> ${t('by {who}', { who: esc(n.by) })}
      <div class="note-text">${esc(n.text).replaceAll('\n', '<br>')}</div></li>`).join('')}</ul>` : `<p class="muted">${t('No notes yet.')}</p>`}
    ${order.status === 'open' ? `<form id="note-form" class="ship-form">
      <label>${t('Note')}<textarea name="text" rows="3" maxlength="5000" data-testid="note-text" required></textarea></label>
      <label><span><input type="checkbox" name="visible" data-testid="note-visible"> ${t('show to the customer and e-mail it')}</span></label>
      <button type="submit" data-testid="add-note">${t('Add note')}</button>
      <div class="field-error" data-error-for="text"></div>
    </form>` : ''}</div>`;
}

function wireNotes(order) {
  const form = document.getElementById('note-form');
  form?.addEventListener('submit', async (event) => {
    event.preventDefault();
    form.querySelector('[data-error-for=text]').textContent = '';
    try {
      await request('POST', `/admin/orders/${encodeURIComponent(order.id)}/notes`, {
        text: form.text.value,
        visible_to_customer: form.visible.checked,
        version: order.version,
      });
      orderView(order.id).catch(showError);
    } catch (error) {
      if (error.problem?.type === 'urn:kontor:problem:stale-version') { orderView(order.id).catch(showError); return; }
      form.querySelector('[data-error-for=text]').textContent = error.message;
    }
  });
}

// Payments received, and the order's way to cancelled or completed. Each
// action sends the version on screen: if the order changed meanwhile, the
// API refuses (409) and the page shows the order as it is now.
function lifecycleBlock(order) {
  if (order.status !== 'open') {
    return `<div class="lifecycle" data-testid="lifecycle"><p class="notice" data-testid="order-closed">${t('This order is {status}: it no longer changes.', { status: words(order.status).toLowerCase() })}</p>
      ${paymentsList(order)}</div>`;
  }
  const today = new Date().toISOString().slice(0, 10);
  const due = Number(order.amount_due) > 0;
  return `<div class="lifecycle" data-testid="lifecycle"><h2>${t('Payment and status')}</h2>
    <p>${t('Paid {paid} of {total}', { paid: `<strong data-testid="paid">${euro(order.paid)}</strong>`, total: euro(order.total) })}${due ? ` · ${t('{amount} due', { amount: `<strong data-testid="due">${euro(order.amount_due)}</strong>` })}` : ''}</p>
    ${paymentsList(order)}
    <div id="lifecycle-alert"></div>
    ${due ? `<form class="row ship-form" id="payment-form" data-testid="payment-form"><strong>${t('Record a payment')}</strong>
      <label>${t('Amount')}<input name="amount" inputmode="decimal" value="${esc(formatDecimal(order.amount_due))}" data-testid="payment-amount" required></label>
      <label>${t('Received on')}<input name="date" type="date" value="${today}" max="${today}" data-testid="payment-date" required></label>
      <label>${t('Reference')}<input name="reference" data-testid="payment-reference" required></label>
      <button type="submit" data-testid="record-payment">${t('Record payment')}</button>
      <div class="field-error" data-error-for="amount"></div><div class="field-error" data-error-for="date"></div><div class="field-error" data-error-for="reference"></div>
    </form>` : ''}
    <div class="row">
      ${order.staff_can_cancel ? `<form class="row" id="cancel-form"><label>${t('Reason for the customer')}<input name="reason" placeholder="${t('optional')}" data-testid="cancel-reason"></label>
        <button type="submit" class="secondary" data-testid="cancel-order">${t('Cancel order (stock goes back)')}</button></form>` : ''}
      <button class="secondary" data-testid="complete-order" id="complete-order">${t('Complete order')}</button>
    </div></div>`;
}

function paymentsList(order) {
  if (!order.payments.length) return '';
  return `<ul class="history" data-testid="payments">${order.payments.map((p) => `<li><time>${esc(p.date)}</time><strong>${euro(p.amount)}</strong>
    — ${esc(p.reference)} <span class="muted">(${esc(p.by)})</span></li>`).join('')}</ul>`;
}

function wireLifecycle(order) {
  const base = `/admin/orders/${encodeURIComponent(order.id)}`;
  const reload = () => orderView(order.id).catch(showError);
  const alert = (error) => {
    const slot = document.getElementById('lifecycle-alert');
    if (slot) slot.innerHTML = `<div class="alert" data-testid="lifecycle-error">${esc(error.message)}</div>`;
  };
  // A stale version means someone else changed the order: show it as it is.
  const send = async (path, body, onError) => {
    try {
      await request('POST', `${base}/${path}`, { ...body, version: order.version });
      reload();
    } catch (error) {
      if (error instanceof ApiError && error.problem?.type === 'urn:kontor:problem:stale-version') reload();
      else onError(error);
    }
  };
  document.getElementById('payment-form')?.addEventListener('submit', (event) => {
    event.preventDefault();
    const form = event.target;
    form.querySelectorAll('.field-error').forEach((e) => { e.textContent = ''; });
    send('payments', {
      amount: form.amount.value.trim().replace(',', '.'),
      date: form.date.value,
      reference: form.reference.value.trim(),
    }, (error) => {
      const slot = form.querySelector(`[data-error-for="${CSS.escape(error.problem?.field || '')}"]`);
      if (slot) slot.textContent = error.message; else alert(error);
    });
  });
  document.getElementById('cancel-form')?.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!window.confirm(t('Cancel order {number}? Its stock goes back and the customer is e-mailed.', { number: order.number }))) return;
    const reason = event.target.reason.value.trim();
    send('cancel', reason ? { reason } : {}, alert);
  });
  document.getElementById('complete-order')?.addEventListener('click', () => {
    const finished = order.shipping_status === 'delivered' && order.payment_status === 'paid';
    if (!finished && !window.confirm(t('Order {number} is {shipping} and {payment}. Complete it anyway?', { number: order.number, shipping: words(order.shipping_status).toLowerCase(), payment: words(order.payment_status).toLowerCase() }))) return;
    send('complete', { even_if_open: !finished }, alert);
  });
}

const CARRIERS = [['dhl', 'DHL'], ['dpd', 'DPD'], ['ups', 'UPS'], ['gls', 'GLS'], ['hermes', 'Hermes'], ['other', 'Other']];

// A parcel, and the statuses the API says it may move to now.
function parcelBlock(order, s) {
  const next = order.status === 'open' ? (order.next_statuses[s.id] || []) : [];
  const final = !next.length;
  return `<div class="parcel" data-testid="parcel" data-id="${esc(s.id)}">
    <div class="parcel-head"><strong>${esc(s.id)}</strong><span class="status" data-testid="parcel-status">${label(s.status)}</span>
      <span>${esc(s.carrier_name)}${s.tracking_number ? ` · ${esc(s.tracking_number)}` : ''}</span>
      ${s.tracking_url ? `<a href="${esc(s.tracking_url)}" target="_blank" rel="noopener">${t('tracking')}</a>` : ''}</div>
    ${s.ship_to ? `<p class="muted" data-testid="parcel-ship-to">${t('Went to {address}', { address: esc([s.ship_to.name, s.ship_to.street, `${s.ship_to.postal_code} ${s.ship_to.city}`, s.ship_to.country].join(', ')) })}</p>` : ''}
    <ul>${s.items.map((i) => `<li>${esc(i.quantity)} × ${esc(i.name)} <span class="muted">${esc(i.line_id)}</span></li>`).join('')}</ul>
    <ol class="history">${s.history.map((h) => `<li${h.reported ? ' data-testid="parcel-reported"' : ''}><time>${when(h.at)}</time>${h.reported
    ? `${t('Carrier news, no change: {words}', { words: `<em>${esc(h.reported)}</em>` })}`
    : label(h.status)} ${t('by {who}', { who: esc(h.by) })}${h.location ? ` · ${esc(h.location)}` : ''}</li>`).join('')}</ol>
    ${final ? '' : `<form class="row status-form" data-shipment="${esc(s.id)}">
      <label>${t('Status')}<select name="status" data-testid="parcel-next-status">${next.map((v) => `<option value="${v}">${label(v)}</option>`).join('')}</select></label>
      <label>${t('Tracking number')}<input name="tracking_number" value="${esc(s.tracking_number || '')}" data-testid="parcel-tracking"></label>
      <label>${t('Where')}<input name="location" placeholder="${t('optional')}"></label>
      <label><span><input type="checkbox" name="notify" checked> ${t('e-mail the customer')}</span></label>
      <button type="submit" data-testid="parcel-set-status">${t('Set status')}</button>
      <div class="field-error" data-error-for="status"></div><div class="field-error" data-error-for="tracking_number"></div>
    </form>`}
    ${s.tracking_number ? `<button class="secondary" data-send-tracking="${esc(s.id)}" data-testid="send-tracking">${t('E-mail tracking again')}</button>` : ''}
    ${s.status === 'returned_to_sender' && !s.received_back && order.status !== 'cancelled' ? `<div class="row" data-testid="receive-back">${t('Back from the carrier:')}
      <button class="secondary" data-receive-back="${esc(s.id)}" data-restock="true" data-testid="receive-back-restock">${t('Take in, back in stock')}</button>
      <button class="secondary" data-receive-back="${esc(s.id)}" data-restock="false" data-testid="receive-back-keep">${t('Take in, send again')}</button></div>` : ''}
    ${s.received_back ? `<p class="muted">${t('Taken back in from the carrier.')}</p>` : ''}
  </div>`;
}

// What is left to pack of each line (as the API counts it), and a form to
// pack part of it.
function packForm(order) {
  const left = order.lines
    .filter((l) => order.left_to_pack[l.id] > 0)
    .map((l) => ({ ...l, left: order.left_to_pack[l.id] }));
  if (!left.length) return '';
  return `<form class="ship-form" id="pack-form" data-testid="pack-form"><strong>${t('Pack a parcel')}</strong>
    <table class="lines"><thead><tr><th>${t('Line')}</th><th>${t('Product')}</th><th class="num">${t('Left to ship')}</th><th class="num">${t('In this parcel')}</th></tr></thead><tbody>
    ${left.map((l) => `<tr><td>${esc(l.id)}</td><td>${esc(l.name)}${l.backordered ? ` <span class="stock-back">${t('{count} backordered', { count: esc(l.backordered) })}</span>` : ''}</td>
      <td class="num">${esc(l.left)}</td><td class="num"><input type="number" min="0" max="${esc(l.left)}" value="0" name="line-${esc(l.id)}" data-line="${esc(l.id)}" aria-label="${t('Units of {line}', { line: esc(l.id) })}"></td></tr>`).join('')}
    </tbody></table>
    <div class="row">
      <label>${t('Carrier')}<select name="carrier" data-testid="pack-carrier">${CARRIERS.map(([v, n]) => `<option value="${v}">${v === 'other' ? t(n) : n}</option>`).join('')}</select></label>
      <label>${t('Tracking number')}<input name="tracking_number" data-testid="pack-tracking"></label>
      <button type="submit" data-testid="pack">${t('Pack parcel')}</button>
    </div>
    <div class="field-error" data-testid="pack-error"></div>
  </form>`;
}

function wireParcels(order) {
  const base = `/admin/orders/${encodeURIComponent(order.id)}/shipments`;
  const reload = () => orderView(order.id).catch(showError);
  document.getElementById('pack-form')?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.target;
    const items = [...form.querySelectorAll('[data-line]')]
      .map((input) => ({ line_id: input.dataset.line, quantity: Number(input.value) }))
      .filter((i) => i.quantity > 0);
    const tracking = form.tracking_number.value.trim();
    try {
      await request('POST', base, { items, carrier: form.carrier.value, ...(tracking ? { tracking_number: tracking } : {}) });
      reload();
    } catch (error) {
      form.querySelector('[data-testid=pack-error]').textContent = error.message;
    }
  });
  app.querySelectorAll('.status-form').forEach((form) => form.addEventListener('submit', async (event) => {
    event.preventDefault();
    form.querySelectorAll('.field-error').forEach((e) => { e.textContent = ''; });
    const tracking = form.tracking_number.value.trim();
    const body = {
      status: form.status.value,
      notify: form.notify.checked,
      ...(tracking ? { tracking_number: tracking } : {}),
      ...(form.location.value.trim() ? { location: form.location.value.trim() } : {}),
    };
    try {
      await request('POST', `${base}/${encodeURIComponent(form.dataset.shipment)}/status`, body);
      reload();
    } catch (error) {
      const slot = form.querySelector(`[data-error-for="${CSS.escape(error.problem?.field || 'status')}"]`) || form.querySelector('[data-error-for=status]');
      slot.textContent = error.message;
    }
  }));
  app.querySelectorAll('[data-receive-back]').forEach((button) => button.addEventListener('click', async () => {
    try {
      await request('POST', `${base}/${encodeURIComponent(button.dataset.receiveBack)}/receive-back`, {
        restock: button.dataset.restock === 'true', version: order.version,
      });
      reload();
    } catch (error) {
      if (error instanceof ApiError && error.problem?.type === 'urn:kontor:problem:stale-version') { reload(); return; }
      document.getElementById('parcel-alert').innerHTML = `<div class="alert">${esc(error.message)}</div>`;
    }
  }));
  app.querySelectorAll('[data-send-tracking]').forEach((button) => button.addEventListener('click', async () => {
    try {
      await request('POST', `${base}/${encodeURIComponent(button.dataset.sendTracking)}/send-tracking`);
      button.textContent = t('Tracking e-mailed');
      button.disabled = true;
    } catch (error) {
      document.getElementById('parcel-alert').innerHTML = `<div class="alert">${esc(error.message)}</div>`;
    }
  }));
}

const skus = (text) => text.split(/[\s,]+/).map((s) => s.trim().toUpperCase()).filter(Boolean);

async function productsView() {
  const products = await request('GET', '/admin/products');
  app.innerHTML = `<h1>${t('Products')}</h1><p class="muted">${t('Change a row and save it. If someone else saved the product meanwhile, reload and edit again.')}</p>
    <div id="products-alert"></div>
    <table class="lines" data-testid="products"><thead><tr><th>${t('SKU')}</th><th>${t('Name')}</th><th class="num">${t('Price')}</th><th class="num">${t('Stock')}</th>
      <th>${t('Backorder')}</th><th>${t('Cross-sell')}</th><th>${t('Checkout-sell')}</th><th></th></tr></thead><tbody>
    ${products.map((p) => `<tr data-testid="product-row" data-sku="${esc(p.sku)}" data-version="${esc(p.version)}">
      <td>${esc(p.sku)}</td><td>${esc(p.name)}</td>
      <td><input name="price" value="${esc(p.price)}" inputmode="decimal" aria-label="${t('Price of {sku}', { sku: esc(p.sku) })}"><div class="field-error" data-error-for="price"></div></td>
      <td><input name="stock" type="number" min="0" value="${esc(p.stock)}" aria-label="${t('Stock of {sku}', { sku: esc(p.sku) })}"><div class="field-error" data-error-for="stock"></div></td>
      <td><input name="allow_backorder" type="checkbox" ${p.allow_backorder ? 'checked' : ''} aria-label="${t('Backorder {sku}', { sku: esc(p.sku) })}"></td>
      <td><input name="cross_sell" value="${esc(p.cross_sell.join(', '))}" aria-label="${t('Cross-sell of {sku}', { sku: esc(p.sku) })}"><div class="field-error" data-error-for="cross_sell"></div></td>
      <td><input name="checkout_sell" value="${esc(p.checkout_sell.join(', '))}" aria-label="${t('Checkout-sell of {sku}', { sku: esc(p.sku) })}"><div class="field-error" data-error-for="checkout_sell"></div></td>
      <td><button data-save="${esc(p.sku)}" data-testid="save-product">${t('Save')}</button> <span class="saved" hidden>${t('Saved')}</span></td></tr>`).join('')}
    </tbody></table>`;
  app.querySelectorAll('[data-save]').forEach((button) => button.addEventListener('click', () => saveProduct(button.closest('tr'))));
}

async function saveProduct(row) {
  row.querySelectorAll('.field-error').forEach((e) => { e.textContent = ''; });
  row.querySelector('.saved').hidden = true;
  document.getElementById('products-alert').innerHTML = '';
  const value = (name) => row.querySelector(`[name="${name}"]`);
  const stock = Number(value('stock').value);
  const body = {
    version: Number(row.dataset.version),
    price: value('price').value.trim().replace(',', '.'),
    stock: Number.isInteger(stock) ? stock : value('stock').value,
    allow_backorder: value('allow_backorder').checked,
    cross_sell: skus(value('cross_sell').value),
    checkout_sell: skus(value('checkout_sell').value),
  };
  try {
    const saved = await request('PATCH', `/admin/products/${encodeURIComponent(row.dataset.sku)}`, body);
    row.dataset.version = saved.version;
    value('stock').value = saved.stock;
    value('price').value = saved.price;
    row.querySelector('.saved').hidden = false;
  } catch (error) {
    const field = (error.problem?.field || '').replace(/\[\d+\]$/, '');
    const slot = row.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
    if (slot) slot.textContent = error.message;
    else if (error instanceof ApiError && error.status !== 401 && error.status !== 403) {
      document.getElementById('products-alert').innerHTML = `<div class="alert" data-testid="product-error">${esc(row.dataset.sku)}: ${esc(error.message)}</div>`;
    } else showError(error);
  }
}

async function carriersView() {
  const { version, carriers } = await request('GET', '/admin/carriers');
  let current = version;
  app.innerHTML = `<h1>${t('Carriers')}</h1><p class="muted">${t("Where customers follow their parcels: the carrier's tracking page, with {placeholder} where the number goes. Leave empty for no link.", { placeholder: '<code>{tracking}</code>' })}</p>
    <form id="carriers-form" class="ship-form" data-testid="carriers-form">
      ${carriers.map((c) => `<div class="row"><label style="flex:1">${esc(c.name === 'the carrier' ? t('Other') : c.name)}
        <input name="${esc(c.carrier)}" value="${esc(c.url_template)}" style="width:100%" data-testid="carrier-${esc(c.carrier)}"></label>
        <div class="field-error" data-error-for="templates.${esc(c.carrier)}"></div></div>`).join('')}
      <div class="row"><button type="submit" data-testid="save-carriers">${t('Save')}</button> <span class="saved" hidden>${t('Saved')}</span></div>
    </form>`;
  const form = document.getElementById('carriers-form');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    form.querySelectorAll('.field-error').forEach((e) => { e.textContent = ''; });
    const templates = Object.fromEntries(carriers.map((c) => [c.carrier, form[c.carrier].value.trim()]));
    try {
      current = (await request('PUT', '/admin/carriers', { templates, version: current })).version;
      form.querySelector('.saved').hidden = false;
    } catch (error) {
      // Someone else saved meanwhile: show what is there now.
      if (error.problem?.type === 'urn:kontor:problem:stale-version') { carriersView().catch(showError); return; }
      const slot = form.querySelector(`[data-error-for="${CSS.escape(error.problem?.field || '')}"]`);
      if (slot) slot.textContent = error.message; else showError(error);
    }
  });
}

async function outboxView() {
  const { items: mails, next } = await requestPage('/admin/outbox');
  app.innerHTML = `<h1>${t('Mail outbox')}</h1><p class="muted">${t('Every e-mail the local shop sent, newest first (in the cloud, mail goes out through SES).')}</p>
    ${mails.length ? `<div data-testid="mails">${mails.map(mailBlock).join('')}</div>${moreButton()}`
    : `<p class="muted">${t('No e-mails yet.')}</p>`}`;
  const list = app.querySelector('[data-testid="mails"]');
  if (list) {
    wireMore(app.querySelector('[data-testid="show-more"]'), '/admin/outbox', next, (page) => {
      list.insertAdjacentHTML('beforeend', page.map(mailBlock).join(''));
    });
  }
}

const mailBlock = (m) => `<div class="mail" data-testid="mail"><strong>${esc(m.subject)}</strong>
  <div class="muted">${t('to {address}', { address: esc(m.to) })} · ${when(m.sent_at)}</div>
  <details><summary>${t('Text')}</summary><pre>${esc(m.text)}</pre></details></div>`;

function updateAccount() {
  const slot = document.getElementById('account');
  const signedIn = session.current();
  slot.innerHTML = signedIn
    ? `<span data-testid="staff-email">${esc(signedIn.email)}</span> <button class="link" id="sign-out">${t('Sign out')}</button>`
    : '';
  document.getElementById('sign-out')?.addEventListener('click', () => {
    session.signOut();
    updateAccount();
    location.hash = '#/signin';
  });
}

async function route() {
  const { parts, params } = parseHash();
  document.querySelectorAll('#tabs a').forEach((a) => a.classList.toggle('active', a.dataset.tab === parts[0]));
  if (parts[0] !== 'signin' && !session.isStaff()) {
    location.hash = '#/signin';
    return;
  }
  try {
    switch (parts[0]) {
      case 'signin': return await signInView(params);
      case 'orders':
        if (parts[1] === 'new') return await phoneOrderView(app, showError);
        return parts[1] ? await orderView(parts[1]) : await ordersView(params);
      case 'products': return await productsView();
      case 'carriers': return await carriersView();
      case 'credit-notes': return await creditNotesView(app);
      case 'discounts': return await discountsView(app, showError, parts[1]);
      case 'rules': return await rulesView(app, showError, parts[1]);
      case 'customers': return await customersView(app, showError, params);
      case 'outbox': return await outboxView();
      default: location.hash = '#/orders';
    }
  } catch (error) {
    showError(error);
  }
}

window.addEventListener('hashchange', () => { route(); window.scrollTo(0, 0); });
window.addEventListener('kontor:signed-out', updateAccount);
updateAccount();
route();
