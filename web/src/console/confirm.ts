import { h, type Child } from '../dom.ts';

let open = 0;

/**
 * Asks before a change: a modal <dialog> (focus stays inside, Esc cancels) with `body` (the blast radius, or who
 * will see it). Resolves true only when the confirm button was pressed. Focus starts on Cancel: Enter alone never
 * applies a narrowing change.
 */
export const confirmChange = (o: { title: string; body: Child[]; confirm: string; danger?: boolean }) =>
  new Promise<boolean>((resolve) => {
    const id = `confirm-${++open}`;
    const cancel = h('button', { type: 'button', class: 'cancel', onclick: () => dialog.close('no') }, 'Cancel');
    const dialog = h(
      'dialog',
      { class: 'confirm', id, 'aria-labelledby': `${id}-title`, 'aria-describedby': `${id}-body` },
      h('h2', { id: `${id}-title` }, o.title),
      h('div', { id: `${id}-body`, class: 'confirm-body' }, ...o.body),
      h('div', { class: 'row actions' }, cancel, h('button', { type: 'button', class: o.danger ? 'danger' : 'primary', onclick: () => dialog.close('yes') }, o.confirm)),
    );
    const back = document.activeElement instanceof HTMLElement ? document.activeElement : undefined;
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'yes');
      dialog.remove();
      if (back?.isConnected) back.focus();
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
