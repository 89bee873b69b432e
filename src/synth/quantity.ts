// Just enough of Kubernetes' resource.Quantity to compare a request with its limit, so that
// `requests.cpu > limits.cpu` is reported against the IngressPool instead of by the API server.

const SUFFIX: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const FORM = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

/** The value of a quantity string in base units, or NaN when it is not a quantity. */
export function quantityValue(q: string): number {
  const m = FORM.exec(q);
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  const suffix = m[2] ?? '';
  if (suffix[0] === 'e' || suffix[0] === 'E') return n * 10 ** Number(suffix.slice(1));
  return n * (SUFFIX[suffix] ?? Number.NaN);
}

export function isQuantity(q: string): boolean {
  return !Number.isNaN(quantityValue(q));
}
