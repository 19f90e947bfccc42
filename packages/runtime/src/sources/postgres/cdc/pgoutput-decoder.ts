import { RuntimeError } from '../../../errors.js';
import { newRecord } from '../../../records/record.js';
import { converterForOid, type TextConverter } from '../postgres-values.js';
import { setField, type MutableRow } from './cdc-rows.js';
import type { TableShape } from './cdc-table.js';

/**
 * The pgoutput decoder (protocol version 1, text values): one message's bytes in, begin / row / commit
 * events out, for one table. Pure: no I/O, no clock; a stream's messages decode the same wherever they
 * come from. Changes of other relations are skipped (their Relation messages are remembered as such);
 * values are converted with the table's column converters, so rows match the snapshot's.
 */

/** A Relation message for the entity's table, with what building rows needs. */
interface Relation {
  readonly names: readonly string[];
  readonly converters: readonly TextConverter[];
  readonly isKey: readonly boolean[];
  /** Column index of each entity field. */
  readonly fieldIndex: readonly number[];
  /** Columns whose text is needed: fields and key columns. */
  readonly wanted: readonly boolean[];
  readonly mergeKeyIndex: readonly number[];
  /** The replica identity's columns (none for FULL: the old row is complete). */
  readonly identityIndex: readonly number[];
}

/** An update whose unchanged TOAST values must be read back from the table. */
export interface ToastGap {
  readonly missing: readonly string[];
  /** The replica identity columns (as the Relation message flags them) and their texts. */
  readonly keyNames: readonly string[];
  readonly key: readonly string[];
}

/** What the decoder hands over. */
export interface DecoderSink {
  begin(finalLsn: bigint): void;
  row(row: MutableRow, gap?: ToastGap): void;
  commit(endLsn: bigint): void;
  fail(error: RuntimeError): void;
}

/** A value of a tuple: text, null, or unchanged TOAST (undefined). */
export type TupleValue = string | null | undefined;

/** Reads one pgoutput message at a time (protocol version 1) and turns changes of one table into rows. */
export class PgoutputDecoder {
  private readonly relations = new Map<number, Relation | null>();
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private inTransaction = false;

  constructor(
    private readonly shape: TableShape,
    private readonly sink: DecoderSink,
  ) {}

  get transactionOpen(): boolean {
    return this.inTransaction;
  }

  /** Forgets the session's relations and any open transaction (a new connection starts over). */
  reset(): void {
    this.relations.clear();
    this.inTransaction = false;
  }

  decode(message: Buffer): void {
    this.buf = message;
    this.pos = 1;
    switch (message[0]) {
      case 0x42: {
        // Begin: Int64 final LSN, Int64 commit time, Int32 xid.
        const finalLsn = this.int64();
        this.inTransaction = true;
        this.sink.begin(finalLsn);
        return;
      }
      case 0x43: {
        // Commit: Int8 flags, Int64 commit LSN, Int64 end LSN, Int64 time.
        this.pos += 1 + 8;
        const endLsn = this.int64();
        this.inTransaction = false;
        this.sink.commit(endLsn);
        return;
      }
      case 0x52:
        return this.relation();
      case 0x49: {
        // Insert: Int32 relation, 'N', TupleData.
        const relation = this.relationOf(this.int32());
        if (!relation) return;
        this.expect(0x4e);
        const values = this.tuple(relation);
        this.sink.row(this.build(relation, values, 'c'));
        return;
      }
      case 0x55:
        return this.update();
      case 0x44: {
        // Delete: Int32 relation, 'K' or 'O', TupleData.
        const relation = this.relationOf(this.int32());
        if (!relation) return;
        const kind = this.byte();
        const old = this.tuple(relation);
        this.sink.row(this.build(relation, old, 'd', kind === 0x4b ? relation.isKey : undefined));
        return;
      }
      case 0x54: {
        // Truncate: Int32 count, Int8 options, Int32 relation × count.
        const count = this.int32();
        this.pos += 1;
        for (let i = 0; i < count; i++) {
          if (this.int32() === this.shape.table.oid) {
            this.sink.fail(
              new RuntimeError(
                'config',
                `postgres cdc: ${this.shape.table.sql} was truncated; changes cannot express a TRUNCATE, so take a new snapshot (reset the connector's state for this entity)`,
              ),
            );
          }
        }
        return;
      }
      case 0x4f: // Origin
      case 0x59: // Type (custom types convert by the catalog's column types)
      case 0x4d: // Message (not requested)
        return;
      default:
        throw new RuntimeError(
          'internal',
          `postgres cdc: unknown pgoutput message ${JSON.stringify(String.fromCharCode(message[0] ?? 0))}`,
        );
    }
  }

  private update(): void {
    // Update: Int32 relation, optional 'K' or 'O' TupleData (old key / old row), 'N' TupleData.
    const relation = this.relationOf(this.int32());
    if (!relation) return;
    let kind = this.byte();
    let old: TupleValue[] | undefined;
    let oldIsKey = false;
    if (kind === 0x4b || kind === 0x4f) {
      oldIsKey = kind === 0x4b;
      old = this.tuple(relation);
      kind = this.byte();
    }
    if (kind !== 0x4e)
      throw new RuntimeError('internal', `postgres cdc: malformed pgoutput update (tuple kind ${kind})`);
    const values = this.tuple(relation);
    if (old && !oldIsKey) {
      for (let i = 0; i < values.length; i++) if (values[i] === undefined) values[i] = old[i];
    }
    if (old && relation.mergeKeyIndex.length > 0) {
      // The key changed: the lake must forget the old key.
      const changed = relation.mergeKeyIndex.some(
        (i) => values[i] !== undefined && old[i] !== undefined && values[i] !== old[i],
      );
      if (changed) this.sink.row(this.build(relation, old, 'd', oldIsKey ? relation.isKey : undefined));
    }
    let missing: string[] | undefined;
    const row = this.build(relation, values, 'u', undefined, (name) => (missing ??= []).push(name));
    if (!missing) return this.sink.row(row);
    if (this.shape.unchangedToast === 'fetch' && relation.identityIndex.length > 0) {
      const key = relation.identityIndex.map((i) => values[i]);
      const keyNames = relation.identityIndex.map((i) => relation.names[i]!);
      if (key.every((k): k is string => typeof k === 'string') && keyNames.every((n) => this.shape.columns.has(n))) {
        return this.sink.row(row, { missing, keyNames, key });
      }
    }
    this.sink.row(row);
  }

  private relation(): void {
    const oid = this.int32();
    this.string(); // namespace
    this.string(); // name
    const identity = String.fromCharCode(this.byte());
    const count = this.int16();
    const names: string[] = [];
    const typeOids: number[] = [];
    const isKey: boolean[] = [];
    for (let i = 0; i < count; i++) {
      isKey.push((this.byte() & 1) === 1);
      names.push(this.string());
      typeOids.push(this.int32());
      this.int32(); // typmod
    }
    if (oid !== this.shape.table.oid) {
      this.relations.set(oid, null);
      return;
    }
    const index = new Map(names.map((n, i) => [n, i]));
    const fieldIndex = this.shape.fields.map((f) => {
      const i = index.get(f.name);
      if (i === undefined) {
        throw new RuntimeError(
          'config',
          `postgres cdc: the column ${JSON.stringify(f.name)} of ${this.shape.table.sql} is not in the replication stream (dropped or renamed, or left out by the publication's column list)`,
        );
      }
      return i;
    });
    const converters = names.map((name, i) => {
      const column = this.shape.columns.get(name);
      if (column && column.typeOid === typeOids[i]) return column.convert;
      return converterForOid(typeOids[i]!) ?? ((text: string) => text);
    });
    const wanted = names.map((_, i) => isKey[i]! || fieldIndex.includes(i));
    const indexOf = (name: string) => index.get(name) ?? -1;
    this.relations.set(oid, {
      names,
      converters,
      isKey,
      fieldIndex,
      wanted,
      mergeKeyIndex: this.shape.mergeKey.map(indexOf).filter((i) => i >= 0),
      identityIndex: identity === 'f' ? [] : isKey.flatMap((key, i) => (key ? [i] : [])),
    });
  }

  private relationOf(oid: number): Relation | null {
    const relation = this.relations.get(oid);
    if (relation === undefined)
      throw new RuntimeError(
        'internal',
        `postgres cdc: pgoutput sent a change of relation ${oid} before its Relation message`,
      );
    return relation;
  }

  /** TupleData: the texts of the wanted columns (others null), `undefined` for unchanged TOAST. */
  private tuple(relation: Relation): TupleValue[] {
    const count = this.int16();
    const values: TupleValue[] = new Array<TupleValue>(count);
    for (let i = 0; i < count; i++) {
      const kind = this.byte();
      if (kind === 0x74 || kind === 0x62) {
        const length = this.int32();
        if (kind === 0x62)
          throw new RuntimeError(
            'internal',
            'postgres cdc: pgoutput sent a binary value (binary mode is not requested)',
          );
        values[i] = relation.wanted[i] ? this.buf.toString('utf8', this.pos, this.pos + length) : null;
        this.pos += length;
      } else if (kind === 0x6e) {
        values[i] = null;
      } else if (kind === 0x75) {
        values[i] = undefined;
      } else {
        throw new RuntimeError('internal', `postgres cdc: unknown pgoutput tuple value kind ${kind}`);
      }
    }
    return values;
  }

  /** A row of the entity's fields (only `only` columns when given: a key tuple) with `_op`. */
  private build(
    relation: Relation,
    values: TupleValue[],
    op: 'c' | 'u' | 'd',
    only?: readonly boolean[],
    unchanged?: (name: string) => void,
  ): MutableRow {
    const row: MutableRow = newRecord();
    const fields = this.shape.fields;
    for (let f = 0; f < fields.length; f++) {
      const i = relation.fieldIndex[f]!;
      if (only && !only[i]) continue;
      const text = values[i];
      const name = fields[f]!.name;
      if (text === undefined) {
        unchanged?.(name);
        continue;
      }
      let value: unknown = null;
      if (text !== null) {
        try {
          value = relation.converters[i]!(text);
        } catch (error) {
          throw new RuntimeError(
            'internal',
            `postgres cdc: cannot convert a value of column ${JSON.stringify(name)}: ${(error as Error).message}`,
            { cause: error },
          );
        }
      }
      setField(row, name, value);
    }
    row._op = op;
    return row;
  }

  private byte(): number {
    const value = this.buf[this.pos];
    if (value === undefined) throw new RuntimeError('internal', 'postgres cdc: truncated pgoutput message');
    this.pos += 1;
    return value;
  }

  private expect(kind: number): void {
    const got = this.byte();
    if (got !== kind)
      throw new RuntimeError(
        'internal',
        `postgres cdc: malformed pgoutput message (expected ${String.fromCharCode(kind)}, got ${got})`,
      );
  }

  private int16(): number {
    const value = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return value;
  }

  private int32(): number {
    const value = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return value;
  }

  private int64(): bigint {
    const value = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return value;
  }

  private string(): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw new RuntimeError('internal', 'postgres cdc: unterminated string in a pgoutput message');
    const value = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return value;
  }
}
