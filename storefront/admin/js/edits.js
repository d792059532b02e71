// Staff editing placed orders on the admin page: change or remove lines,
// add an item (a gift at 0, or at a price), a goodwill adjustment, new
// addresses — and taking a new order on the phone. Every form asks the API
// for a preview (`?dry_run=true`) as it is filled in and shows the totals
// the change will produce before it is saved. Each change sends the order
// version on screen; if someone changed the order meanwhile (409), the
// page shows the order as it is now.

import { request, ApiError } from '/js/api.js';
import { esc, money } from '/js/format.js';
import { formatDateTime, formatDecimal, language, t } from '/js/i18n.js';

const STALE = 'urn:kontor:problem:stale-version';

// The shop's products for the add-item and phone order forms, read once.
let productList;
async function products() {
  productList ??= await request('GET', '/admin/products');
  return productList;
}

function productOptions(list) {
  return `<datalist id="product-skus">${list.map((p) => `<option value="${esc(p.sku)}">${esc(p.name)} — ${money(p.price)}, ${t('{count} in stock', { count: esc(p.stock) })}</option>`).join('')}</datalist>`;
}

// The totals a preview answers, in one line.
function previewLine(answer) {
  const adjustments = Number(answer.adjustments || 0) !== 0 ? ` · ${t('adjustments {amount}', { amount: money(answer.adjustments) })}` : '';
  const due = answer.amount_due !== undefined ? ` · ${t('due {amount}', { amount: money(answer.amount_due) })}` : '';
  return `${t('After this change: total {total}', { total: `<strong data-testid="preview-total">${money(answer.total)}</strong>` })}${adjustments}${due}`;
}

// Reads a decimal as people type it ("-10,00" or "-10.00").
const decimal = (text) => text.trim().replace(',', '.');

function showFieldError(form, error) {
  const field = error.problem?.field || '';
  const slot = form.querySelector(`[data-error-for="${CSS.escape(field)}"]`) || form.querySelector('[data-error-for=form]');
  if (slot) slot.textContent = error.message;
}

function clearErrors(form) {
  form.querySelectorAll('.field-error').forEach((e) => { e.textContent = ''; });
}

// Wires one edit form: `build(form, submitter)` turns the form into
// [method, path, body], or null while it is incomplete; `submitter` is the
// button pressed when saving, null for a preview. The preview follows
// every input; the submit saves.
function editForm(form, order, build, reload) {
  const slot = form.querySelector('.preview');
  let timer;
  let asked = 0;
  const preview = async () => {
    const call = build(form, null);
    clearErrors(form);
    if (!call) { slot.innerHTML = ''; return; }
    const [method, path, body] = call;
    const mine = ++asked;
    try {
      const join = path.includes('?') ? '&' : '?';
      const answer = await request(method, `${path}${join}dry_run=true`, body);
      if (mine === asked) slot.innerHTML = previewLine(answer);
    } catch (error) {
      if (mine !== asked) return;
      slot.innerHTML = '';
      if (error.problem?.type === STALE) { reload(); return; }
      showFieldError(form, error);
    }
  };
  form.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(preview, 250); });
  form.addEventListener('change', () => { clearTimeout(timer); timer = setTimeout(preview, 50); });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearTimeout(timer);
    const call = build(form, event.submitter || form);
    if (!call) return;
    const [method, path, body] = call;
    clearErrors(form);
    try {
      await request(method, path, body);
      reload();
    } catch (error) {
      if (error instanceof ApiError && error.problem?.type === STALE) { reload(); return; }
      showFieldError(form, error);
    }
  });
}

// Lines with what can still change: the part not packed.
export function linesBlock(order) {
  const open = order.status === 'open';
  return `<table class="lines"><thead><tr><th>${t('Line')}</th><th>${t('Product')}</th><th class="num">${t('Quantity')}</th><th class="num">${t('Backordered')}</th>
      <th class="num">${t('Unit price')}</th><th class="num">${t('VAT')}</th><th class="num">${t('Adjustment')}</th><th class="num">${t('Charged')}</th>${open ? `<th>${t('Change (not packed)')}</th>` : ''}</tr></thead>
    <tbody>${order.lines.map((l) => {
      const packed = order.packed[l.id] || 0;
      return `<tr data-testid="order-line" data-line="${esc(l.id)}"><td>${esc(l.id)}</td><td>${esc(l.name)} <span class="muted">${esc(l.sku)}</span>${packed ? ` <span class="muted">${t('{count} packed', { count: esc(packed) })}</span>` : ''}</td>
      <td class="num">${esc(l.quantity)}</td><td class="num">${esc(l.backordered)}</td><td class="num">${money(l.unit_price)}</td>
      <td class="num">${esc(l.tax_rate)} %</td><td class="num">${Number(l.adjustment) ? money(l.adjustment) : ''}</td><td class="num">${money(l.charged)}</td>
      ${open ? `<td>${packed >= l.quantity ? `<span class="muted">${t('all packed')}</span>` : `<form class="line-form row" data-line="${esc(l.id)}">
        <input type="number" name="quantity" min="${Math.max(packed, 1)}" max="999" value="${esc(l.quantity)}" aria-label="${t('Quantity of {name}', { name: esc(l.id) })}" data-testid="line-quantity">
        <input name="unit_price" inputmode="decimal" value="${esc(formatDecimal(l.unit_price))}" ${packed ? `disabled title="${t('Part of the line is packed: its price stays')}"` : ''} aria-label="${t('Unit price of {line}', { line: esc(l.id) })}" data-testid="line-price" size="7">
        <label><span><input type="checkbox" name="notify"> ${t('tell the customer')}</span></label>
        <button type="submit" name="save" data-testid="line-save">${t('Save')}</button>
        <button type="submit" name="remove" class="secondary" data-testid="line-remove">${packed ? t('Remove unpacked') : t('Remove')}</button>
        <div class="preview muted"></div>
        <div class="field-error" data-error-for="quantity"></div><div class="field-error" data-error-for="unit_price"></div><div class="field-error" data-error-for="form"></div>
      </form>`}</td>` : ''}</tr>`;
    }).join('')}</tbody></table>
    ${order.removed_lines.length ? `<p class="muted" data-testid="removed-lines">${t('Removed:')} ${order.removed_lines.map((l) => `${esc(l.id)} ${esc(l.quantity)} × ${esc(l.name)}`).join(', ')}</p>` : ''}`;
}

// The totals, with goodwill adjustments on their own row.
export function totalsBlock(order) {
  return `<div class="totals">
      <div><span>${t('Subtotal')}</span><span>${money(order.subtotal)}</span></div>
      <div><span>${t('Shipping')}</span><span>${money(order.shipping)}</span></div>
      ${(order.discounts || []).filter((d) => Number(d.amount) > 0).map((d) => `<div data-testid="order-discount"><span>${esc(d.name)}${d.coupon ? ` (${esc(d.coupon)})` : ''}</span><span>−${money(d.amount)}</span></div>`).join('')}
      ${Number(order.adjustments) ? `<div data-testid="adjustments-total"><span>${t('Adjustments')}</span><span>${money(order.adjustments)}</span></div>` : ''}
      <div class="grand"><span>${t('Total')}</span><span data-testid="order-total">${money(order.total)}</span></div>
      ${order.taxes.map((tax) => `<div class="tax"><span>${t('incl. {rate} % VAT on {gross}', { rate: esc(tax.rate), gross: money(tax.gross) })}</span><span>${money(tax.tax)}</span></div>`).join('')}
    </div>`;
}

const addressFields = (prefix, a) => ['name', 'street', 'postal_code', 'city', 'country'].map((field) => `<label>${esc(t({ name: 'Name', street: 'Street', postal_code: 'Postal code', city: 'City', country: 'Country' }[field]))}
    <input name="${prefix}.${field}" value="${esc(a?.[field] || '')}" data-testid="${prefix}-${field}" ${field === 'country' ? 'maxlength="2" size="3"' : ''}>
    <div class="field-error" data-error-for="${prefix}.${field}"></div></label>`).join('');

const addressFrom = (form, prefix) => Object.fromEntries(['name', 'street', 'postal_code', 'city', 'country']
  .map((field) => [field, form[`${prefix}.${field}`].value.trim()]));

// Add an item, a goodwill adjustment and new addresses.
export function editsBlock(order) {
  if (order.status !== 'open') return adjustmentsList(order);
  return `<div class="edits" data-testid="edits"><h2>${t('Change the order')}</h2>
    ${adjustmentsList(order)}
    <form class="ship-form" id="add-item-form" data-testid="add-item-form"><strong>${t('Add an item')}</strong>
      <div class="row">
        <label>${t('Product')}<input name="sku" list="product-skus" placeholder="${t('Search by SKU or name')}" data-testid="add-item-sku" required autocomplete="off"></label>
        <label>${t('Quantity')}<input name="quantity" type="number" min="1" max="999" value="1" data-testid="add-item-quantity"></label>
        <label>${t('Unit price')}<input name="unit_price" inputmode="decimal" placeholder="${t('catalog price')}" size="9" data-testid="add-item-price"></label>
        <label>${t('Reason')}<input name="reason" placeholder="${t('e.g. good customer')}" data-testid="add-item-reason"></label>
        <label><span><input type="checkbox" name="notify" data-testid="add-item-notify"> ${t('e-mail the customer')}</span></label>
        <button type="submit" data-testid="add-item">${t('Add item')}</button>
      </div>
      <p class="muted">${t('Unit price 0 makes it a gift; it is taken from stock now (or backordered where the product allows).')}</p>
      <div class="preview muted" data-testid="add-item-preview"></div>
      <div class="field-error" data-error-for="sku"></div><div class="field-error" data-error-for="quantity"></div>
      <div class="field-error" data-error-for="unit_price"></div><div class="field-error" data-error-for="reason"></div><div class="field-error" data-error-for="form"></div>
    </form>
    <form class="ship-form" id="adjustment-form" data-testid="adjustment-form"><strong>${t('Goodwill adjustment')}</strong>
      <div class="row">
        <label>${t('Amount')}<input name="amount" inputmode="decimal" placeholder="${esc(formatDecimal(-10))}" data-testid="adjustment-amount" required></label>
        <label>${t('Reason (staff only)')}<input name="reason" data-testid="adjustment-reason" required></label>
        <label><span><input type="checkbox" name="notify" data-testid="adjustment-notify"> ${t('e-mail the customer')}</span></label>
        <button type="submit" data-testid="adjust">${t('Make adjustment')}</button>
      </div>
      <p class="muted">${t("Negative lowers the total. It is split over the order's VAT rates; the total never goes below zero.")}</p>
      <div class="preview muted" data-testid="adjustment-preview"></div>
      <div class="field-error" data-error-for="amount"></div><div class="field-error" data-error-for="reason"></div><div class="field-error" data-error-for="form"></div>
    </form>
    <details class="ship-form"><summary data-testid="edit-addresses">${t('Change addresses')}</summary>
    <form id="address-form" data-testid="address-form">
      <div class="row"><strong>${t('Ships to')}</strong>${addressFields('shipping_address', order.shipping_address)}</div>
      <div class="row"><strong>${t('Bills to')}</strong>${addressFields('billing_address', order.billing_address)}</div>
      <div class="row"><label><span><input type="checkbox" name="notify"> ${t('e-mail the customer')}</span></label>
        <button type="submit" data-testid="save-addresses">${t('Save addresses')}</button></div>
      <p class="muted">${t('A new shipping address is for parcels that have not left; those that left keep theirs.')}</p>
      <div class="preview muted"></div><div class="field-error" data-error-for="form"></div>
    </form></details>
  </div>`;
}

function adjustmentsList(order) {
  if (!order.adjustment_entries.length) return '';
  return `<ul class="history" data-testid="adjustments">${order.adjustment_entries.map((a) => `<li data-testid="adjustment"><time>${esc(formatDateTime(a.at))}</time>
    <strong>${esc(a.id)} ${money(a.amount)}</strong> — ${esc(a.reason)} <span class="muted">(${esc(a.by)})</span></li>`).join('')}</ul>`;
}

export async function wireEdits(order, reload) {
  if (order.status !== 'open') return;
  const base = `/admin/orders/${encodeURIComponent(order.id)}`;
  document.querySelectorAll('.line-form').forEach((form) => editForm(form, order, (f, submitter) => {
    const notify = f.notify.checked;
    if (submitter?.name === 'remove') {
      const removal = `${base}/lines/${encodeURIComponent(f.dataset.line)}?version=${order.version}&notify_customer=${notify}`;
      return window.confirm(t('Remove what is not packed of {line}? Its units go back to stock.', { line: f.dataset.line })) ? ['DELETE', removal] : null;
    }
    const line = order.lines.find((l) => l.id === f.dataset.line);
    const body = { version: order.version, notify_customer: notify };
    const quantity = Number(f.quantity.value);
    if (quantity !== line.quantity) body.quantity = Number.isInteger(quantity) ? quantity : f.quantity.value;
    if (!f.unit_price.disabled && decimal(f.unit_price.value) !== line.unit_price) body.unit_price = decimal(f.unit_price.value);
    if (body.quantity === undefined && body.unit_price === undefined) return null;
    return ['PATCH', `${base}/lines/${encodeURIComponent(f.dataset.line)}`, body];
  }, reload));

  const addItem = document.getElementById('add-item-form');
  addItem.insertAdjacentHTML('beforeend', productOptions(await products().catch(() => [])));
  editForm(addItem, order, (f) => {
    const sku = f.sku.value.trim().toUpperCase();
    if (!sku) return null;
    const body = { sku, quantity: Number(f.quantity.value), version: order.version, notify_customer: f.notify.checked };
    if (decimal(f.unit_price.value)) body.unit_price = decimal(f.unit_price.value);
    if (f.reason.value.trim()) body.reason = f.reason.value.trim();
    return ['POST', `${base}/lines`, body];
  }, reload);

  editForm(document.getElementById('adjustment-form'), order, (f, saving) => {
    const amount = decimal(f.amount.value);
    if (!amount || amount === '-') return null;
    const reason = f.reason.value.trim();
    if (saving && !reason) {
      f.querySelector('[data-error-for=reason]').textContent = t('A reason is needed.');
      return null;
    }
    // A preview needs a reason too: what the totals become does not depend on it.
    return ['POST', `${base}/adjustments`, {
      amount, reason: reason || 'preview', notify_customer: f.notify.checked, version: order.version,
    }];
  }, reload);

  editForm(document.getElementById('address-form'), order, (f) => ['PUT', `${base}/addresses`, {
    shipping_address: addressFrom(f, 'shipping_address'),
    billing_address: addressFrom(f, 'billing_address'),
    notify_customer: f.notify.checked,
    version: order.version,
  }], reload);
}

// A new order taken on the phone.
export async function phoneOrderView(app, showError) {
  const list = await products();
  const key = crypto.randomUUID();
  const row = (i) => `<div class="row phone-line" data-index="${i}">
      <label>${t('Product')}<input name="sku" list="product-skus" data-testid="phone-sku" autocomplete="off"></label>
      <label>${t('Quantity')}<input name="quantity" type="number" min="1" max="999" value="1" data-testid="phone-quantity"></label>
      <label>${t('Unit price')}<input name="unit_price" inputmode="decimal" placeholder="${t('catalog price')}" size="9" data-testid="phone-price"></label>
      <div class="field-error" data-error-for="lines[${i}].sku"></div><div class="field-error" data-error-for="lines[${i}].quantity"></div><div class="field-error" data-error-for="lines[${i}].unit_price"></div>
    </div>`;
  app.innerHTML = `<p><a href="#/orders">← ${t('All orders')}</a></p><h1>${t('New phone order')}</h1>
    <form class="ship-form" id="phone-form" data-testid="phone-form">
      <div class="row"><label>${t('Customer e-mail')}<input name="email" type="email" data-testid="phone-email" required></label>
        <div class="field-error" data-error-for="email"></div></div>
      <div class="row"><strong>${t('Ships to')}</strong>${addressFields('shipping_address', { country: 'DE' })}</div>
      <div id="phone-lines">${row(0)}</div>
      <button type="button" class="secondary" id="phone-more" data-testid="phone-more">${t('Another line')}</button>
      <div class="row">
        <label>${t('Payment')}<select name="payment_method" data-testid="phone-payment"><option value="invoice">${t('Invoice')}</option><option value="prepayment">${t('Prepayment')}</option><option value="cash_on_delivery">${t('Cash on delivery')}</option></select></label>
        <label>${t("The customer's language")}<select name="language"><option value="de" ${language === 'de' ? 'selected' : ''}>Deutsch</option><option value="en" ${language === 'en' ? 'selected' : ''}>English</option></select></label>
        <label><span><input type="checkbox" name="send_confirmation" checked data-testid="phone-confirm"> ${t('e-mail the confirmation')}</span></label>
        <button type="submit" data-testid="phone-place">${t('Place order')}</button>
      </div>
      <p class="muted">${t('A customer with an account under this e-mail gets the order in their account; anyone else gets a guest order and its link by e-mail.')}</p>
      <div class="preview muted" data-testid="phone-preview"></div><div class="field-error" data-error-for="form"></div>
      ${productOptions(list)}
    </form>`;
  const form = document.getElementById('phone-form');
  let lines = 1;
  document.getElementById('phone-more').addEventListener('click', () => {
    document.getElementById('phone-lines').insertAdjacentHTML('beforeend', row(lines));
    lines += 1;
  });
  const body = () => ({
    email: form.email.value.trim(),
    shipping_address: addressFrom(form, 'shipping_address'),
    lines: [...form.querySelectorAll('.phone-line')]
      .map((r) => ({ sku: r.querySelector('[name=sku]').value.trim().toUpperCase(), quantity: Number(r.querySelector('[name=quantity]').value), unit_price: decimal(r.querySelector('[name=unit_price]').value) }))
      .filter((l) => l.sku)
      .map((l) => (l.unit_price ? l : { sku: l.sku, quantity: l.quantity })),
    payment_method: form.payment_method.value,
    language: form.language.value,
    send_confirmation: form.send_confirmation.checked,
  });
  const send = (dryRun, wanted = body()) => request('POST', `/admin/orders${dryRun ? '?dry_run=true' : ''}`, wanted, { 'Idempotency-Key': key });
  // The totals do not depend on who orders or where it goes: until the
  // caller's details are in, the preview asks with stand-ins for them.
  const forPreview = (wanted) => {
    const address = wanted.shipping_address;
    const complete = Object.values(address).every(Boolean);
    return {
      ...wanted,
      email: wanted.email.includes('@') ? wanted.email : 'preview@example.com',
      shipping_address: complete ? address : { name: 'Preview', street: 'Preview', postal_code: '00000', city: 'Preview', country: 'DE' },
    };
  };
  let timer;
  form.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const wanted = body();
      const slot = form.querySelector('.preview');
      if (!wanted.lines.length) { slot.innerHTML = ''; return; }
      clearErrors(form);
      try {
        const answer = await send(true, forPreview(wanted));
        slot.innerHTML = `${t('The order will come to {total} (shipping {shipping})', { total: `<strong data-testid="preview-total">${money(answer.total)}</strong>`, shipping: money(answer.shipping) })}${answer.backordered.length ? `; ${t('backordered: {items}', { items: answer.backordered.map((b) => `${esc(b.quantity)} × ${esc(b.sku)}`).join(', ') })}` : ''}`;
      } catch (error) {
        slot.innerHTML = '';
        // Address and e-mail are filled in last: only line problems show early.
        if ((error.problem?.field || '').startsWith('lines')) showFieldError(form, error);
      }
    }, 300);
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    try {
      const placed = await send(false);
      location.hash = `#/orders/${encodeURIComponent(placed.id)}`;
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) showError(error);
      else showFieldError(form, error);
    }
  });
}
