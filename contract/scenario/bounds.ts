/**
 * What a scenario may cost before the schema sees it. A scenario is a few KB of hand-written YAML; anything
 * far past these limits is a mistake or an attack, and must become one clear problem, not a frozen process:
 * - size: the text itself (files and `PUT /__fake/scenario` share the one constant);
 * - expansion: YAML aliases let 1 KB describe billions of nodes ("billion laughs"), and an alias inside its own
 *   anchor describes an endless one. The `yaml` library's own guard (`maxAliasCount`) is a heuristic that a wide
 *   fan of small aliases passes, so the document is measured here, aliases expanded, before it becomes data;
 * - depth: the schema and messages walk the data recursively.
 */
import { isAlias, isMap, isNode, isPair, isSeq, visit, type Alias, type Document, type Node } from 'yaml';

/** Largest scenario text, bytes. The library's largest file is under 3 KB. */
export const SCENARIO_MAX_BYTES = 1024 * 1024;
/** Most nodes (scalars, maps, sequences, keys) the document may hold once every alias is expanded. */
export const SCENARIO_MAX_NODES = 100_000;
/** Deepest nesting of maps and sequences. The schema's own depth is under 10. */
export const SCENARIO_MAX_DEPTH = 64;
/**
 * Most aliases a document may use. `yaml` resolves each alias by scanning every anchor and alias before it, so
 * their count costs time squared: 250,000 aliases fit in 1 MiB and would take minutes. Scenarios use none or few.
 */
export const SCENARIO_MAX_ALIASES = 1000;
/** Passed to `yaml`'s `toJS` as a second guard; the measure below already refused anything it would. */
export const YAML_MAX_ALIAS_COUNT = SCENARIO_MAX_NODES;

/** "1200000 bytes, more than the 1048576-byte limit (...)", for files and for the control API alike. */
export function tooLargeMessage(bytes?: number): string {
  return `${bytes === undefined ? 'more' : `${bytes} bytes, more`} than the ${SCENARIO_MAX_BYTES}-byte limit (a scenario is a few KB)`;
}

export interface BoundsProblem {
  /** Offset in the text of the node to point at. */
  offset: number;
  message: string;
}

/**
 * Measures the document with aliases expanded, in time linear in the document (aliases are resolved in one pass,
 * each node is measured once). Returns the first limit it breaks, or undefined.
 */
export function checkExpansion(doc: Document): BoundsProblem | undefined {
  // An alias names the last node anchored so before it in document order (what yaml's Alias.resolve does).
  const anchors = new Map<string, Node>();
  const targets = new Map<Alias, Node | undefined>();
  visit(doc, {
    Node: (_key, node) => {
      if (isAlias(node)) {
        targets.set(node, anchors.get(node.source));
        if (targets.size > SCENARIO_MAX_ALIASES) return visit.BREAK;
      } else if (node.anchor) {
        anchors.set(node.anchor, node);
      }
      return undefined;
    },
  });
  if (targets.size > SCENARIO_MAX_ALIASES) {
    const first = targets.keys().next().value;
    return { offset: first?.range?.[0] ?? 0, message: `uses more than ${SCENARIO_MAX_ALIASES} aliases (*name)` };
  }

  /** Per node: how many values it expands to, and how deep it goes below itself. */
  const measured = new Map<Node, { size: number; height: number }>();
  const open = new Set<Node>();
  let problem: BoundsProblem | undefined;
  const offsetOf = (node: unknown) => (isNode(node) && node.range ? node.range[0] : 0);
  const fail = (node: unknown, message: string) => {
    problem ??= { offset: offsetOf(node), message };
  };

  const measure = (node: unknown, depth: number): { size: number; height: number } => {
    const none = { size: 0, height: 0 };
    if (problem || !isNode(node)) return none;
    let target: Node = node;
    if (isAlias(node)) {
      const resolved = targets.get(node);
      if (!resolved) return none; // toJS reports it as an unresolved alias
      if (open.has(resolved)) {
        fail(node, `the alias *${node.source} refers to a node that contains it (an endless document)`);
        return none;
      }
      target = resolved;
    }
    let m = measured.get(target);
    if (!m && depth > SCENARIO_MAX_DEPTH) {
      // Not descended: a document nested thousands deep must not exhaust this walk's stack either.
      fail(node, `nested deeper than ${SCENARIO_MAX_DEPTH} levels`);
      return none;
    }
    if (!m) {
      m = { size: 1, height: 0 };
      if (isMap(target) || isSeq(target)) {
        open.add(target);
        for (const item of target.items as unknown[]) {
          for (const child of isPair(item) ? [item.key, item.value] : [item]) {
            const c = measure(child, depth + 1);
            m.size += c.size;
            m.height = Math.max(m.height, c.height + 1);
          }
          if (problem) break;
        }
        open.delete(target);
      }
      measured.set(target, m);
    }
    // Checked where the node is used, so an alias cannot stack shallow anchors into a deep or huge document.
    if (depth + m.height > SCENARIO_MAX_DEPTH) fail(node, `nested deeper than ${SCENARIO_MAX_DEPTH} levels once its aliases are followed`);
    if (m.size > SCENARIO_MAX_NODES) fail(node, `expands to more than ${SCENARIO_MAX_NODES} values once its aliases are followed (an alias bomb?)`);
    return m;
  };

  measure(doc.contents, 0);
  return problem;
}
