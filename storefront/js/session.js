// Who is signed in, for the storefront and the admin page alike.
//
// Locally, Kontor's runtime issues tokens itself (POST /local/token), so a
// form with the e-mail address is the whole sign-in. In AWS the shop serves
// /config.json with its Cognito hosted sign-in (domain and client id); the
// pages then send people there (authorization code with PKCE) and
// /signin.html trades the code for an ID token. Either way the token goes
// with every API call as "Authorization: Bearer <token>".

import { t } from './i18n.js';

const KEY = 'kontor.session';

let configPromise;

// The deployment's sign-in settings: {cognito: {domain, client_id}} in AWS,
// nothing locally (the file does not exist there).
export function config() {
  if (!configPromise) {
    configPromise = fetch('/config.json')
      .then((response) => (response.ok ? response.json() : {}))
      .catch(() => ({}));
  }
  return configPromise;
}

export function current() {
  const session = JSON.parse(localStorage.getItem(KEY) || 'null');
  if (!session) return null;
  if (session.expires_at && Date.parse(session.expires_at) <= Date.now()) {
    localStorage.removeItem(KEY);
    return null;
  }
  return session;
}

export function token() {
  return current()?.token || null;
}

export function isStaff() {
  return Boolean(current()?.staff);
}

export function signOut() {
  localStorage.removeItem(KEY);
}

function remember(session) {
  localStorage.setItem(KEY, JSON.stringify(session));
}

// The claims of a JWT, read only to show who is signed in (the API checks it).
function claimsOf(jwt) {
  const payload = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
  return JSON.parse(atob(payload));
}

// Signs in locally with an e-mail address; staff get the staff group.
export async function signInLocally(email, staff) {
  const response = await fetch('/local/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ email, staff }),
  });
  const answer = await response.json();
  if (!response.ok) {
    const error = new Error(answer.detail || t('Sign-in failed'));
    error.problem = answer;
    throw error;
  }
  remember({ token: answer.token, email, staff, expires_at: answer.expires_at });
  return current();
}

function randomText(bytes) {
  const data = crypto.getRandomValues(new Uint8Array(bytes));
  return btoa(String.fromCharCode(...data)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

async function challengeOf(verifier) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return btoa(String.fromCharCode(...new Uint8Array(digest))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// Sends the browser to Cognito's hosted sign-in; it comes back to
// /signin.html, which finishes with finishCognitoSignIn and returns to `back`.
export async function signInWithCognito(back) {
  const { cognito } = await config();
  const verifier = randomText(48);
  const state = randomText(16);
  sessionStorage.setItem('kontor.pkce', JSON.stringify({ verifier, state, back }));
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: cognito.client_id,
    redirect_uri: `${location.origin}/signin.html`,
    scope: 'openid email',
    state,
    code_challenge: await challengeOf(verifier),
    code_challenge_method: 'S256',
  });
  location.assign(`https://${cognito.domain}/oauth2/authorize?${params}`);
}

export async function finishCognitoSignIn() {
  const { cognito } = await config();
  const query = new URLSearchParams(location.search);
  const pending = JSON.parse(sessionStorage.getItem('kontor.pkce') || 'null');
  sessionStorage.removeItem('kontor.pkce');
  if (!pending || query.get('state') !== pending.state) throw new Error(t('The sign-in did not start here.'));
  const response = await fetch(`https://${cognito.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: cognito.client_id,
      code: query.get('code') || '',
      redirect_uri: `${location.origin}/signin.html`,
      code_verifier: pending.verifier,
    }),
  });
  if (!response.ok) throw new Error(t('Cognito refused the sign-in.'));
  const { id_token: idToken } = await response.json();
  const claims = claimsOf(idToken);
  remember({
    token: idToken,
    email: claims.email,
    staff: (claims['cognito:groups'] || []).includes('staff'),
    expires_at: new Date(claims.exp * 1000).toISOString(),
  });
  return pending.back || '/';
}
