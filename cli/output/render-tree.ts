// Box-drawing tree text (the layout gops tree prints): the root label, then one line per node with
// "├── " / "└── " branches and "│   " / "    " indentation. Labels are escaped: one node, one line.
import { escapeLine } from "../../common/escape-text.js";


export interface TextTree {
  label: string;
  children: readonly TextTree[];
}

export function renderTree(root: TextTree): string {
  const lines = [escapeLine(root.label)];
  const walk = (nodes: readonly TextTree[], indent: string): void => {
    nodes.forEach((node, i) => {
      const last = i === nodes.length - 1;
      lines.push(`${indent}${last ? "└── " : "├── "}${escapeLine(node.label)}`);
      walk(node.children, indent + (last ? "    " : "│   "));
    });
  };
  walk(root.children, "");
  return lines.map((l) => `${l}\n`).join("");
}
