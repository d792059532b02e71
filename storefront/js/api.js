// Talks to Kontor's HTTP API. Every error answer is application/problem+json;
// it is thrown as an ApiError so views can show the message next to the field.

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function request(method, path, body, headers = {}) {
  const options = { method, headers: { Accept: 'application/json', ...headers } };
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
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
  evaluate: (lines, shippingCountry) =>
    request('POST', '/cart/evaluate', { lines, shipping_country: shippingCountry }),
  checkout: (body, idempotencyKey) =>
    request('POST', '/checkout', body, { 'Idempotency-Key': idempotencyKey }),
  order: (id, token) =>
    request('GET', `/orders/${encodeURIComponent(id)}?token=${encodeURIComponent(token)}`),
};
