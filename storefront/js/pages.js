// Lists that go on: under a list whose answer linked a next page, a
// "Show more" button reads each following page and hands its entries to
// `append`, until the list ends.
import { requestPage } from './api.js';
import { t } from './i18n.js';

export const moreButton = () => `<p><button type="button" class="secondary" data-testid="show-more" hidden>${t('Show more')}</button></p>`;

export function wireMore(button, path, next, append) {
  let cursor = next;
  button.hidden = !cursor;
  button.addEventListener('click', async () => {
    button.disabled = true;
    const separator = path.includes('?') ? '&' : '?';
    const page = await requestPage(`${path}${separator}cursor=${encodeURIComponent(cursor)}`);
    append(page.items);
    cursor = page.next;
    button.disabled = false;
    button.hidden = !cursor;
  });
}
