// What the storefront and the admin page both show the same way: escaping
// text for HTML, money in the order's currency, and statuses in words, in
// the page's language.

import { formatMoney, t } from './i18n.js';

// Escapes text for HTML; every value from the API goes through it.
export const esc = (value) => String(value ?? '').replace(/[&<>"']/g, (c) => (
  { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

// An amount (a decimal string) in its currency, the page language's way.
export const money = (amount, currency = 'EUR') => formatMoney(amount, currency);

// Statuses as the shopper and staff read them.
const WORDS = {
  open: 'Open',
  completed: 'Completed',
  cancelled: 'Cancelled',
  pending: 'Awaiting payment',
  partially_paid: 'Partly paid',
  paid: 'Paid',
  partially_refunded: 'Partly refunded',
  refunded: 'Refunded',
  not_shipped: 'Not shipped yet',
  partially_shipped: 'Partly shipped',
  shipped: 'Shipped',
  partially_delivered: 'Partly delivered',
  delivered: 'Delivered',
  in_transit: 'In transit',
  out_for_delivery: 'Out for delivery',
  failed_attempt: 'Delivery attempt failed',
  returned_to_sender: 'Returned to sender',
  prepayment: 'Prepayment',
  invoice: 'Invoice',
  cash_on_delivery: 'Cash on delivery',
  placed: 'Placed',
  shipment_packed: 'Parcel packed',
  shipment_moved: 'Parcel moved on',
  tracking_sent: 'Tracking e-mailed',
  payment_recorded: 'Payment recorded',
  note_added: 'Note',
  line_added: 'Item added',
  line_changed: 'Line changed',
  line_removed: 'Line removed',
  adjusted: 'Goodwill adjustment',
  addresses_changed: 'Addresses changed',
  requested: 'Requested',
  approved: 'Approved',
  rejected: 'Rejected',
  received: 'Received',
  closed: 'Closed',
  return_requested: 'Return requested',
  return_approved: 'Return approved',
  return_rejected: 'Return rejected',
  return_received: 'Return received',
  return_closed: 'Return closed',
  parcel_received_back: 'Parcel taken back in',
  parcel_reported: 'Carrier news',
};

// A status code in words (escaped); unknown codes read as their words.
export const words = (code) => esc(WORDS[code] ? t(WORDS[code]) : String(code).replaceAll('_', ' '));

// The payment status as a person reads it: a cancelled order that was
// never paid has nothing to pay, rather than a payment it still awaits.
export const paymentWords = (order) => (
  order.status === 'cancelled' && order.payment_status === 'pending' ? esc(t('Nothing to pay')) : words(order.payment_status));
