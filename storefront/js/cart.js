// The cart lives in the browser (localStorage) as a list of {sku, quantity};
// prices always come fresh from the API, never from here.

const KEY = 'kontor.cart';
const listeners = new Set();

export function lines() {
  try {
    const stored = JSON.parse(localStorage.getItem(KEY) || '[]');
    return Array.isArray(stored) ? stored.filter((l) => l && l.sku && l.quantity > 0) : [];
  } catch {
    return [];
  }
}

function save(next) {
  localStorage.setItem(KEY, JSON.stringify(next));
  listeners.forEach((listener) => listener(next));
}

export function add(sku, quantity = 1) {
  const next = lines();
  const line = next.find((l) => l.sku === sku);
  if (line) line.quantity = Math.min(999, line.quantity + quantity);
  else next.push({ sku, quantity: Math.min(999, quantity) });
  save(next);
}

export function setQuantity(sku, quantity) {
  const next = lines()
    .map((l) => (l.sku === sku ? { ...l, quantity: Math.min(999, quantity) } : l))
    .filter((l) => l.quantity > 0);
  save(next);
}

export function remove(sku) {
  save(lines().filter((l) => l.sku !== sku));
}

export function clear() {
  setCoupon('');
  save([]);
}

// The coupon code the shopper entered, kept with the cart until the order
// is placed (or the code turns out not to be valid).
const COUPON = 'kontor.coupon';

export function coupon() {
  return localStorage.getItem(COUPON) || '';
}

export function setCoupon(code) {
  if (code) localStorage.setItem(COUPON, code);
  else localStorage.removeItem(COUPON);
}

export function count() {
  return lines().reduce((sum, l) => sum + l.quantity, 0);
}

export function onChange(listener) {
  listeners.add(listener);
}
