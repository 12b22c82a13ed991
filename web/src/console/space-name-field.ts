import { h } from '../dom.ts';
import { spaceNameProblem } from './space-name.ts';
import { field } from './ui.ts';

/** The new space's name, checked at every keystroke (Harbor's rule), so the form is never sent to be refused. */
export const space = () => {
  const input = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', maxlength: 300, required: true });
  const f = field('new-space-name', 'Space name', input, 'Lower-case letters and digits, separated by one of . _ - (Harbor’s project names); 1–255 characters.');
  // While typing, an emptied field is not an error yet; on submit it is.
  input.addEventListener('input', () => f.setError(input.value ? spaceNameProblem(input.value) : ''));
  const check = () => {
    const problem = spaceNameProblem(input.value);
    f.setError(problem);
    return !problem;
  };
  return { wrap: f.wrap, input, check, setError: f.setError };
};
