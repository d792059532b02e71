// The storefront: a small hash-routed page over Kontor's API.
//   #/                      catalog (with ?category= and ?q=)
//   #/product/SKU           product page with "goes well with"
//   #/cart                  cart with live prices and checkout suggestions
//   #/checkout              guest checkout
//   #/confirmation/ID       thank-you page with the order's link
//   #/order/ID?token=T      the order page a guest opens from its link
//   #/signin                sign in (locally with an e-mail; in AWS via Cognito)
//   #/account               the signed-in customer's orders
//   #/account/order/ID      one of them

import { api, ApiError } from './api.js';
import { esc, money, paymentWords, words } from './format.js';
import { formatDateTime, language, shopText, t } from './i18n.js';
import * as cart from './cart.js';
import { moreButton, wireMore } from './pages.js';
import * as session from './session.js';

const app = document.getElementById('app');
const SHIPPING_COUNTRIES = ['DE', 'AT', 'CH', 'NL', 'BE', 'FR', 'DK', 'PL'];
// Country names in the page's language, from the browser's own tables.
const countryName = (code) => new Intl.DisplayNames([language], { type: 'region' }).of(code);
const PAYMENT_METHODS = [
  ['prepayment', 'Prepayment (bank transfer)'],
  ['invoice', 'Invoice'],
  ['cash_on_delivery', 'Cash on delivery'],
];

const euro = (amount) => money(amount);
const label = words;

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = raw.split('?');
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), params: new URLSearchParams(query) };
}

function stockNote(product) {
  if (product.stock > 5) return `<span class="stock-ok">${t('In stock')}</span>`;
  if (product.stock > 0) return `<span class="stock-low">${t('Only {count} left', { count: esc(product.stock) })}</span>`;
  if (product.allow_backorder) return `<span class="stock-back">${t('Backorder: ships when it arrives')}</span>`;
  return `<span class="stock-low">${t('Sold out')}</span>`;
}

function productCard(product) {
  return `<a class="card" href="#/product/${encodeURIComponent(product.sku)}" data-testid="product-card" data-sku="${esc(product.sku)}">
    <img src="${esc(product.image || '')}" alt="${esc(product.name)}" width="200" height="200" loading="lazy">
    <div class="body"><span class="name">${esc(product.name)}</span>
      <span class="price">${euro(product.price)}</span>${stockNote(product)}</div></a>`;
}

function showError(error) {
  const message = error instanceof ApiError ? error.message : t('The shop cannot be reached. Please try again.');
  app.innerHTML = `<div class="alert">${esc(message)}</div><p><a href="#/">${t('Back to the shop')}</a></p>`;
}

async function renderCategories(active) {
  const nav = document.getElementById('categories');
  const { categories } = await api.products();
  nav.innerHTML = [`<a href="#/" class="${active ? '' : 'active'}">${t('All')}</a>`]
    .concat(categories.map((c) => `<a href="#/?category=${encodeURIComponent(c)}" class="${c === active ? 'active' : ''}">${esc(shopText(c))}</a>`))
    .join('');
}

// Each view names itself: the tab's title and the description search
// engines show for it. The shop's own description is the page's as served.
const SHOP_DESCRIPTION = document.querySelector('meta[name=description]').getAttribute('content');

function describePage(title, description) {
  document.title = title ? `${title} · Kontor Demo Shop` : 'Kontor Demo Shop';
  document.querySelector('meta[name=description]').setAttribute('content', description);
}

const PAGE_DESCRIPTIONS = {
  cart: ['Your cart', 'The products in your cart with their prices, discounts and shipping.'],
  checkout: ['Checkout', 'Your address, payment method and order summary: check out as a guest or signed in.'],
  confirmation: ['Thank you', 'Your order is placed: its number and the link to follow it.'],
  order: ['Your order', 'Your order with its deliveries, tracking, payments and returns.'],
  signin: ['Sign in', 'Sign in to see your orders and check out faster.'],
  account: ['Your account', 'Your orders with their deliveries and returns.'],
};
const describeView = (title, description) => describePage(t(title), t(description));

async function catalogView(params) {
  const category = params.get('category') || '';
  const q = params.get('q') || '';
  describePage(
    q ? t('Results for {query}', { query: q }) : category ? shopText(category).replace(/^./, (c) => c.toUpperCase()) : '',
    category ? t('The {category} of the Kontor demo shop, with their prices and stock.', { category: shopText(category) }) : SHOP_DESCRIPTION,
  );
  document.getElementById('search-input').value = q;
  const [{ products }] = await Promise.all([api.products({ q, category }), renderCategories(category)]);
  const heading = q ? t('Results for “{query}”', { query: esc(q) }) : category ? esc(shopText(category)) : t('All products');
  app.innerHTML = `<h1 style="text-transform:capitalize">${heading}</h1>
    ${products.length ? `<div class="grid">${products.map(productCard).join('')}</div>` : `<p class="muted">${t('Nothing found.')}</p>`}`;
}

async function productView(sku) {
  const product = await api.product(sku);
  describePage(product.name, product.description);
  await renderCategories(product.category);
  const orderable = product.available;
  app.innerHTML = `<div class="product">
      <img src="${esc(product.image || '')}" alt="${esc(product.name)}" width="200" height="200">
      <div><p class="muted" style="text-transform:capitalize">${esc(shopText(product.category))}</p>
        <h1>${esc(product.name)}</h1>
        <p class="price" style="font-size:1.5rem">${euro(product.price)}</p>
        <p class="muted">${t('incl. {rate} % VAT, plus shipping', { rate: product.tax_class === 'reduced' ? '7' : '19' })}</p>
        <p>${esc(product.description)}</p>
        <p>${stockNote(product)}</p>
        <form class="buy" id="buy-form">
          <label for="quantity">${t('Quantity')}</label>
          <input id="quantity" name="quantity" type="number" min="1" max="999" value="1">
          <button type="submit" ${orderable ? '' : 'disabled'} data-testid="add-to-cart">${t('Add to cart')}</button>
        </form>
        <p id="added" class="notice" hidden>${t('Added to your cart.')} <a href="#/cart">${t('Go to the cart')}</a></p>
      </div></div>
    ${product.cross_sell_products.length ? `<section class="related"><h2>${t('Goes well with')}</h2>
      <div class="grid" data-testid="cross-sell">${product.cross_sell_products.map(productCard).join('')}</div></section>` : ''}`;
  document.getElementById('buy-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const quantity = Math.max(1, Math.min(999, parseInt(event.target.quantity.value, 10) || 1));
    cart.add(product.sku, quantity);
    document.getElementById('added').hidden = false;
  });
}

function totalsBlock(priced) {
  const discounts = (priced.discounts || []).filter((d) => Number(d.amount) > 0);
  return `<div class="totals" data-testid="totals">
    <div><span>${t('Subtotal')}</span><span>${euro(priced.subtotal)}</span></div>
    <div><span>${t('Shipping')}</span><span>${Number(priced.shipping) === 0 ? t('free') : euro(priced.shipping)}</span></div>
    ${discounts.map((d) => `<div data-testid="discount" data-id="${esc(d.id)}"><span>${esc(d.name)}</span><span>−${euro(d.amount)}</span></div>`).join('')}
    ${Number(priced.adjustments || 0) ? `<div data-testid="adjustments"><span>${Number(priced.adjustments) < 0 ? t('Credit') : t('Surcharge')}</span><span>${euro(priced.adjustments)}</span></div>` : ''}
    <div class="grand"><span>${t('Total')}</span><span data-testid="total">${euro(priced.total)}</span></div>
    ${priced.taxes.map((tax) => `<div class="tax"><span>${t('incl. {rate} % VAT on {gross}', { rate: esc(tax.rate), gross: euro(tax.gross) })}</span><span>${euro(tax.tax)}</span></div>`).join('')}
  </div>`;
}

async function cartView() {
  await renderCategories(null);
  const lines = cart.lines();
  if (!lines.length) {
    app.innerHTML = `<h1>${t('Your cart')}</h1><p class="muted">${t('Your cart is empty.')}</p><p><a class="button" href="#/">${t('Continue shopping')}</a></p>`;
    return;
  }
  const { priced, couponError } = await priceCart(lines, 'DE');
  if (!priced) return cartView();
  const free = nearlyNotes(priced);
  app.innerHTML = `<h1>${t('Your cart')}</h1>${free}
    <table class="lines"><thead><tr><th></th><th>${t('Product')}</th><th>${t('Quantity')}</th><th class="num">${t('Price')}</th><th class="num">${t('Total')}</th><th></th></tr></thead>
    <tbody>${priced.lines.filter((l) => !l.gift_of).map((l) => `<tr data-testid="cart-line" data-sku="${esc(l.sku)}">
      <td><img src="${esc(l.image || '')}" alt=""></td>
      <td><a href="#/product/${encodeURIComponent(l.sku)}">${esc(l.name)}</a>${l.backordered ? `<div class="stock-back">${t('{count} on backorder, ships later', { count: esc(l.backordered) })}</div>` : ''}</td>
      <td><input type="number" min="0" max="999" value="${esc(l.quantity)}" data-quantity="${esc(l.sku)}" aria-label="${t('Quantity of {name}', { name: esc(l.name) })}"></td>
      <td class="num">${euro(l.unit_price)}</td><td class="num">${euro(l.total)}</td>
      <td><button class="link" data-remove="${esc(l.sku)}">${t('Remove')}</button></td></tr>`).join('')}
      ${giftRows(priced)}</tbody></table>
    ${couponForm(couponError)}
    ${totalsBlock(priced)}
    <p style="text-align:right;margin-top:1rem"><a class="button" href="#/checkout" data-testid="to-checkout">${t('Checkout')}</a></p>
    ${priced.suggestions.length ? `<section class="related"><h2>${t('Complete your order')}</h2><div class="grid" data-testid="suggestions">
      ${priced.suggestions.map((p) => `<div class="card"><img src="${esc(p.image || '')}" alt="${esc(p.name)}"><div class="body">
        <span class="name">${esc(p.name)}</span><span class="price">${euro(p.price)}</span>
        <button class="secondary" data-add="${esc(p.sku)}">${t('Add')}</button></div></div>`).join('')}</div></section>` : ''}`;
  app.querySelectorAll('[data-quantity]').forEach((input) => input.addEventListener('change', () => {
    cart.setQuantity(input.dataset.quantity, Math.max(0, parseInt(input.value, 10) || 0));
    cartView().catch(showError);
  }));
  app.querySelectorAll('[data-remove]').forEach((button) => button.addEventListener('click', () => {
    cart.remove(button.dataset.remove);
    cartView().catch(showError);
  }));
  app.querySelectorAll('[data-add]').forEach((button) => button.addEventListener('click', () => {
    cart.add(button.dataset.add, 1);
    cartView().catch(showError);
  }));
  wireCouponForm(() => cartView().catch(showError));
}

// Prices the cart with its coupon. A line whose product left the catalog
// is dropped (the caller prices again); a coupon that is not valid now is
// dropped too, and its reason shown beside the coupon field.
async function priceCart(lines, country, more = {}) {
  const coupon = cart.coupon();
  try {
    const priced = await api.evaluate(lines, country, { ...more, coupon: coupon || undefined });
    const reason = priced.coupon && !priced.coupon.applied
      ? t('The code {code} does not apply to this cart yet.', { code: priced.coupon.code }) : '';
    return { priced, couponError: reason };
  } catch (error) {
    const field = error.problem?.field || '';
    const match = field.match(/^lines\[(\d+)\]/);
    if (match) {
      cart.remove(lines[Number(match[1])].sku);
      return { priced: null };
    }
    if (field === 'coupon' && coupon) {
      cart.setCoupon('');
      const again = await api.evaluate(lines, country, more);
      return { priced: again, couponError: error.message };
    }
    throw error;
  }
}

// "Add 12,10 € more for free shipping": every discount a little more in the
// cart would bring.
function nearlyNotes(priced) {
  return (priced.nearly || []).map((n) => `<p class="notice" data-testid="nearly" data-id="${esc(n.id)}">${t('Add {amount} more for {what}.', { amount: euro(n.missing), what: n.id === 'shipping' ? t('free shipping') : esc(n.name) })}</p>`).join('');
}

function giftRows(priced) {
  return priced.lines.filter((l) => l.gift_of).map((l) => `<tr data-testid="gift-line" data-sku="${esc(l.sku)}">
    <td><img src="${esc(l.image || '')}" alt=""></td><td>${esc(l.name)} <span class="badge">${t('gift')}</span></td>
    <td>${esc(l.quantity)}</td><td class="num">${t('free')}</td><td class="num">${euro(0)}</td><td></td></tr>`).join('');
}

function couponForm(error) {
  const code = cart.coupon();
  return `<form class="coupon" id="coupon-form" novalidate>
    <label for="coupon">${t('Coupon code')}</label>
    <input id="coupon" name="coupon" value="${esc(code)}" maxlength="64" autocomplete="off">
    <button type="submit" class="secondary">${code ? t('Change') : t('Apply')}</button>
    ${code ? `<button type="button" class="link" id="coupon-remove">${t('Remove')}</button>` : ''}
    <div class="field-error" data-error-for="coupon" data-testid="coupon-error">${esc(error || '')}</div></form>`;
}

function wireCouponForm(again) {
  const form = document.getElementById('coupon-form');
  if (!form) return;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    cart.setCoupon(form.coupon.value.trim());
    again();
  });
  document.getElementById('coupon-remove')?.addEventListener('click', () => {
    cart.setCoupon('');
    again();
  });
}

// One key per checkout attempt, kept until the order is placed, so a
// double click or a retry after a lost answer cannot order twice.
function idempotencyKey() {
  let key = sessionStorage.getItem('kontor.checkout-key');
  if (!key) {
    key = crypto.randomUUID();
    sessionStorage.setItem('kontor.checkout-key', key);
  }
  return key;
}

const field = (name, text, attrs = '') => `<label for="${name}">${t(text)}</label>
  <input id="${name}" name="${name}" ${attrs}><div class="field-error" data-error-for="${name}"></div>`;

async function checkoutView() {
  await renderCategories(null);
  const lines = cart.lines();
  if (!lines.length) { location.hash = '#/cart'; return; }
  let { priced, couponError } = await priceCart(lines, 'DE');
  if (!priced) return checkoutView();
  const signedIn = session.current();
  const who = signedIn
    ? `<p class="notice" data-testid="checkout-as">${t('Ordering as {email}: the order goes to your account.', { email: esc(signedIn.email) })}</p>`
    : `<p class="muted">${t('Ordering as a guest.')} <a href="#/signin?back=checkout">${t('Sign in')}</a> ${t('to keep your orders in an account.')}</p>`;
  app.innerHTML = `<h1>${t('Checkout')}</h1>${who}<div id="checkout-alert"></div><div class="two-col">
    <form class="checkout" id="checkout-form" novalidate>
      <fieldset><legend>${t('Contact')}</legend>${field('email', 'E-mail', 'type="email" autocomplete="email" required')}</fieldset>
      <fieldset><legend>${t('Shipping address')}</legend>
        ${field('name', 'Full name', 'autocomplete="name" required')}
        ${field('street', 'Street and number', 'autocomplete="street-address" required')}
        ${field('postal_code', 'Postal code', 'autocomplete="postal-code" required')}
        ${field('city', 'City', 'autocomplete="address-level2" required')}
        <label for="country">${t('Country')}</label>
        <select id="country" name="country">${SHIPPING_COUNTRIES.map((code) => `<option value="${code}">${esc(countryName(code))}</option>`).join('')}</select>
        <div class="field-error" data-error-for="country"></div>
      </fieldset>
      <fieldset><legend>${t('Payment')}</legend>
        ${PAYMENT_METHODS.map(([value, text], i) => `<label class="radio"><input type="radio" name="payment_method" value="${value}" ${i === 1 ? 'checked' : ''}> ${t(text)}</label>`).join('')}
        <div class="field-error" data-error-for="payment_method"></div>
      </fieldset>
      <button type="submit" data-testid="place-order">${t('Place order · {total}', { total: euro(priced.total) })}</button>
    </form>
    <div><h2>${t('Your order')}</h2><div id="checkout-summary"></div></div></div>`;

  const form = document.getElementById('checkout-form');
  if (signedIn) form.email.value = signedIn.email;
  // The summary follows what the form says: the delivery country, the
  // payment method and the e-mail decide shipping and discounts.
  const showSummary = () => {
    document.getElementById('checkout-summary').innerHTML = `${nearlyNotes(priced)}
      <table class="lines"><tbody>${priced.lines.map((l) => `<tr><td>${esc(l.quantity)} × ${esc(l.name)}${l.gift_of ? ` <span class="badge">${t('gift')}</span>` : ''}</td><td class="num">${euro(l.total)}</td></tr>`).join('')}</tbody></table>
      ${couponError ? `<div class="field-error" data-testid="coupon-error">${esc(couponError)}</div>` : ''}
      ${totalsBlock(priced)}
      ${priced.suggestions.length ? `<section class="related"><h3>${t('Goes well with your order')}</h3><ul data-testid="checkout-suggestions">
        ${priced.suggestions.map((p) => `<li>${esc(p.name)} · ${euro(p.price)} <button type="button" class="link" data-add="${esc(p.sku)}">${t('Add')}</button></li>`).join('')}</ul></section>` : ''}`;
    document.querySelectorAll('#checkout-summary [data-add]').forEach((button) => button.addEventListener('click', () => {
      cart.add(button.dataset.add, 1);
      reprice().catch(showError);
    }));
    form.querySelector('button[type=submit]').textContent = t('Place order · {total}', { total: euro(priced.total) });
  };
  const reprice = async () => {
    const data = new FormData(form);
    const email = String(data.get('email') || '').trim();
    const more = { payment_method: data.get('payment_method') };
    if (/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) more.email = email;
    const next = await priceCart(cart.lines(), data.get('country'), more);
    if (!next.priced) return checkoutView();
    ({ priced, couponError } = next);
    showSummary();
  };
  showSummary();
  form.country.addEventListener('change', () => reprice().catch(showError));
  form.email.addEventListener('change', () => reprice().catch(showError));
  form.querySelectorAll('[name=payment_method]').forEach((r) => r.addEventListener('change', () => reprice().catch(showError)));
  if (signedIn) reprice().catch(showError);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    form.querySelectorAll('.field-error').forEach((e) => { e.textContent = ''; });
    document.getElementById('checkout-alert').innerHTML = '';
    const data = new FormData(form);
    const address = Object.fromEntries(['name', 'street', 'postal_code', 'city', 'country'].map((k) => [k, data.get(k)]));
    const body = {
      lines: cart.lines(), email: data.get('email'), shipping_address: address,
      // E-mails about the order speak the language the page was read in.
      payment_method: data.get('payment_method'), language,
      coupon: cart.coupon() || undefined,
      // The total the page shows: an order that would total otherwise is
      // refused, never charged differently.
      expected_total: priced.total,
    };
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const order = await api.checkout(body, idempotencyKey());
      sessionStorage.removeItem('kontor.checkout-key');
      sessionStorage.setItem(`kontor.order.${order.id}`, JSON.stringify(order));
      cart.clear();
      location.hash = `#/confirmation/${encodeURIComponent(order.id)}`;
    } catch (error) {
      button.disabled = false;
      // A changed form is a new request: it needs a new key.
      sessionStorage.removeItem('kontor.checkout-key');
      const problem = error.problem || {};
      // The total or a discount changed meanwhile: show the new figures.
      if (['expected_total', 'coupon'].includes(problem.field)) {
        await reprice().catch(() => {});
        document.getElementById('checkout-alert').innerHTML = `<div class="alert" data-testid="checkout-error">${esc(error.message)} ${t('The summary shows the new total.')}</div>`;
        return;
      }
      const target = (problem.field || '').replace(/^shipping_address\./, '');
      const slot = form.querySelector(`[data-error-for="${CSS.escape(target)}"]`);
      if (slot) slot.textContent = error.message;
      else document.getElementById('checkout-alert').innerHTML = `<div class="alert" data-testid="checkout-error">${esc(error.message)}</div>`;
    }
  });
}

// A guest's order opens with the token in its link; a customer's from the account.
function orderLink(order) {
  if (!order.access_token) return `${location.origin}/#/account/order/${encodeURIComponent(order.id)}`;
  return `${location.origin}/#/order/${encodeURIComponent(order.id)}?token=${encodeURIComponent(order.access_token)}`;
}

async function confirmationView(id) {
  await renderCategories(null);
  const order = JSON.parse(sessionStorage.getItem(`kontor.order.${id}`) || 'null');
  if (!order) { app.innerHTML = `<p>${t('This confirmation is no longer available. Your order link is in your e-mail.')}</p>`; return; }
  const link = orderLink(order);
  app.innerHTML = `<div class="narrow"><h1>${t('Thank you for your order!')}</h1>
    <p>${t('Your order number is {number}.', { number: `<strong data-testid="order-number">${esc(order.number)}</strong>` })}</p>
    <p>${t('Total:')} <strong>${euro(order.total)}</strong></p>
    ${order.backordered.length ? `<p class="notice">${t('Part of your order is on backorder and ships as soon as it arrives: {items}.', { items: order.backordered.map((b) => `${esc(b.quantity)} × ${esc(b.sku)}`).join(', ') })}</p>` : ''}
    ${order.access_token
    ? `<p>${t('Follow your order at any time with this link (keep it: it is your key to the order):')}</p>`
    : `<p>${t('Your order is in your account:')}</p>`}
    <p><a href="${esc(link)}" data-testid="order-link">${esc(link)}</a></p></div>`;
}

async function orderView(id, token) {
  await renderCategories(null);
  showOrder(await api.order(id, token || ''), () => api.cancelOrder(id, token || ''),
    (body) => api.returnItems(id, token || '', body));
}

// An order as its shopper sees it; `cancel` cancels it and `sendBack`
// asks to return items (as a guest with the link's token, or as the
// signed-in customer).
function showOrder(order, cancel, sendBack) {
  const address = (a) => `${esc(a.name)}<br>${esc(a.street)}<br>${esc(a.postal_code)} ${esc(a.city)}<br>${esc(a.country)}`;
  const cur = order.currency;
  const due = Number(order.amount_due) > 0 && order.status === 'open';
  app.innerHTML = `<h1>${t('Order')} <span data-testid="order-number">${esc(order.number)}</span></h1>
    <p class="muted">${t('Placed {when}', { when: esc(formatDateTime(order.created_at)) })}</p>
    ${order.status === 'cancelled' ? `<p class="notice" data-testid="order-cancelled">${t('This order has been cancelled. Nothing will be shipped or charged.')}</p>` : ''}
    <div class="meta">
      <div><strong>${t('Order')}</strong><br><span class="status" data-testid="order-status">${words(order.status)}</span></div>
      <div><strong>${t('Shipping')}</strong><br><span class="status" data-testid="shipping-status">${words(order.shipping_status)}</span></div>
      <div><strong>${t('Payment')}</strong><br>${words(order.payment_method)} · <span class="status" data-testid="payment-status">${paymentWords(order)}</span>
        ${due ? `<br><span data-testid="amount-due">${t('{amount} still to pay', { amount: money(order.amount_due, cur) })}</span>` : ''}</div>
      <div><strong>${t('Ships to')}</strong><br>${address(order.shipping_address)}</div>
    </div>
    <table class="lines"><thead><tr><th>${t('Product')}</th><th class="num">${t('Quantity')}</th><th class="num">${t('Price')}</th><th class="num">${t('VAT')}</th><th class="num">${t('Total')}</th></tr></thead>
    <tbody>${order.lines.map((l) => `<tr data-testid="order-line"><td>${esc(l.name)} <span class="muted">${esc(l.sku)}</span>${l.gift_of ? ` <span class="badge">${t('gift')}</span>` : ''}${l.backordered ? `<div class="stock-back">${t('{count} on backorder', { count: esc(l.backordered) })}</div>` : ''}</td>
      <td class="num">${esc(l.quantity)}</td><td class="num">${money(l.unit_price, cur)}</td><td class="num">${esc(l.tax_rate)} %</td><td class="num">${money(l.total, cur)}</td></tr>`).join('')}</tbody></table>
    ${totalsBlock(order)}
    ${order.notes.length ? `<section class="related" data-testid="notes"><h2>${t('Messages from the shop')}</h2>
      ${order.notes.map((n) => `<div class="notice" data-testid="note"><time>${esc(formatDateTime(n.at))}</time><br>${esc(n.text).replaceAll('\n', '<br>')}</div>`).join('')}</section>` : ''}
    ${parcelsBlock(order)}
    ${returnsBlock(order)}
    ${order.can_cancel ? `<section class="related"><h2>${t('Changed your mind?')}</h2>
      <p class="muted">${t('Nothing of this order is packed yet, so you can still cancel it.')}</p>
      <button class="secondary" data-testid="cancel-order">${t('Cancel this order')}</button>
      <div class="field-error" data-testid="cancel-error"></div></section>` : ''}`;
  wireReturnForm(order, sendBack);
  const button = app.querySelector('[data-testid=cancel-order]');
  button?.addEventListener('click', async () => {
    if (!window.confirm(t('Cancel this order? This cannot be undone.'))) return;
    button.disabled = true;
    try {
      await cancel();
      route();
    } catch (error) {
      button.disabled = false;
      app.querySelector('[data-testid=cancel-error]').textContent = error.message;
    }
  });
}

const RETURN_STATUS = {
  requested: 'Requested — we will look at it shortly',
  approved: 'Approved — please send the items with the return number',
  rejected: 'Declined',
  received: 'Arrived at the shop',
  refunded: 'Refunded',
  closed: 'Done',
};

// The order's returns and, for items that can still go back, the form to
// send them back (quantities, a reason each, what the customer wants).
function returnsBlock(order) {
  const lines = order.lines.filter((l) => order.returnable[l.id] > 0);
  if (!order.returns.length && !lines.length) return '';
  const options = order.return_options;
  return `<section class="related" data-testid="returns"><h2>${t('Returns')}</h2>
    ${order.returns.map((r) => `<div class="parcel" data-testid="return" data-id="${esc(r.id)}">
      <div class="parcel-head"><strong>${t('Return {id}', { id: esc(r.id) })}</strong> <span class="muted">${t('for order {number}', { number: esc(order.number) })}</span>
        <span class="status" data-testid="return-status">${esc(RETURN_STATUS[r.status] ? t(RETURN_STATUS[r.status]) : r.status)}</span></div>
      <ul>${r.lines.map((l) => `<li>${esc(l.quantity)} × ${esc(l.name)} — ${esc(shopText(l.reason))}</li>`).join('')}</ul>
      ${r.rejection_reason ? `<p>${t('Reason: {reason}', { reason: esc(r.rejection_reason) })}</p>` : ''}
      ${r.refund ? `<p data-testid="return-refund">${t('{amount} refunded (credit note {note})', { amount: money(r.refund.amount, order.currency), note: esc(r.refund.credit_note) })}${Number(r.refund.credit) ? t(', {amount} of it off what you owed', { amount: money(r.refund.credit, order.currency) }) : ''}</p>` : ''}
    </div>`).join('')}
    ${lines.length ? `<details data-testid="return-form-toggle"><summary>${t('Return items')}</summary>
      <form id="return-form" class="checkout" data-testid="return-form">
        <p class="muted">${t('You can return items up to {days} days after they arrived.', { days: esc(options.window_days) })}</p>
        <table class="lines"><thead><tr><th>${t('Product')}</th><th class="num">${t('Send back')}</th><th>${t('Why')}</th></tr></thead><tbody>
        ${lines.map((l) => `<tr><td>${esc(l.name)}</td>
          <td class="num"><input type="number" min="0" max="${esc(order.returnable[l.id])}" value="0" data-return-line="${esc(l.id)}" aria-label="${t('Units of {name} to send back', { name: esc(l.name) })}"></td>
          <td><select data-return-reason="${esc(l.id)}" aria-label="${t('Why {name} goes back', { name: esc(l.name) })}">${options.reasons.map((r) => `<option value="${esc(r)}">${esc(shopText(r))}</option>`).join('')}</select></td></tr>`).join('')}
        </tbody></table>
        <label for="return-action">${t('What would you like?')}</label>
        <select id="return-action" name="action">${options.actions.map((a) => `<option value="${esc(a)}">${esc(t({ refund: 'My money back', replacement: 'The same item again', exchange: 'Another item instead' }[a] || a))}</option>`).join('')}</select>
        <label for="return-comment">${t('Anything we should know?')}</label>
        <textarea id="return-comment" name="comment" rows="2" maxlength="1000"></textarea>
        <button type="submit" data-testid="send-return">${t('Ask to return')}</button>
        <div class="field-error" data-testid="return-error"></div>
      </form></details>` : ''}
  </section>`;
}

function wireReturnForm(order, sendBack) {
  const form = document.getElementById('return-form');
  form?.addEventListener('submit', async (event) => {
    event.preventDefault();
    const lines = [...form.querySelectorAll('[data-return-line]')]
      .map((input) => ({
        line_id: input.dataset.returnLine,
        quantity: Number(input.value),
        reason: form.querySelector(`[data-return-reason="${CSS.escape(input.dataset.returnLine)}"]`).value,
      }))
      .filter((l) => l.quantity > 0);
    const error = form.querySelector('[data-testid=return-error]');
    if (!lines.length) { error.textContent = t('Choose how many of which items you send back.'); return; }
    try {
      await sendBack({
        lines,
        requested_action: form.action.value,
        ...(form.comment.value.trim() ? { comment: form.comment.value.trim() } : {}),
      });
      route();
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
}

// The parcels of an order: what is in each, where it is, and the link to
// follow it at the carrier.
function parcelsBlock(order) {
  if (!order.shipments.length) return '';
  return `<section class="related" data-testid="parcels"><h2>${t('Your parcels')}</h2>
    ${order.shipments.map((s) => `<div class="parcel" data-testid="parcel" data-id="${esc(s.id)}">
      <div class="parcel-head"><strong>${t('Parcel {n}', { n: esc(s.id.replace(/^S/, '')) })}</strong>
        <span class="status" data-testid="parcel-status">${label(s.status)}</span>
        <span>${esc(s.carrier_name)}${s.tracking_number ? ` · <span data-testid="tracking-number">${esc(s.tracking_number)}</span>` : ''}</span>
        ${s.tracking_url ? `<a href="${esc(s.tracking_url)}" target="_blank" rel="noopener" data-testid="tracking-link">${t('Follow the parcel')}</a>` : ''}</div>
      <ul>${s.items.map((i) => `<li>${esc(i.quantity)} × ${esc(i.name)}</li>`).join('')}</ul>
      <ol class="history">${s.history.filter((h) => !h.reported).map((h) => `<li><time>${esc(formatDateTime(h.at))}</time>${label(h.status)}${h.location ? ` · ${esc(h.location)}` : ''}</li>`).join('')}</ol>
    </div>`).join('')}</section>`;
}

async function signInView(params) {
  await renderCategories(null);
  const back = params.get('back') || 'account';
  const { cognito } = await session.config();
  if (cognito) {
    await session.signInWithCognito(`/#/${back}`);
    return;
  }
  app.innerHTML = `<div class="narrow"><h1>${t('Sign in')}</h1>
    <p class="muted">${t("The local shop signs you in with your e-mail address alone; in the cloud, this is Cognito's sign-in page.")}</p>
    <form id="signin-form" class="checkout" novalidate>
      ${field('email', 'E-mail', 'type="email" autocomplete="email" required')}
      <button type="submit" data-testid="sign-in">${t('Sign in')}</button>
    </form></div>`;
  const form = document.getElementById('signin-form');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await session.signInLocally(form.email.value.trim(), false);
      updateAccountLink();
      location.hash = `#/${back}`;
    } catch (error) {
      form.querySelector('[data-error-for="email"]').textContent = error.message;
    }
  });
}

async function accountView() {
  await renderCategories(null);
  const signedIn = session.current();
  if (!signedIn) { location.hash = '#/signin?back=account'; return; }
  const { items: orders, next } = await api.myOrders();
  app.innerHTML = `<h1>${t('Your orders')}</h1><p class="muted">${t('Signed in as {email}.', { email: `<span data-testid="account-email">${esc(signedIn.email)}</span>` })}
      ${t('Orders placed as a guest open with the link from their e-mail.')}</p>
    ${orders.length ? `<table class="lines" data-testid="my-orders"><thead><tr><th>${t('Order')}</th><th>${t('Placed')}</th><th class="num">${t('Items')}</th><th class="num">${t('Total')}</th><th>${t('Status')}</th><th>${t('Shipping')}</th></tr></thead>
      <tbody>${orders.map(myOrderRow).join('')}</tbody></table>${moreButton()}`
    : `<p>${t('No orders yet.')} <a href="#/">${t('Start shopping')}</a></p>`}`;
  const rows = app.querySelector('[data-testid="my-orders"] tbody');
  if (rows) {
    wireMore(app.querySelector('[data-testid="show-more"]'), '/me/orders', next, (page) => {
      rows.insertAdjacentHTML('beforeend', page.map(myOrderRow).join(''));
    });
  }
}

const myOrderRow = (o) => `<tr data-testid="my-order" data-number="${esc(o.number)}">
  <td><a href="#/account/order/${encodeURIComponent(o.id)}">${esc(o.number)}</a></td>
  <td>${esc(formatDateTime(o.created_at))}</td><td class="num">${esc(o.items)}</td>
  <td class="num">${euro(o.total)}</td><td><span class="status">${label(o.status)}</span></td>
  <td><span class="status">${label(o.shipping_status)}</span></td></tr>`;

async function myOrderView(id) {
  await renderCategories(null);
  if (!session.current()) { location.hash = `#/signin?back=${encodeURIComponent(`account/order/${id}`)}`; return; }
  showOrder(await api.myOrder(id), () => api.cancelMyOrder(id), (body) => api.returnMyItems(id, body));
}

function updateAccountLink() {
  const slot = document.getElementById('account');
  const signedIn = session.current();
  slot.innerHTML = signedIn
    ? `<a href="#/account" data-testid="account-link">${esc(signedIn.email)}</a> <button class="link" id="sign-out">${t('Sign out')}</button>`
    : `<a href="#/signin" data-testid="sign-in-link">${t('Sign in')}</a>`;
  document.getElementById('sign-out')?.addEventListener('click', () => {
    session.signOut();
    updateAccountLink();
    location.hash = '#/';
  });
}

async function route() {
  const { parts, params } = parseHash();
  if (PAGE_DESCRIPTIONS[parts[0]]) describeView(...PAGE_DESCRIPTIONS[parts[0]]);
  try {
    switch (parts[0]) {
      case undefined: return await catalogView(params);
      case 'product': return await productView(parts[1]);
      case 'cart': return await cartView();
      case 'checkout': return await checkoutView();
      case 'confirmation': return await confirmationView(parts[1]);
      case 'order': return await orderView(parts[1], params.get('token'));
      case 'signin': return await signInView(params);
      case 'account': return parts[1] === 'order' ? await myOrderView(parts[2]) : await accountView();
      default: app.innerHTML = `<h1>${t('Page not found')}</h1><p><a href="#/">${t('Back to the shop')}</a></p>`;
    }
  } catch (error) {
    showError(error);
  }
}

function updateCartCount() {
  document.getElementById('cart-count').textContent = cart.count();
}

document.getElementById('search-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const q = document.getElementById('search-input').value.trim();
  location.hash = q ? `#/?q=${encodeURIComponent(q)}` : '#/';
});
cart.onChange(updateCartCount);
window.addEventListener('storage', updateCartCount);
window.addEventListener('hashchange', () => { route(); window.scrollTo(0, 0); });
window.addEventListener('kontor:signed-out', updateAccountLink);
updateCartCount();
updateAccountLink();
route();
