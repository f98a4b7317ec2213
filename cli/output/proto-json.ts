// JSON-ready shapes of the proto messages the commands print: enums by name (without their prefix), every field
// present (ts-proto's toJSON drops zero values, which makes jq filters fragile).
import {
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

function agentJson(agent: Agent | undefined) {
  if (agent === undefined) return null;
  return { ...agent, state: agentStateName(agent.state) };
}

export function processJson(p: Process) {
  return { ...p, agent: agentJson(p.agent) };
}
