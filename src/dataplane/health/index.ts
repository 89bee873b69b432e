// Endpoint health for the data plane: passive outlier ejection driven by real traffic, and active
// probes. Both only write EndpointState.healthy / ejectedUntil; the balancers read them.

export { PassiveOutlierDetector, MAX_EJECTION_MS, type PassiveConfig } from './passive.ts';
export { ActiveHealthChecker, type ActiveHealthCheckerOptions, type ProbeRequest } from './active.ts';
