/**
 * The syntax tree of a selection expression. Every node keeps its span (UTF-16 offsets
 * into the expression's text) so that errors found while evaluating can point at it.
 */
import { STEP_STATUSES, type StepStatus } from '../definitions/model.js';

/** Half-open range `[start, end)` of offsets into the expression's text. */
export interface Span {
  start: number;
  end: number;
}

/** Attributes written `NAME:VALUE`. */
export const ATTRIBUTES = ['key', 'group', 'tag', 'kind', 'owner', 'handler', 'job', 'status'] as const;
/** One of ATTRIBUTES. */
export type AttributeName = (typeof ATTRIBUTES)[number];

/** Functions written `NAME(EXPR)`. */
export const FUNCTIONS = ['roots', 'sinks'] as const;
/** One of FUNCTIONS. */
export type FunctionName = (typeof FUNCTIONS)[number];

/** The words `status:` accepts: a step's status, as everywhere in the runner. */
export const SELECTION_STATUSES: readonly StepStatus[] = STEP_STATUSES;

/** A key pattern: a bare word, a bare quoted string, or `key:PATTERN`. `*` is a wildcard. */
export interface KeyNode {
  type: 'key';
  pattern: string;
  span: Span;
}

/** `group:`, `kind:`, `owner:`, `handler:` (values may hold `*`), `job:` and `status:` (exact). */
export interface AttributeNode {
  type: 'attr';
  name: 'group' | 'kind' | 'owner' | 'handler' | 'job' | 'status';
  value: string;
  span: Span;
  /** Where the value is, for errors about it. */
  valueSpan: Span;
}

/** `tag:NAME` (any value) or `tag:NAME=VALUE`; name and value may hold `*`. */
export interface TagNode {
  type: 'tag';
  name: string;
  value?: string;
  span: Span;
  valueSpan: Span;
}

/** `not X`: every asset except X's. */
export interface NotNode {
  type: 'not';
  operand: SelectionNode;
  span: Span;
}

/** `A and B and ...` (at least two operands). */
export interface AndNode {
  type: 'and';
  operands: SelectionNode[];
  span: Span;
}

/** `A or B`, `A, B` (at least two operands). */
export interface OrNode {
  type: 'or';
  operands: SelectionNode[];
  span: Span;
}

/**
 * `N+X+M`: X plus its ancestors up to `up` levels and its descendants up to `down` levels.
 * `Infinity` means all levels; an absent side is not walked.
 */
export interface GraphNode {
  type: 'graph';
  operand: SelectionNode;
  up?: number;
  down?: number;
  span: Span;
}

/** `roots(X)` / `sinks(X)`: the keys of X with no parent / no child inside X. */
export interface FunctionNode {
  type: 'function';
  name: FunctionName;
  operand: SelectionNode;
  span: Span;
}

/** A parsed selection expression. */
export type SelectionNode = KeyNode | AttributeNode | TagNode | NotNode | AndNode | OrNode | GraphNode | FunctionNode;
