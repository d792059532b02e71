// Talks to Kontor's HTTP API. Every error answer is application/problem+json;
// it is thrown as an ApiError so views can show the message next to the field.
// A signed-in person's token goes with every call; a 401 means it is no
// longer good, so the session ends and the page asks them to sign in again.

import * as session from './session.js';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export async function request(method, path, body, headers = {}) {
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
  return data;
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
  myOrders: () => request('GET', '/me/orders'),
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
