/** Harbor's project name rule, as the API checks it (DESIGN §4): what is wrong with `name`, or '' when it is fine. */
export const spaceNameProblem = (name: string) => {
  if (!name) return 'A name is required.';
  if (name.length > 255) return `At most 255 characters (this one has ${name.length}).`;
  if (/[A-Z]/.test(name)) return 'Lower-case only: Harbor refuses capital letters.';
  if (/[^a-z0-9._-]/.test(name)) return 'Only lower-case letters, digits and . _ - are allowed.';
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(name)) return 'Start and end with a letter or digit, with one . _ or - between them at a time.';
  return '';
};
