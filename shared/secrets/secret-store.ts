/** Keeps registry credentials out of the table: `seal` returns a reference, `open` gets the value back. */
export type SecretStore = {
  seal(name: string, value: string): Promise<string>;
  open(ref: string): Promise<string>;
  remove(ref: string): Promise<void>;
};
