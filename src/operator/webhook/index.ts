// Validating admission webhook for IngressPool, RouteSplit and RateLimitPolicy.
export { createWebhookServer, type WebhookServer, type WebhookServerOptions } from './server.ts';
export {
  reviewAdmission,
  problemLine,
  AdmissionReviewError,
  ADMISSION_API_VERSION,
  type AdmissionReviewOut,
  type AdmissionResponse,
} from './review.ts';
export {
  generateWebhookCertificates,
  serviceHostnames,
  CertificateError,
  type WebhookCertificates,
  type CertificateRequest,
} from './certs.ts';
export {
  buildValidatingWebhookConfiguration,
  WEBHOOK_NAME,
  WEBHOOK_PATH,
  type WebhookConfigOptions,
} from './config.ts';
export {
  provisionWebhookTls,
  certificateProblem,
  injectCaBundle,
  type TlsProvisionOptions,
  type ProvisionedTls,
} from './provision.ts';
export {
  webhookExtraServer,
  parseListenAddr,
  type WebhookExtraServer,
  type WebhookExtraServerOptions,
} from './extra-server.ts';
