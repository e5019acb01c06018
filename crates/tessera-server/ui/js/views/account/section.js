// The frame every Account section uses: a card with a heading (h2, labelling the section
// for assistive technology), a line saying what it is for, and the section's content.

import { h, uniqueId } from '../../dom.js';
import { icon } from '../../icons.js';

/**
 * `{ id, title, description, iconName }` and the content. `id` names the section
 * (`account-<id>`), so tests and links (`/account#account-password`) can find it.
 */
export function accountSection({ id, title, description, iconName }, ...content) {
  const headingId = uniqueId(`account-${id}-title`);
  return h(
    'section',
    { class: 'card account-section', id: `account-${id}`, 'aria-labelledby': headingId },
    h(
      'div',
      { class: 'account-section-head' },
      iconName && h('span', { class: 'account-section-icon', 'aria-hidden': 'true' }, icon(iconName)),
      h(
        'div',
        null,
        h('h2', { id: headingId, class: 'section-title' }, title),
        description && h('p', { class: 'muted section-lead' }, description),
      ),
    ),
    h('div', { class: 'account-section-body' }, content),
  );
}
