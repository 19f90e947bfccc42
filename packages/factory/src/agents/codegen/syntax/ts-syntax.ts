import ts from 'typescript';

/**
 * Small builders over `ts.factory`, so the emitters read like the code they make. Every name or text
 * that may come from a source goes through `str` (a string literal the printer escapes), `propertyName`
 * (an identifier only when it is a plain ASCII one) or `doc` (comment text whose comment closers and
 * line breaks are neutralised); nothing here pastes text into code.
 */

const f = ts.factory;

export type Expr = ts.Expression;
export type Stmt = ts.Statement;
export type TypeNode = ts.TypeNode;

const PLAIN_IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export const id = (name: string): ts.Identifier => f.createIdentifier(name);
export const str = (value: string): ts.StringLiteral => f.createStringLiteral(value);
export const num = (value: number): Expr =>
  value < 0
    ? f.createPrefixUnaryExpression(ts.SyntaxKind.MinusToken, f.createNumericLiteral(-value))
    : f.createNumericLiteral(value);
export const bool = (value: boolean): Expr => (value ? f.createTrue() : f.createFalse());
export const undef = (): Expr => id('undefined');

/** A literal of a plain value: strings, numbers, booleans and null. */
export function literal(value: string | number | boolean | null): Expr {
  if (value === null) return f.createNull();
  if (typeof value === 'string') return str(value);
  if (typeof value === 'number') return num(value);
  return bool(value);
}

export const array = (items: readonly Expr[], multiLine = false): ts.ArrayLiteralExpression =>
  f.createArrayLiteralExpression([...items], multiLine);

/** `expr as const` */
export const asConst = (expr: Expr): Expr => f.createAsExpression(expr, f.createTypeReferenceNode('const'));

/** `expr satisfies type` */
export const satisfies = (expr: Expr, type: TypeNode): Expr => f.createSatisfiesExpression(expr, type);

/** `expr as type` */
export const as = (expr: Expr, type: TypeNode): Expr => f.createAsExpression(expr, type);

/**
 * The name of a property: an identifier when it is a plain ASCII one, else a string literal (quotes,
 * spaces, unicode, `__proto__`-like names are all safe as literals in interfaces).
 */
export function propertyName(name: string): ts.PropertyName {
  return PLAIN_IDENTIFIER.test(name) ? id(name) : str(name);
}

/** `a.b.c` from identifiers the emitter chose itself. */
export function access(first: string | Expr, ...names: string[]): Expr {
  let expr: Expr = typeof first === 'string' ? id(first) : first;
  for (const name of names) expr = f.createPropertyAccessExpression(expr, name);
  return expr;
}

/** `object[key]` */
export const element = (object: Expr, key: Expr): Expr => f.createElementAccessExpression(object, key);

export function call(callee: string | Expr, args: readonly Expr[] = [], typeArgs?: readonly TypeNode[]): Expr {
  return f.createCallExpression(
    typeof callee === 'string' ? id(callee) : callee,
    typeArgs ? [...typeArgs] : undefined,
    [...args],
  );
}

export const newExpr = (callee: string | Expr, args: readonly Expr[] = [], typeArgs?: readonly TypeNode[]): Expr =>
  f.createNewExpression(typeof callee === 'string' ? id(callee) : callee, typeArgs ? [...typeArgs] : undefined, [
    ...args,
  ]);

export const awaitExpr = (expr: Expr): Expr => f.createAwaitExpression(expr);
export const not = (expr: Expr): Expr => f.createLogicalNot(expr);
export const spread = (expr: Expr): Expr => f.createSpreadElement(expr);
export const paren = (expr: Expr): Expr => f.createParenthesizedExpression(expr);

export function binary(left: Expr, operator: ts.BinaryOperator, right: Expr): Expr {
  return f.createBinaryExpression(left, operator, right);
}
export const eq = (left: Expr, right: Expr): Expr => binary(left, ts.SyntaxKind.EqualsEqualsEqualsToken, right);
export const neq = (left: Expr, right: Expr): Expr => binary(left, ts.SyntaxKind.ExclamationEqualsEqualsToken, right);
export const gt = (left: Expr, right: Expr): Expr => binary(left, ts.SyntaxKind.GreaterThanToken, right);
export const or = (left: Expr, right: Expr): Expr => binary(left, ts.SyntaxKind.BarBarToken, right);
export const and = (left: Expr, right: Expr): Expr => binary(left, ts.SyntaxKind.AmpersandAmpersandToken, right);
export const nullish = (left: Expr, right: Expr): Expr => binary(left, ts.SyntaxKind.QuestionQuestionToken, right);
export const assign = (left: Expr, right: Expr): Expr => binary(left, ts.SyntaxKind.EqualsToken, right);
export const plusAssign = (left: Expr, right: Expr): Expr => binary(left, ts.SyntaxKind.PlusEqualsToken, right);
export const conditional = (condition: Expr, whenTrue: Expr, whenFalse: Expr): Expr =>
  f.createConditionalExpression(
    condition,
    f.createToken(ts.SyntaxKind.QuestionToken),
    whenTrue,
    f.createToken(ts.SyntaxKind.ColonToken),
    whenFalse,
  );

/** The raw (source) form of template text: escapes for backslashes, backticks, `${` and control characters. */
function rawTemplateText(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what gets escaped
  return text.replace(/[\\`\u0000-\u001f\u2028\u2029]|\$\{/g, (match) => {
    if (match === '${') return '\\${';
    if (match === '\\' || match === '`') return `\\${match}`;
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    return named[match] ?? `\\u${match.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** A template literal: `text${expr}text`, its texts escaped (the factory checks raw against cooked). */
export function template(parts: readonly (string | Expr)[]): Expr {
  const texts: string[] = [''];
  const exprs: Expr[] = [];
  for (const part of parts) {
    if (typeof part === 'string') texts[texts.length - 1] += part;
    else {
      exprs.push(part);
      texts.push('');
    }
  }
  const text = (i: number) => texts[i]!;
  if (exprs.length === 0) return f.createNoSubstitutionTemplateLiteral(text(0), rawTemplateText(text(0)));
  return f.createTemplateExpression(
    f.createTemplateHead(text(0), rawTemplateText(text(0))),
    exprs.map((expr, i) => {
      const next = text(i + 1);
      return f.createTemplateSpan(
        expr,
        i === exprs.length - 1
          ? f.createTemplateTail(next, rawTemplateText(next))
          : f.createTemplateMiddle(next, rawTemplateText(next)),
      );
    }),
  );
}

export type ObjectEntry = readonly [string, Expr] | ts.ObjectLiteralElementLike;

const isPair = (entry: ObjectEntry): entry is readonly [string, Expr] => Array.isArray(entry);

/** An object literal whose keys the emitter chose (never a source's name: see `propertyName`). */
export function object(entries: readonly ObjectEntry[], multiLine = false): Expr {
  return f.createObjectLiteralExpression(
    entries.map((entry) => {
      if (!isPair(entry)) return entry;
      const [key, value] = entry;
      return ts.isIdentifier(value) && value.text === key
        ? f.createShorthandPropertyAssignment(key)
        : f.createPropertyAssignment(propertyName(key), value);
    }),
    multiLine,
  );
}
export const spreadAssignment = (expr: Expr): ts.ObjectLiteralElementLike => f.createSpreadAssignment(expr);

// Types

export const typeRef = (name: string | ts.EntityName, args?: readonly TypeNode[]): TypeNode =>
  f.createTypeReferenceNode(name, args ? [...args] : undefined);
export const qualifiedType = (left: string, right: string): TypeNode =>
  f.createTypeReferenceNode(f.createQualifiedName(id(left), right));
export const stringType = (): TypeNode => f.createKeywordTypeNode(ts.SyntaxKind.StringKeyword);
export const numberType = (): TypeNode => f.createKeywordTypeNode(ts.SyntaxKind.NumberKeyword);
export const booleanType = (): TypeNode => f.createKeywordTypeNode(ts.SyntaxKind.BooleanKeyword);
export const unknownType = (): TypeNode => f.createKeywordTypeNode(ts.SyntaxKind.UnknownKeyword);
export const voidType = (): TypeNode => f.createKeywordTypeNode(ts.SyntaxKind.VoidKeyword);
export const nullType = (): TypeNode => f.createLiteralTypeNode(f.createNull());
export const literalType = (value: string): TypeNode => f.createLiteralTypeNode(str(value));
export const union = (types: readonly TypeNode[]): TypeNode =>
  types.length === 1 ? types[0]! : f.createUnionTypeNode([...types]);
export const intersection = (types: readonly TypeNode[]): TypeNode => f.createIntersectionTypeNode([...types]);
export const arrayType = (element: TypeNode): TypeNode => f.createArrayTypeNode(element);
export const readonlyArray = (element: TypeNode): TypeNode =>
  f.createTypeOperatorNode(ts.SyntaxKind.ReadonlyKeyword, f.createArrayTypeNode(element));
export const keyOf = (type: TypeNode): TypeNode => f.createTypeOperatorNode(ts.SyntaxKind.KeyOfKeyword, type);
export const typeOf = (name: string): TypeNode => f.createTypeQueryNode(id(name));
export const indexed = (object: TypeNode, index: TypeNode): TypeNode => f.createIndexedAccessTypeNode(object, index);
export const parenType = (type: TypeNode): TypeNode => f.createParenthesizedType(type);
/** `{ a: A; b?: B }`, printed on one line (prettier breaks it if it is long). */
export const typeLiteral = (members: readonly Member[]): TypeNode =>
  ts.setEmitFlags(f.createTypeLiteralNode(members.map(member)), ts.EmitFlags.SingleLine);

// Comments

/** Comment text that cannot end its comment or start code: comment closers escaped, line breaks made spaces. */
export function commentText(text: string): string {
  return text.replace(/[\r\n\u2028\u2029]+/g, ' ').replace(/\*\//g, '*\\/');
}

/** Attaches a JSDoc comment; each string is one line. */
export function doc<T extends ts.Node>(node: T, ...lines: readonly string[]): T {
  if (lines.length === 0) return node;
  const safe = lines.map(commentText);
  const text = safe.length === 1 ? `* ${safe[0]} ` : `*\n${safe.map((line) => ` * ${line}`.trimEnd()).join('\n')}\n `;
  return ts.addSyntheticLeadingComment(node, ts.SyntaxKind.MultiLineCommentTrivia, text, true);
}

/** Attaches `// text` line comments before a node. */
export function lineComment<T extends ts.Node>(node: T, ...lines: readonly string[]): T {
  for (const line of lines)
    ts.addSyntheticLeadingComment(node, ts.SyntaxKind.SingleLineCommentTrivia, ` ${commentText(line)}`, true);
  return node;
}

// Declarations

const exportModifier = (exported: boolean | undefined) =>
  exported ? [f.createModifier(ts.SyntaxKind.ExportKeyword)] : undefined;

export interface ImportName {
  readonly name: string;
  readonly type?: boolean;
}

/** `import { a, type B } from 'module'` (or `import type { … }` with typeOnly). */
export function importNamed(module: string, names: readonly (string | ImportName)[], typeOnly = false): Stmt {
  const specifiers = names.map((n) => (typeof n === 'string' ? { name: n, type: false } : { type: false, ...n }));
  return f.createImportDeclaration(
    undefined,
    f.createImportClause(
      typeOnly,
      undefined,
      f.createNamedImports(specifiers.map((s) => f.createImportSpecifier(s.type && !typeOnly, undefined, id(s.name)))),
    ),
    str(module),
  );
}

/** `import name from 'module'` */
export function importDefault(name: string, module: string): Stmt {
  return f.createImportDeclaration(undefined, f.createImportClause(false, id(name), undefined), str(module));
}

export interface DeclOptions {
  readonly exported?: boolean;
  readonly doc?: readonly string[];
}

export function constStmt(name: string, init: Expr, options: DeclOptions & { type?: TypeNode } = {}): Stmt {
  const statement = f.createVariableStatement(
    exportModifier(options.exported),
    f.createVariableDeclarationList(
      [f.createVariableDeclaration(name, undefined, options.type, init)],
      ts.NodeFlags.Const,
    ),
  );
  return doc(statement, ...(options.doc ?? []));
}

export function letStmt(name: string, init: Expr, type?: TypeNode): Stmt {
  return f.createVariableStatement(
    undefined,
    f.createVariableDeclarationList([f.createVariableDeclaration(name, undefined, type, init)], ts.NodeFlags.Let),
  );
}

/** `const { a, b } = init` */
export function destructure(names: readonly string[], init: Expr): Stmt {
  return f.createVariableStatement(
    undefined,
    f.createVariableDeclarationList(
      [
        f.createVariableDeclaration(
          f.createObjectBindingPattern(names.map((n) => f.createBindingElement(undefined, undefined, n))),
          undefined,
          undefined,
          init,
        ),
      ],
      ts.NodeFlags.Const,
    ),
  );
}

export interface Param {
  readonly name: string;
  readonly type?: TypeNode;
  readonly init?: Expr;
  readonly optional?: boolean;
}

const parameter = (p: Param) =>
  f.createParameterDeclaration(
    undefined,
    undefined,
    p.name,
    p.optional ? f.createToken(ts.SyntaxKind.QuestionToken) : undefined,
    p.type,
    p.init,
  );

export interface FunctionOptions extends DeclOptions {
  readonly async?: boolean;
  readonly generator?: boolean;
  readonly typeParams?: readonly (readonly [string, TypeNode?])[];
}

export function fn(
  name: string,
  params: readonly Param[],
  returnType: TypeNode | undefined,
  body: readonly Stmt[],
  options: FunctionOptions = {},
): Stmt {
  const modifiers = [
    ...(exportModifier(options.exported) ?? []),
    ...(options.async ? [f.createModifier(ts.SyntaxKind.AsyncKeyword)] : []),
  ];
  const declaration = f.createFunctionDeclaration(
    modifiers.length > 0 ? modifiers : undefined,
    options.generator ? f.createToken(ts.SyntaxKind.AsteriskToken) : undefined,
    name,
    options.typeParams?.map(([n, constraint]) => f.createTypeParameterDeclaration(undefined, n, constraint)),
    params.map(parameter),
    returnType,
    f.createBlock([...body], true),
  );
  return doc(declaration, ...(options.doc ?? []));
}

/** An arrow function: an expression body, or a block. */
export function arrow(
  params: readonly Param[],
  body: Expr | readonly Stmt[],
  options: { async?: boolean; returnType?: TypeNode } = {},
): Expr {
  return f.createArrowFunction(
    options.async ? [f.createModifier(ts.SyntaxKind.AsyncKeyword)] : undefined,
    undefined,
    params.map(parameter),
    options.returnType,
    f.createToken(ts.SyntaxKind.EqualsGreaterThanToken),
    Array.isArray(body) ? f.createBlock([...(body as readonly Stmt[])], true) : (body as Expr),
  );
}

export interface Member {
  readonly name: string;
  readonly type: TypeNode;
  readonly readonly?: boolean;
  readonly optional?: boolean;
  readonly doc?: readonly string[];
}

const member = (m: Member) =>
  doc(
    f.createPropertySignature(
      m.readonly ? [f.createModifier(ts.SyntaxKind.ReadonlyKeyword)] : undefined,
      propertyName(m.name),
      m.optional ? f.createToken(ts.SyntaxKind.QuestionToken) : undefined,
      m.type,
    ),
    ...(m.doc ?? []),
  );

export function interfaceDecl(name: string, members: readonly Member[], options: DeclOptions = {}): Stmt {
  return doc(
    f.createInterfaceDeclaration(exportModifier(options.exported), name, undefined, undefined, members.map(member)),
    ...(options.doc ?? []),
  );
}

export function typeAlias(name: string, type: TypeNode, options: DeclOptions = {}): Stmt {
  return doc(
    f.createTypeAliasDeclaration(exportModifier(options.exported), name, undefined, type),
    ...(options.doc ?? []),
  );
}

// Statements

export const exprStmt = (expr: Expr): Stmt => f.createExpressionStatement(expr);
export const ret = (expr?: Expr): Stmt => f.createReturnStatement(expr);
export const throwStmt = (expr: Expr): Stmt => f.createThrowStatement(expr);
export const block = (statements: readonly Stmt[]): ts.Block => f.createBlock([...statements], true);

export function ifStmt(condition: Expr, then: readonly Stmt[], otherwise?: readonly Stmt[]): Stmt {
  return f.createIfStatement(condition, block(then), otherwise ? block(otherwise) : undefined);
}

/** `for (const name of iterable) { … }` (`for await` with isAwait). */
export function forOf(name: string, iterable: Expr, body: readonly Stmt[], isAwait = false): Stmt {
  return f.createForOfStatement(
    isAwait ? f.createToken(ts.SyntaxKind.AwaitKeyword) : undefined,
    f.createVariableDeclarationList([f.createVariableDeclaration(name)], ts.NodeFlags.Const),
    iterable,
    block(body),
  );
}

export function tryFinally(body: readonly Stmt[], finallyBody: readonly Stmt[]): Stmt {
  return f.createTryStatement(block(body), undefined, block(finallyBody));
}

export const yieldExpr = (expr: Expr): Expr => f.createYieldExpression(undefined, expr);

export const whileStmt = (condition: Expr, body: readonly Stmt[]): Stmt =>
  f.createWhileStatement(condition, block(body));
export const deleteExpr = (expr: Expr): Expr => f.createDeleteExpression(expr);
export const instanceOf = (left: Expr, right: Expr): Expr => binary(left, ts.SyntaxKind.InstanceOfKeyword, right);
export const nonNull = (expr: Expr): Expr => f.createNonNullExpression(expr);
/** A regular expression literal; only for patterns the emitter wrote itself. */
export const regex = (pattern: string, flags = ''): Expr =>
  f.createRegularExpressionLiteral(`/${pattern.replace(/\//g, '\\/')}/${flags}`);
