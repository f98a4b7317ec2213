// JSON-ready shapes of the proto messages the commands print: enums by name (without their prefix), every field
// present (ts-proto's toJSON drops zero values, which makes jq filters fragile).
import {
  AgentKind,
  agentKindToJSON,
  AgentState as AgentStates,
  agentStateToJSON,
  scanProblemKindToJSON,
  type Agent,
  type AgentState,
  type Process,
  type ScanProblemKind,
} from "../../proto/index.js";

function agentStateName(state: AgentState): string {
  return agentStateToJSON(state).replace(/^AGENT_STATE_/, "");
}

export function scanProblemKindName(kind: ScanProblemKind): string {
  return scanProblemKindToJSON(kind).replace(/^SCAN_PROBLEM_KIND_/, "");
}

/** The backend in use, by name; a gopsd from before the kind existed sends none: its LISTENING agent is GOPS_AGENT. */
export function agentKindName(agent: Agent): string {
  const kind = agent.kind ?? (agent.state === AgentStates.AGENT_STATE_LISTENING ? AgentKind.AGENT_KIND_GOPS_AGENT : AgentKind.AGENT_KIND_UNSPECIFIED);
  return agentKindToJSON(kind).replace(/^AGENT_KIND_/, "");
}

function agentJson(agent: Agent | undefined) {
  if (agent === undefined) return null;
  return {
    ...agent,
    state: agentStateName(agent.state),
    kind: agentKindName(agent),
    httpAddress: agent.httpAddress ?? "",
    httpPathPrefix: agent.httpPathPrefix ?? "",
    httpVerified: agent.httpVerified ?? false,
  };
}

export function processJson(p: Process) {
  return { ...p, agent: agentJson(p.agent) };
}
