// server/pprof-http: the second backend, for Go programs that serve net/http/pprof (and expvar) instead of
// embedding the gops agent: discovery (known, declared and probed endpoints), the one HTTP client, pure
// parsers of its replies and the backend that maps each diagnostic onto its endpoint.
export {
  PprofLocator,
  httpAgentFields,
  LISTING_BUDGET,
  CALL_BUDGET,
  type DeclaredEndpoint,
  type PprofEndpoint,
  type ProbeBudget,
  type PprofLocatorOptions,
} from "./endpoints.js";
export { createHttpPprofBackend, HttpLimits, DEFAULT_CPU_SECONDS, DEFAULT_TRACE_SECONDS } from "./backend.js";
