// server/gops-agent: the first backend, for Go programs that embed the gops agent: the route to a verified agent
// (directly, or inside its network namespace) and the backend that maps each diagnostic onto the agent's wire
// protocol. Discovery (port files, socket ownership) is ../agent/port-file.ts; the wire client ../agent/client.ts.
export { createGopsAgentBackend, type GopsAgentBackendDeps } from "./backend.js";
export { routeOf, startOf, type AgentRoute, type RouteDeps } from "./route.js";
