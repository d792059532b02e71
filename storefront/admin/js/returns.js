// Returns on the admin page: record one for a customer (after the window
// too, on purpose), and walk each through approve or reject, receive (what
// arrived, and whether it goes back on the shelf) and refund — the refund
// shown as the API computes it (`?dry_run=true`) before it is confirmed —
// or close a replacement. Each step sends the order version on screen; a
// newer order (409) is shown as it is now.

import { request, requestPage, ApiError } from '/js/api.js';
import { esc, money, words } from '/js/format.js';
import { formatDateTime, formatDecimal, shopText, t } from '/js/i18n.js';
import { moreButton, wireMore } from '/js/pages.js';

const STALE = 'urn:kontor:problem:stale-version';
const ACTIONS = { refund: 'refund', replacement: 'replacement', exchange: 'exchange' };

export function returnsBlock(order) {
  const returnable = order.lines.filter((l) => order.returnable[l.id] > 0);
  if (!order.returns.length && !returnable.length) return '';
  const options = order.return_options;
  return `<div class="returns" data-testid="returns"><h2>${t('Returns')}</h2><div id="returns-alert"></div>
    ${order.returns.map((r) => returnCard(order, r)).join('')}
    ${returnable.length && order.status !== 'cancelled' ? `<details class="ship-form"><summary data-testid="record-return">${t('Record a return for the customer')}</summary>
      <form id="staff-return-form" data-testid="staff-return-form">
        <table class="lines"><thead><tr><th>${t('Line')}</th><th class="num">${t('Returnable')}</th><th class="num">${t('Units')}</th><th>${t('Reason')}</th><th>${t('Exchange for (SKU)')}</th></tr></thead><tbody>
        ${returnable.map((l) => `<tr><td>${esc(l.id)} ${esc(l.name)}</td><td class="num">${esc(order.returnable[l.id])}</td>
          <td class="num"><input type="number" min="0" max="${esc(order.returnable[l.id])}" value="0" data-line="${esc(l.id)}" aria-label="${t('Units of {line}', { line: esc(l.id) })}"></td>
          <td><select data-reason="${esc(l.id)}" aria-label="${t('Reason for {line}', { line: esc(l.id) })}">${options.reasons.map((r) => `<option value="${esc(r)}">${esc(shopText(r))}</option>`).join('')}</select></td>
          <td><input data-exchange="${esc(l.id)}" placeholder="${t('same product')}" size="14" aria-label="${t('Exchange {line} for', { line: esc(l.id) })}"></td></tr>`).join('')}
        </tbody></table>
        <div class="row"><label>${t('Customer wants')}<select name="action">${options.actions.map((a) => `<option value="${esc(a)}">${esc(t(ACTIONS[a] || a))}</option>`).join('')}</select></label>
          <label><span><input type="checkbox" name="override_window"> ${t('accept after the {days}-day window', { days: esc(options.window_days) })}</span></label>
          <button type="submit">${t('Record return')}</button></div>
        <div class="field-error" data-error-for="form"></div>
      </form></details>` : ''}</div>`;
}

function returnCard(order, r) {
  const steps = {
    requested: `<div class="row"><button data-step="approve" data-testid="return-approve">${t('Approve')}</button>
        <input name="reject_reason" placeholder="${t('Reason the customer reads')}" aria-label="${t('Reason to reject {id}', { id: esc(r.id) })}">
        <button class="secondary" data-step="reject" data-testid="return-reject">${t('Reject')}</button></div>`,
    approved: `<table class="lines"><thead><tr><th>${t('Line')}</th><th class="num">${t('Expected')}</th><th class="num">${t('Arrived')}</th><th>${t('Back in stock')}</th></tr></thead><tbody>
        ${r.lines.map((l) => `<tr><td>${esc(l.line_id)} ${esc(l.name)}</td><td class="num">${esc(l.quantity)}</td>
          <td class="num"><input type="number" min="0" max="${esc(l.quantity)}" value="${esc(l.quantity)}" data-arrived="${esc(l.line_id)}" aria-label="${t('Arrived of {line}', { line: esc(l.line_id) })}"></td>
          <td><input type="checkbox" checked data-restock="${esc(l.line_id)}" aria-label="${t('Restock {line}', { line: esc(l.line_id) })}" data-testid="return-restock"></td></tr>`).join('')}
        </tbody></table><button data-step="receive" data-testid="return-receive">${t('Record what arrived')}</button>`,
    received: r.requested_action === 'refund'
      ? `<p data-testid="refund-preview" class="muted">${t('Working out the refund…')}</p>
        <div class="row"><label>${t('Refund')}<input name="amount" inputmode="decimal" aria-label="${t('Refund amount')}" data-testid="refund-amount"></label>
          <label>${t('Why less')}<input name="refund_reason" placeholder="${t('only when refunding less')}" aria-label="${t('Why less')}"></label>
          <button data-step="refund" data-testid="return-refund">${t('Refund')}</button></div>`
      : `<button data-step="close" data-testid="return-close">${t('Close (replacement sent)')}</button>`,
  };
  return `<div class="parcel" data-testid="return" data-id="${esc(r.id)}" data-status="${esc(r.status)}">
    <div class="parcel-head"><strong>${esc(r.id)}</strong><span class="status" data-testid="return-status">${words(r.status)}</span>
      <span>${esc(t(ACTIONS[r.requested_action] || r.requested_action))}</span><span class="muted">${esc(formatDateTime(r.requested_at))}</span></div>
    <ul>${r.lines.map((l) => `<li>${esc(l.quantity)} × ${esc(l.name)} <span class="muted">${esc(l.line_id)}</span> — ${esc(shopText(l.reason))}</li>`).join('')}</ul>
    ${r.comment ? `<p class="muted">“${esc(r.comment)}”</p>` : ''}
    ${r.rejection_reason ? `<p>${t('Rejected: {reason}', { reason: esc(r.rejection_reason) })}</p>` : ''}
    ${r.received.length ? `<p class="muted">${t('Arrived:')} ${r.received.map((l) => `${esc(l.quantity)} × ${esc(l.line_id)}${l.restocked ? ` ${t('(restocked)')}` : ''}`).join(', ')}</p>` : ''}
    ${r.refund ? `<p data-testid="return-refund-done">${t('Refunded {amount} · credit note {note} · paid back {out} · credited {credit}', { amount: money(r.refund.amount), note: `<strong>${esc(r.refund.credit_note)}</strong>`, out: money(r.refund.money_out), credit: money(r.refund.credit) })}
      · ${r.refund.taxes.map((tax) => `${esc(tax.rate)} % ${t('VAT')} ${money(tax.tax)}`).join(', ')}</p>` : ''}
    ${order.status !== 'cancelled' && steps[r.status] ? `<div class="return-step">${steps[r.status]}<div class="field-error" data-error-for="step"></div></div>` : ''}
  </div>`;
}

export function wireReturns(order, reload) {
  const base = `/admin/orders/${encodeURIComponent(order.id)}/returns`;
  const failed = (slot, error) => {
    if (error instanceof ApiError && error.problem?.type === STALE) { reload(); return; }
    slot.textContent = error.message;
  };
  document.querySelectorAll('[data-testid=return]').forEach((card) => {
    const id = card.dataset.id;
    const slot = card.querySelector('[data-error-for=step]');
    const found = order.returns.find((r) => r.id === id);
    // The refund as the API computes it, before staff confirm it.
    if (found.status === 'received' && found.requested_action === 'refund') {
      request('POST', `${base}/${encodeURIComponent(id)}/refund?dry_run=true`, { version: order.version })
        .then((answer) => {
          const refund = answer.return.refund;
          card.querySelector('[data-testid=refund-preview]').innerHTML = `${t('Refundable: {amount}', { amount: `<strong data-testid="refundable">${money(refund.amount)}</strong>` })}
            (${t('{out} paid back, {credit} off what is due', { out: money(refund.money_out), credit: money(refund.credit) })}${Number(refund.shipping) ? `, ${t('shipping {amount} included', { amount: money(refund.shipping) })}` : ''})`;
          card.querySelector('[name=amount]').value = formatDecimal(refund.amount);
        })
        .catch((error) => failed(slot, error));
    }
    card.querySelectorAll('[data-step]').forEach((button) => button.addEventListener('click', async () => {
      const step = button.dataset.step;
      const body = { version: order.version };
      if (step === 'reject') body.reason = card.querySelector('[name=reject_reason]').value.trim();
      if (step === 'receive') {
        body.lines = found.lines.map((l) => ({
          line_id: l.line_id,
          quantity: Number(card.querySelector(`[data-arrived="${CSS.escape(l.line_id)}"]`).value),
          restock: card.querySelector(`[data-restock="${CSS.escape(l.line_id)}"]`).checked,
        }));
      }
      if (step === 'refund') {
        const amount = card.querySelector('[name=amount]').value.trim().replace(',', '.');
        const reason = card.querySelector('[name=refund_reason]').value.trim();
        if (amount) body.amount = amount;
        if (reason) body.reason = reason;
      }
      try {
        await request('POST', `${base}/${encodeURIComponent(id)}/${step}`, body);
        reload();
      } catch (error) {
        failed(slot, error);
      }
    }));
  });
  const form = document.getElementById('staff-return-form');
  form?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const exchanging = form.action.value === 'exchange';
    const lines = [...form.querySelectorAll('[data-line]')]
      .map((input) => {
        const exchange = form.querySelector(`[data-exchange="${CSS.escape(input.dataset.line)}"]`).value.trim().toUpperCase();
        return {
          line_id: input.dataset.line,
          quantity: Number(input.value),
          reason: form.querySelector(`[data-reason="${CSS.escape(input.dataset.line)}"]`).value,
          ...(exchanging && exchange ? { exchange_sku: exchange } : {}),
        };
      })
      .filter((l) => l.quantity > 0);
    try {
      await request('POST', base, {
        lines, requested_action: form.action.value, override_window: form.override_window.checked, version: order.version,
      });
      reload();
    } catch (error) {
      failed(form.querySelector('[data-error-for=form]'), error);
    }
  });
}

// The shop's credit notes, newest order first: the ledger the accountant
// reads, page by page.
export async function creditNotesView(app) {
  const { items: notes, next } = await requestPage('/admin/credit-notes');
  app.innerHTML = `<h1>${t('Credit notes')}</h1>
    ${notes.length ? `<table class="lines" data-testid="credit-notes"><thead><tr><th>${t('Credit note')}</th><th>${t('Issued')}</th><th>${t('Order')}</th><th>${t('Return')}</th>
      <th class="num">${t('Amount')}</th><th class="num">${t('Paid back')}</th><th class="num">${t('Credited')}</th><th>${t('VAT')}</th></tr></thead><tbody>
      ${notes.map(creditNoteRow).join('')}</tbody></table>${moreButton()}`
    : `<p class="muted">${t('No refunds yet.')}</p>`}`;
  const rows = app.querySelector('[data-testid="credit-notes"] tbody');
  if (rows) {
    wireMore(app.querySelector('[data-testid="show-more"]'), '/admin/credit-notes', next, (page) => {
      rows.insertAdjacentHTML('beforeend', page.map(creditNoteRow).join(''));
    });
  }
}

const creditNoteRow = (n) => `<tr data-testid="credit-note"><td>${esc(n.credit_note)}</td><td>${esc(formatDateTime(n.at))}</td>
  <td><a href="#/orders/${encodeURIComponent(n.order_id)}">${esc(n.order_number)}</a></td><td>${esc(n.return_id)}</td>
  <td class="num">${money(n.amount)}</td><td class="num">${money(n.money_out)}</td><td class="num">${money(n.credit)}</td>
  <td>${n.taxes.map((tax) => `${esc(tax.rate)} %: ${money(tax.tax)}`).join(', ')}</td></tr>`;
