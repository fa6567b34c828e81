let counter = 0;

/** Ids look like `ord_000042`: a prefix for the kind of record, then a zero-padded counter. */
export function newId(prefix: string): string {
  counter += 1;
  return `${prefix}_${String(counter).padStart(6, '0')}`;
}

export function kindOf(id: string): string {
  return id.slice(0, id.indexOf('_'));
}
