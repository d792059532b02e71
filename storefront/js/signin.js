// Cognito's hosted sign-in comes back to /signin.html with a code (AWS
// only): trade it for a token and go back where the shopper came from.
// A file of its own rather than an inline script, so that the pages' CSP
// allows no inline script at all.
import { t } from './i18n.js';
import { finishCognitoSignIn } from './session.js';

finishCognitoSignIn()
  .then((back) => location.replace(back))
  .catch((error) => {
    document.getElementById('app').innerHTML = `<div class="alert"></div><p><a href="/">${t('Back to the shop')}</a></p>`;
    document.querySelector('.alert').textContent = error.message;
  });
