// protobuf types for WireTypes (the native codec's half that knows protobuf): protobufjs
// Types built with its reflection API, and converters between JavaScript values and the
// message objects protobufjs encodes and decodes, checking values as schema.ts does.
// protobufjs is an optional peer dependency, loaded by loadNativeCodec().

import type * as pbt from "protobufjs/light.js";
import { BYTES_VIEW_THRESHOLD } from "../wire/brine.js";
import { netrefState } from "../netref/netref.js";
import { describeType, describeValue, SchemaError, type ServiceSchema, type WireDecl, type WireType } from "./schema.js";

const MAX_DEPTH = 64;

// protobufjs is an optional peer dependency (like etcd3): loaded on first need, and without
// it the native codec is simply never offered nor accepted.
let pb: typeof pbt | undefined;
let loading: Promise<boolean> | undefined;

/** Loads protobufjs (once); resolves false when it is not installed. */
export function loadNativeCodec(): Promise<boolean> {
  loading ??= import("protobufjs/light.js").then(
    (m) => {
      pb = (m as unknown as { default: typeof pbt }).default;
      return true;
    },
    () => false,
  );
  return loading;
}

export function lib(): typeof pbt {
  if (!pb) throw new Error("the native codec needs protobufjs: call loadNativeCodec() first");
  return pb;
}

/** A value did not match its type; containers prepend their path segments on the way out. */
export class Mismatch {
  readonly segments: string[] = [];
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {}
}

/** The type cannot go native (function, netref, unknown, or too deeply recursive). */
export class NotNative extends Error {}

type Enc = (value: unknown, depth: number) => unknown;
type Dec = (value: unknown, depth: number, none: null | undefined) => unknown;

/** How one WireType sits in a protobuf field, and how values convert. */
export interface Slot {
  /** protobufjs type name ("string", "double", or a message name). */
  readonly type: string;
  readonly repeated: boolean;
  /** A (non-repeated) message: presence is detectable (absent reads as null). */
  readonly message: boolean;
  readonly enc: Enc;
  readonly dec: Dec;
}

/** Prepends a path segment to a Mismatch on its way out (other errors pass unchanged). */
function annotate(err: unknown, segment: string): unknown {
  if (err instanceof Mismatch) err.segments.unshift(segment);
  return err;
}

function within(segment: string, fn: () => unknown): unknown {
  try {
    return fn();
  } catch (err) {
    if (err instanceof Mismatch) err.segments.unshift(segment);
    throw err;
  }
}

function deep(depth: number): void {
  if (depth > MAX_DEPTH) throw new Mismatch("a shallower value", "nesting deeper than 64 levels");
}

function isRecordObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !netrefState(value);
}

/** A message instance protobufjs decoded, read by field name. */
export type Message = Record<string, unknown>;

/**
 * A decoded bytes value as a plain Uint8Array: a copy when small (a view would pin the whole
 * received chunk), a view into the received frame when it is big and fills most of it (as
 * brine's load does: BYTES_VIEW_THRESHOLD), saving a copy of megabytes.
 */
function bytesOut(value: unknown): Uint8Array {
  const raw = value as Uint8Array;
  if (raw.length >= BYTES_VIEW_THRESHOLD && raw.length * 2 >= raw.buffer.byteLength) return new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
  return new Uint8Array(raw);
}

export class Builder {
  readonly root = new (lib().Root)();
  private count = 0;
  private readonly named = new Map<string, Slot>();
  private building = 0;

  constructor(private readonly types: ServiceSchema["types"]) {}

  private fresh(prefix: string): pbt.Type {
    const type = new (lib().Type)(`${prefix}${this.count++}`);
    this.root.add(type);
    return type;
  }

  private scalar(type: string, expected: string, check: (v: unknown) => boolean, toPb: (v: unknown) => unknown, fromPb: (v: unknown) => unknown): Slot {
    return {
      type,
      repeated: false,
      message: false,
      enc: (v) => {
        if (!check(v)) throw new Mismatch(expected, describeValue(v));
        return toPb(v);
      },
      dec: (v) => fromPb(v),
    };
  }

  /** An empty message: the value is implied by the type (null, undefined, a literal); the message marks presence. */
  private unit(expected: string, check: (v: unknown) => boolean, value: (none: null | undefined) => unknown): Slot {
    const type = this.fresh("Unit");
    return {
      type: type.name,
      repeated: false,
      message: true,
      enc: (v) => {
        if (!check(v)) throw new Mismatch(expected, describeValue(v));
        return {};
      },
      dec: (_v, _d, none) => value(none),
    };
  }

  /** A slot whose presence protobuf can tell: itself if a single message, else wrapped in one. */
  present(slot: Slot): Slot {
    if (slot.message && !slot.repeated) return slot;
    const box = this.fresh("Box");
    box.add(new (lib().Field)("v", 1, slot.type, slot.repeated ? "repeated" : undefined));
    const result: Slot = {
      type: box.name,
      repeated: false,
      message: true,
      enc: (v, d) => ({ v: slot.enc(v, d) }),
      dec: (v, d, none) => slot.dec((v as Message | null)?.["v"] ?? (slot.repeated ? [] : undefined), d, none),
    };
    return result;
  }

  slot(type: WireType): Slot {
    if (++this.building > 200) throw new NotNative("type nests too deeply");
    try {
      return this.build(type);
    } finally {
      this.building--;
    }
  }

  private build(type: WireType): Slot {
    switch (type.kind) {
      case "string":
        return this.scalar(
          "string",
          "string",
          (v) => typeof v === "string",
          (v) => v,
          (v) => v,
        );
      case "number":
        return this.scalar(
          "double",
          "number",
          (v) => typeof v === "number",
          (v) => v,
          (v) => v,
        );
      case "boolean":
        return this.scalar(
          "bool",
          "boolean",
          (v) => typeof v === "boolean",
          (v) => v,
          (v) => v,
        );
      case "bigint":
        return this.scalar(
          "string",
          "bigint",
          (v) => typeof v === "bigint",
          (v) => (v as bigint).toString(),
          (v) => BigInt(v as string),
        );
      case "bytes":
        return this.scalar(
          "bytes",
          "Uint8Array",
          (v) => v instanceof Uint8Array,
          (v) => v,
          bytesOut,
        );
      case "date":
        return this.scalar(
          "double",
          "Date",
          (v) => v instanceof Date && !Number.isNaN(v.getTime()),
          (v) => (v as Date).getTime(),
          (v) => new Date(v as number),
        );
      case "null":
        return this.unit(
          "null",
          (v) => v === null || v === undefined,
          () => null,
        );
      case "undefined":
        return this.unit(
          "undefined",
          (v) => v === null || v === undefined,
          (none) => none,
        );
      case "literal": {
        const literal = type.value;
        return this.unit(
          JSON.stringify(literal),
          (v) => v === literal,
          () => literal,
        );
      }
      case "array":
        return this.array(type.element, describeType(type));
      case "tuple":
        return this.tuple(type.elements, type.minLength, describeType(type));
      case "map":
        return this.map(type.key, type.value, type.container, describeType(type));
      case "object":
        return this.object(this.fresh("Obj"), type.fields, describeType(type));
      case "union":
        return this.union(type.members, describeType(type));
      case "ref":
        return this.ref(type.name);
      case "function":
      case "netref":
      case "unknown":
        throw new NotNative(`${type.kind} values travel as references`);
    }
  }

  private ref(name: string): Slot {
    const cached = this.named.get(name);
    if (cached) return cached;
    const decl: WireDecl | undefined = this.types[name];
    if (!decl) throw new NotNative(`schema refers to unknown type ${name}`);
    switch (decl.kind) {
      case "alias": {
        const slot = this.slot(decl.type);
        this.named.set(name, slot);
        return slot;
      }
      case "enum":
        return this.indexed(
          decl.members.map((m) => m.value),
          name,
        );
      case "object": {
        // Registered before its fields are built, so recursive types refer to themselves.
        const message = new (lib().Type)(`T_${name.replace(/[^A-Za-z0-9_]/g, "_")}_${this.count++}`);
        this.root.add(message);
        const holder: { slot?: Slot } = {};
        const forward: Slot = {
          type: message.name,
          repeated: false,
          message: true,
          enc: (v, d) => holder.slot!.enc(v, d),
          dec: (v, d, n) => holder.slot!.dec(v, d, n),
        };
        this.named.set(name, forward);
        holder.slot = this.object(message, decl.fields, name);
        return forward;
      }
    }
  }

  /** Enums and unions of literals: the member's index. */
  private indexed(values: readonly (string | number | boolean)[], expected: string): Slot {
    const index = new Map<unknown, number>(values.map((v, i) => [v, i]));
    return {
      type: "uint32",
      repeated: false,
      message: false,
      enc: (v) => {
        const i = index.get(v);
        if (i === undefined) throw new Mismatch(expected, describeValue(v));
        return i;
      },
      dec: (v) => {
        const i = v as number;
        if (i >= values.length) throw new Mismatch(expected, `member #${i}`);
        return values[i];
      },
    };
  }

  private array(elementType: WireType, expected: string): Slot {
    let element = this.slot(elementType);
    if (element.repeated) element = this.present(element);
    const e = element;
    return {
      type: e.type,
      repeated: true,
      message: false,
      enc: (v, d) => {
        if (!Array.isArray(v)) throw new Mismatch(expected, describeValue(v));
        deep(d);
        const out = new Array<unknown>(v.length);
        for (let i = 0; i < v.length; i++) {
          try {
            out[i] = e.enc(v[i], d + 1);
          } catch (err) {
            throw annotate(err, `[${i}]`);
          }
        }
        return out;
      },
      dec: (v, d, none) => {
        deep(d);
        const items = v as unknown[];
        const out = new Array<unknown>(items.length);
        for (let i = 0; i < items.length; i++) {
          try {
            out[i] = e.dec(items[i], d + 1, none);
          } catch (err) {
            throw annotate(err, `[${i}]`);
          }
        }
        return out;
      },
    };
  }

  private tuple(elementTypes: readonly WireType[], minLength: number, expected: string): Slot {
    const message = this.fresh("Tup");
    const slots = elementTypes.map((t, i) => {
      const s = i >= minLength ? this.present(this.slot(t)) : this.slot(t);
      message.add(new (lib().Field)(`e${i}`, i + 1, s.type, s.repeated ? "repeated" : undefined));
      return s;
    });
    const names = slots.map((_, i) => `e${i}`);
    const empty = message.create() as unknown as Message;
    return {
      type: message.name,
      repeated: false,
      message: true,
      enc: (v, d) => {
        if (!Array.isArray(v) || v.length < minLength || v.length > slots.length) throw new Mismatch(expected, describeValue(v));
        deep(d);
        const out: Message = {};
        for (let i = 0; i < v.length; i++) out[names[i]!] = within(`[${i}]`, () => slots[i]!.enc(v[i], d + 1));
        return out;
      },
      dec: (v, d, none) => {
        deep(d);
        const msg = (v as Message | null) ?? empty;
        const out: unknown[] = [];
        for (let i = 0; i < slots.length; i++) {
          const item = msg[names[i]!];
          if (i >= minLength && item == null) break;
          out.push(within(`[${i}]`, () => slots[i]!.dec(item, d + 1, none)));
        }
        return out;
      },
    };
  }

  private map(keyType: WireType, valueType: WireType, container: "record" | "map", expected: string): Slot {
    const entry = this.fresh("Entry");
    const key = this.slot(keyType);
    const value = this.slot(valueType);
    entry.add(new (lib().Field)("k", 1, key.type, key.repeated ? "repeated" : undefined));
    entry.add(new (lib().Field)("v", 2, value.type, value.repeated ? "repeated" : undefined));
    const empty = entry.create() as unknown as Message;
    return {
      type: entry.name,
      repeated: true,
      message: false,
      enc: (v, d) => {
        let entries: [unknown, unknown][];
        if (container === "map") {
          if (!(v instanceof Map)) throw new Mismatch(expected, describeValue(v));
          entries = [...(v as Map<unknown, unknown>).entries()];
        } else {
          if (!isRecordObject(v)) throw new Mismatch(expected, describeValue(v));
          entries = Object.entries(v);
        }
        deep(d);
        return entries.map(([k, item], i) => ({
          k: within(`[${i}].key`, () => key.enc(k, d + 1)),
          v: within(`[${i}].value`, () => value.enc(item, d + 1)),
        }));
      },
      dec: (v, d, none) => {
        deep(d);
        const pairs = (v as (Message | null)[]).map((raw, i): [unknown, unknown] => {
          const m = raw ?? empty;
          return [within(`[${i}].key`, () => key.dec(m["k"], d + 1, none)), within(`[${i}].value`, () => value.dec(m["v"], d + 1, none))];
        });
        if (container === "map") return new Map(pairs);
        const record = Object.create(null) as Record<string, unknown>;
        for (const [k, item] of pairs) record[String(k)] = item;
        return record;
      },
    };
  }

  private object(message: pbt.Type, fields: readonly { readonly name: string; readonly type: WireType; readonly optional: boolean }[], expected: string): Slot {
    const slots = fields.map((field, i) => {
      const s = field.optional ? this.present(this.slot(field.type)) : this.slot(field.type);
      message.add(new (lib().Field)(`f${i}`, i + 1, s.type, s.repeated ? "repeated" : undefined));
      return s;
    });
    const names = fields.map((_, i) => `f${i}`);
    const empty = message.create() as unknown as Message;
    return {
      type: message.name,
      repeated: false,
      message: true,
      enc: (v, d) => {
        if (!isRecordObject(v)) throw new Mismatch(expected, describeValue(v));
        deep(d);
        const out: Message = {};
        for (let i = 0; i < fields.length; i++) {
          const field = fields[i]!;
          const item = v[field.name];
          if (field.optional && item === undefined) continue;
          try {
            out[names[i]!] = slots[i]!.enc(item, d + 1);
          } catch (err) {
            throw annotate(err, `.${field.name}`);
          }
        }
        return out;
      },
      dec: (v, d, none) => {
        deep(d);
        const msg = (v as Message | null) ?? empty;
        const out: Record<string, unknown> = {};
        for (let i = 0; i < fields.length; i++) {
          const field = fields[i]!;
          const item = msg[names[i]!];
          if (field.optional && item == null) continue;
          try {
            out[field.name] = slots[i]!.dec(item, d + 1, none);
          } catch (err) {
            throw annotate(err, `.${field.name}`);
          }
        }
        return out;
      },
    };
  }

  private union(members: readonly WireType[], expected: string): Slot {
    if (members.every((m) => m.kind === "literal"))
      return this.indexed(
        members.map((m) => (m as { value: string | number | boolean }).value),
        expected,
      );
    const message = this.fresh("Union");
    const slots = members.map((member, i) => {
      const s = this.present(this.slot(member));
      message.add(new (lib().Field)(`m${i}`, i + 1, s.type));
      return s;
    });
    const names = slots.map((_, i) => `m${i}`);
    message.add(new (lib().OneOf)("which", names));
    return {
      type: message.name,
      repeated: false,
      message: true,
      enc: (v, d) => {
        for (let i = 0; i < slots.length; i++) {
          let encoded: unknown;
          try {
            encoded = slots[i]!.enc(v, d + 1);
          } catch (err) {
            if (err instanceof Mismatch) continue;
            throw err;
          }
          return { [names[i]!]: encoded };
        }
        throw new Mismatch(expected, describeValue(v));
      },
      dec: (v, d, none) => {
        const msg = v as Message | null;
        if (msg) {
          for (let i = 0; i < slots.length; i++) {
            const item = msg[names[i]!];
            if (item != null) return slots[i]!.dec(item, d + 1, none);
          }
        }
        throw new Mismatch(expected, "no member");
      },
    };
  }
}

/** What a conversion's error becomes at `path`: a Mismatch as the SchemaError schema.ts would throw; others as they are. */
export function conversionError(err: unknown, path: string): unknown {
  return err instanceof Mismatch ? new SchemaError(path + err.segments.join(""), err.expected, err.actual) : err;
}
