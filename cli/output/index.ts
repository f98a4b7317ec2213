export { toJson } from "./json.js";
export { renderLabels } from "./labels.js";
export { containerJson, processJson, qosName, runtimeName, scanProblemKindName } from "./proto-json.js";
export { printJson, printJsonLine, printView, wantsJson, write, type OutputTarget, type View } from "./print.js";
export { renderTable } from "./table.js";
export { renderTree, type TextTree } from "./render-tree.js";
export { withNewline } from "./text.js";
