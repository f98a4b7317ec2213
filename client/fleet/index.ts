// The fleet: inventory, host selection, fan-out across gopsd hosts, and module search.
export {
  captureBytes,
  createFleet,
  openFleet,
  tokenProvider,
  type Fleet,
  type FleetCallOptions,
  type FleetRequest,
  type HostSample,
  type OpenFleetOptions,
  type StreamConsumer,
  type StreamContext,
  type StreamMethod,
  type UnaryMethod,
} from "./fleet.js";
export { DEFAULT_CONCURRENCY, describeError, fanOut, summarize, type FanOutOptions, type HostError, type HostResult, type TaskContext } from "./fan-out.js";
export {
  DEFAULT_FORWARD,
  InventoryError,
  defaultInventoryPath,
  loadInventory,
  parseInventory,
  type FleetHost,
  type Inventory,
  type InventoryContext,
  type LoadInventoryOptions,
  type SshHop,
  type SshSettings,
  type TlsSettings,
  type HostTokenSource,
} from "./inventory.js";
export {
  matchesSelector,
  nearMatches,
  parseSelector,
  selectHosts,
  unknownHostMessage,
  type LabelRequirement,
  type SelectionOptions,
} from "./selection.js";
export {
  ModuleQueryError,
  compareGoVersions,
  findModule,
  parseGoVersion,
  parseModuleQuery,
  satisfies,
  type ModuleMatch,
  type ModuleQuery,
  type ProcessWithBuildInfo,
  type VersionOp,
} from "./modules.js";
