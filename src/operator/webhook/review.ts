// AdmissionReview (admission.k8s.io/v1) in, AdmissionReview out: a pure function around
// admissionProblems, so the HTTP layer only parses and writes JSON.

import { isDeepStrictEqual } from 'node:util';
import type { Problem } from '../../api/validate.ts';
import { admissionProblems } from '../../compiler/admission.ts';
import type { ResourceBag } from '../../compiler/resources.ts';
import { GROUP } from '../../api/kinds.ts';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';
const KINDS = new Set(['IngressPool', 'RouteSplit', 'RateLimitPolicy']);

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: {
    code: number;
    reason: string;
    message: string;
    details: {
      group: string;
      kind: string;
      name: string;
      causes: { field: string; message: string; reason: string }[];
    };
  };
  warnings?: string[];
}

export interface AdmissionReviewOut {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

export class AdmissionReviewError extends Error {
  readonly code = 'BH_ERR_ADMISSION_REVIEW';
  readonly statusCode = 400;
}

export function problemLine(p: Pick<Problem, 'path' | 'message'>): string {
  return `${p.path}: ${p.message}`;
}

/**
 * Decide one AdmissionReview. DELETE (and CONNECT) are always allowed. An UPDATE that leaves the
 * spec as it was (labels, finalizers, deletion) is always allowed, its problems sent as warnings:
 * an object stored while the webhook was down must never become impossible to finalize or label.
 */
export function reviewAdmission(review: any, world: () => ResourceBag): AdmissionReviewOut {
  const req = review?.request;
  if (
    review?.apiVersion !== ADMISSION_API_VERSION ||
    review?.kind !== 'AdmissionReview' ||
    typeof req?.uid !== 'string'
  ) {
    throw new AdmissionReviewError(`expected an ${ADMISSION_API_VERSION} AdmissionReview with request.uid`);
  }
  const allow = (warnings: string[] = []): AdmissionReviewOut =>
    wrap({ uid: req.uid, allowed: true, ...(warnings.length ? { warnings } : {}) });
  const op = req.operation;
  if ((op !== 'CREATE' && op !== 'UPDATE') || !KINDS.has(req.kind?.kind) || !req.object) return allow();

  let result: { problems: Problem[]; warnings: Problem[] };
  try {
    result = admissionProblems(req.object, world(), op);
  } catch (err) {
    // A bug or a world not yet synced must not block the cluster: the compiler still judges it.
    return allow([
      `bulkhead webhook could not check this object (${(err as Error).message}); the operator will report problems in its status`,
    ]);
  }
  const warnings = result.warnings.map(problemLine);
  if (result.problems.length === 0) return allow(warnings);
  const specUnchanged =
    op === 'UPDATE' && req.oldObject && isDeepStrictEqual(req.oldObject.spec, req.object.spec);
  if (specUnchanged || req.object.metadata?.deletionTimestamp)
    return allow([...result.problems.map(problemLine), ...warnings]);

  return wrap({
    uid: req.uid,
    allowed: false,
    status: {
      code: 422,
      reason: 'Invalid',
      message: result.problems.map(problemLine).join('\n'),
      // kind + name make kubectl print `The RouteSplit "x" is invalid: <field>: <message>`, like
      // schema errors do, instead of "The request is invalid".
      details: {
        group: GROUP,
        kind: req.kind.kind,
        name: String(req.object.metadata?.name ?? req.name ?? ''),
        causes: result.problems.map((p) => ({
          field: p.path,
          message: p.message,
          reason: 'FieldValueInvalid',
        })),
      },
    },
    ...(warnings.length ? { warnings } : {}),
  });
}

function wrap(response: AdmissionResponse): AdmissionReviewOut {
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}
