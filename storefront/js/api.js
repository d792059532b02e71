// Talks to Kontor's HTTP API. Every error answer is application/problem+json;
// it is thrown as an ApiError so views can show the message next to the field.
// A signed-in person's token goes with every call; a 401 means it is no
// longer good, so the session ends and the page asks them to sign in again.

import { language, t } from './i18n.js';
import * as session from './session.js';

// The server explains a refusal in English (`detail`); the pages say the
// usual ones in their own language, by the problem's type or its field,
// and show the server's words for the rest.
const PROBLEM_TEXTS = {
  'insufficient-stock': 'Not enough in stock: only {available} left.',
  'total-changed': 'The total has changed since the page showed it.',
  unavailable: 'The shop is busy; please try again in a moment.',
  'too-many-requests': 'Too many attempts; please wait a moment and try again.',
  'discount-used-up': 'This discount has just been used up.',
};
const FIELD_TEXTS = {
  email: 'Please enter a valid e-mail address.',
  'shipping_address.name': 'Please enter your full name.',
  'shipping_address.street': 'Please enter the street and number.',
  'shipping_address.postal_code': 'Please enter a valid postal code.',
  'shipping_address.city': 'Please enter the city.',
  'shipping_address.country': 'We do not ship to this country.',
  payment_method: 'Please choose how you pay.',
};

function problemText(status, problem) {
  const server = problem.detail || problem.title || `HTTP ${status}`;
  if (language === 'en') return server;
  const type = String(problem.type || '').replace('urn:kontor:problem:', '');
  const known = PROBLEM_TEXTS[type] || (status === 422 && FIELD_TEXTS[problem.field]);
  return known ? t(known, problem) : server;
}

export class ApiError extends Error {
  constructor(status, problem) {
    super(problemText(status, problem));
    this.status = status;
    this.problem = problem;
  }
}

async function send(method, path, body, headers = {}) {
  const options = { method, headers: { Accept: 'application/json', ...headers } };
  const token = session.token();
  if (token) options.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (response.status === 401 && token) {
    session.signOut();
    window.dispatchEvent(new Event('kontor:signed-out'));
  }
  if (!response.ok) throw new ApiError(response.status, data || {});
  return { response, data };
}

export async function request(method, path, body, headers = {}) {
  return (await send(method, path, body, headers)).data;
}

// A page of a list: its entries, and the cursor of the next page when the
// answer links one (RFC 8288 `Link: <?…&cursor=…>; rel="next"`).
export async function requestPage(path) {
  const { response, data } = await send('GET', path);
  const next = /[?&]cursor=([^&>]*)[^>]*>;\s*rel="next"/.exec(response.headers.get('Link') || '');
  return { items: data, next: next ? decodeURIComponent(next[1]) : null };
}

export const api = {
  products: ({ q, category } = {}) => {
    const params = new URLSearchParams();
    if (q) params.set('q', q);
    if (category) params.set('category', category);
    const query = params.toString();
    return request('GET', `/catalog/products${query ? `?${query}` : ''}`);
  },
  product: (sku) => request('GET', `/catalog/products/${encodeURIComponent(sku)}`),
  // Signed-in shoppers price on their own route: rules see their groups
  // and orders. `more` carries the coupon, e-mail and payment method.
  evaluate: (lines, shippingCountry, more = {}) =>
    request('POST', session.token() ? '/me/cart/evaluate' : '/cart/evaluate', {
      lines, shipping_country: shippingCountry, ...more,
    }),
  // Signed-in shoppers check out as customers: the order lands in their account.
  checkout: (body, idempotencyKey) =>
    request('POST', session.token() ? '/me/checkout' : '/checkout', body, { 'Idempotency-Key': idempotencyKey }),
  myOrders: () => requestPage('/me/orders'),
  myOrder: (id) => request('GET', `/me/orders/${encodeURIComponent(id)}`),
  order: (id, token) =>
    request('GET', `/orders/${encodeURIComponent(id)}?token=${encodeURIComponent(token)}`),
  cancelOrder: (id, token) =>
    request('POST', `/orders/${encodeURIComponent(id)}/cancel?token=${encodeURIComponent(token)}`),
  cancelMyOrder: (id) => request('POST', `/me/orders/${encodeURIComponent(id)}/cancel`),
  returnItems: (id, token, body) =>
    request('POST', `/orders/${encodeURIComponent(id)}/returns?token=${encodeURIComponent(token)}`, body),
  returnMyItems: (id, body) => request('POST', `/me/orders/${encodeURIComponent(id)}/returns`, body),
};
