// The native codec between rpyc-ts peers: typed calls of compiled methods as protobuf.
// For each ServiceSchema, protobufjs Types are built ONCE (wire-types.ts: one Args and one
// Result message per method, one message per object type, wrappers where protobuf needs
// presence), with converters between JavaScript values and protobufjs' message objects; a
// call then only runs protobufjs' generated encoder/decoder and those converters.
// Only methods whose parameter and result types are plain data (no function, netref or
// unknown anywhere) have a native form; every other call stays brine. A native payload
// starts with NATIVE_MAGIC, which no brine message starts with (brine messages are 3-tuples),
// so each frame says which codec it uses.

import type * as pbt from "protobufjs/light.js";
import type { WireInt } from "../netref/id-pack.js";
import { checkArity, type MethodSchema, type ServiceSchema } from "./schema.js";
import { abandonFrame, finishFrame, startFrame } from "./native-frame.js";
import { Builder, conversionError, lib, NotNative, type Message, type Slot } from "./wire-types.js";
import { sha256Hex } from "../platform/node.js";

export { loadNativeCodec } from "./wire-types.js";

/** First varint of every native payload (bytes 0xfe 0x01); brine messages start with 0x12. */
export const NATIVE_MAGIC = 0xfe;
/** Version of the native codec, sent in the offer (2: requests name their class by its numeric id, not by fingerprint). */
export const NATIVE_VERSION = 2;
export const NATIVE_REQUEST = 1;
export const NATIVE_REPLY = 2;
/** Promise pipelining: "keep the result of my request `seq` for `count` pipelined requests". */
export const NATIVE_HOLD = 3;
/** Promise pipelining: a brine request whose target (args[0]) is the held result of request `base`. */
export const NATIVE_PIPELINE = 4;
/** Promise pipelining: one announced pipelined request on the held result `seq` will not come. */
export const NATIVE_DROP = 5;

/** One compiled method's native form. */
export class NativeMethod {
  constructor(
    readonly name: string,
    readonly index: number,
    readonly schema: MethodSchema,
    private readonly args: pbt.Type,
    private readonly params: readonly Slot[],
    private readonly rest: Slot | undefined,
    private readonly result: pbt.Type,
    private readonly returns: Slot,
  ) {
    this.required = schema.params.filter((p) => !p.optional && !p.rest).length;
    this.keys = params.map((_, i) => `p${i}`);
    this.argPaths = params.map((_, i) => `${name}() argument '${schema.params[i]!.name}'`);
    this.resultPath = `${name}() result`;
  }

  /** Parameters a call must pass. */
  private readonly required: number;
  /** Per fixed parameter: its field in the Args message, and the path its conversion errors name (built once, not per call). */
  private readonly keys: readonly string[];
  private readonly argPaths: readonly string[];
  private readonly resultPath: string;

  private restPath(i: number): string {
    return `${this.name}() argument '${this.schema.params[this.params.length]!.name}[${i}]'`;
  }

  /** Whether this many arguments can go native (else the brine path reports the error the server gives). */
  accepts(argc: number): boolean {
    return argc >= this.required && (this.rest !== undefined || argc <= this.params.length);
  }

  /** Checks and encodes call arguments into `writer` (SchemaError naming the argument). */
  encodeArgs(args: readonly unknown[], writer: pbt.Writer): void {
    const out: Message = {};
    const fixed = this.params.length;
    let i = 0;
    try {
      for (; i < args.length && i < fixed; i++) {
        const value = args[i];
        if (value === undefined && this.schema.params[i]!.optional) continue;
        out[this.keys[i]!] = this.params[i]!.enc(value, 0);
      }
    } catch (err) {
      throw conversionError(err, this.argPaths[i]!);
    }
    if (this.rest && args.length > fixed) {
      const rest = this.rest;
      const items: unknown[] = [];
      try {
        for (i = fixed; i < args.length; i++) items.push(rest.enc(args[i], 0));
      } catch (err) {
        throw conversionError(err, this.restPath(i - fixed));
      }
      out["rest"] = items;
    }
    this.args.encode(out, writer);
  }

  /** Decodes and checks the arguments of a native request (what decodeArguments returns for brine). */
  decodeArgs(reader: pbt.Reader, argc: number): unknown[] {
    checkArity(this.schema, argc, this.name);
    const msg = this.args.decode(reader) as unknown as Message;
    const out: unknown[] = [];
    const fixed = this.params.length;
    let i = 0;
    try {
      for (; i < argc && i < fixed; i++) {
        const item = msg[this.keys[i]!];
        out.push(item == null && this.schema.params[i]!.optional ? undefined : this.params[i]!.dec(item, 0, undefined));
      }
    } catch (err) {
      throw conversionError(err, this.argPaths[i]!);
    }
    if (this.rest) {
      const rest = this.rest;
      const items = (msg["rest"] as unknown[] | undefined) ?? [];
      if (items.length !== Math.max(0, argc - fixed)) throw new TypeError(`${this.name}(): argument count does not match the arguments sent`);
      try {
        for (i = 0; i < items.length; i++) out.push(rest.dec(items[i], 0, undefined));
      } catch (err) {
        throw conversionError(err, this.restPath(i));
      }
    }
    return out;
  }

  encodeResult(value: unknown, writer: pbt.Writer): void {
    let encoded: unknown;
    try {
      encoded = this.returns.enc(value, 0);
    } catch (err) {
      throw conversionError(err, this.resultPath);
    }
    this.result.encode({ r: encoded }, writer);
  }

  /** The result as the client sees it (None/undefined as null, like decodeValue for results). */
  decodeResult(reader: pbt.Reader): unknown {
    const msg = this.result.decode(reader) as unknown as Message;
    try {
      return this.returns.dec(msg["r"] ?? (this.returns.repeated ? [] : undefined), 0, null);
    } catch (err) {
      throw conversionError(err, this.resultPath);
    }
  }
}

/** Every method of a schema with a native form, built once per schema. */
export class NativeSchema {
  readonly fingerprint: string;
  /** Sorted method names: a method's index on the wire (both sides checked the fingerprint). */
  private readonly byIndex: (NativeMethod | undefined)[] = [];
  private readonly byName = new Map<string, NativeMethod>();

  constructor(readonly schema: ServiceSchema) {
    this.fingerprint = schemaFingerprint(schema);
    const builder = new Builder(schema.types);
    const names = Object.keys(schema.methods).sort();
    const built: {
      name: string;
      index: number;
      method: MethodSchema;
      params: Slot[];
      rest: Slot | undefined;
      args: pbt.Type;
      result: pbt.Type;
      returns: Slot;
    }[] = [];
    names.forEach((name, index) => {
      const method = schema.methods[name]!;
      try {
        const args = new (lib().Type)(`Args${index}`);
        const params: Slot[] = [];
        let rest: Slot | undefined;
        method.params.forEach((param, i) => {
          if (param.rest) {
            if (param.type.kind !== "array") throw new NotNative("rest parameter without an array type");
            let element = builder.slot(param.type.element);
            if (element.repeated) element = builder.present(element);
            rest = element;
            args.add(new (lib().Field)("rest", i + 1, element.type, "repeated"));
          } else {
            const s = param.optional ? builder.present(builder.slot(param.type)) : builder.slot(param.type);
            params.push(s);
            args.add(new (lib().Field)(`p${i}`, i + 1, s.type, s.repeated ? "repeated" : undefined));
          }
        });
        const returns = builder.slot(method.returns);
        const result = new (lib().Type)(`Result${index}`).add(new (lib().Field)("r", 1, returns.type, returns.repeated ? "repeated" : undefined));
        built.push({ name, index, method, params, rest, args, result, returns });
      } catch (err) {
        if (!(err instanceof NotNative)) throw err;
      }
    });
    for (const b of built) builder.root.add(b.args).add(b.result);
    builder.root.resolveAll();
    for (const b of built) {
      const native = new NativeMethod(b.name, b.index, b.method, b.args, b.params, b.rest, b.result, b.returns);
      this.byIndex[b.index] = native;
      this.byName.set(b.name, native);
    }
  }

  method(name: string): NativeMethod | undefined {
    return this.byName.get(name);
  }

  methodAt(index: number): NativeMethod | undefined {
    return this.byIndex[index];
  }

  /** Names of the methods that go native (diagnostics, tests). */
  get nativeMethods(): string[] {
    return [...this.byName.keys()];
  }
}

const nativeSchemas = new WeakMap<ServiceSchema, NativeSchema>();

/** The native form of a schema, built on first use and kept for the schema's life. */
export function nativeSchema(schema: ServiceSchema): NativeSchema {
  let native = nativeSchemas.get(schema);
  if (!native) nativeSchemas.set(schema, (native = new NativeSchema(schema)));
  return native;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

const fingerprints = new WeakMap<ServiceSchema, string>();

/** A short hash of the schema's content: two peers go native on a class only when theirs agree. */
export function schemaFingerprint(schema: ServiceSchema): string {
  let fp = fingerprints.get(schema);
  if (fp === undefined) {
    fp = sha256Hex(JSON.stringify(canonical(schema))).slice(0, 16);
    fingerprints.set(schema, fp);
  }
  return fp;
}

// ---- envelopes ------------------------------------------------------------------------------

/** Header of a native request. */
export interface NativeRequestHeader {
  readonly seq: number;
  /** The class's index in the list of classes the serving peer announced at negotiation. */
  readonly classId: number;
  readonly method: number;
  readonly argc: number;
  readonly target: readonly [string, number, number];
}

// Every encoder returns the frame's chunks, ready to write (see native-frame.ts); `compress`
// is the connection's `compress` setting.

/** Encodes a native request: magic, kind, header fields (seq, class id, method, argc, target id_pack), then the Args message. */
export function encodeNativeRequest(
  seq: number,
  classId: number,
  method: NativeMethod,
  target: readonly [string, WireInt, WireInt],
  args: readonly unknown[],
  compress: boolean,
): Uint8Array[] {
  const writer = startFrame();
  try {
    writer.uint32(NATIVE_MAGIC).uint32(NATIVE_REQUEST).double(seq).uint32(classId).uint32(method.index).uint32(args.length);
    writer.string(target[0]).double(Number(target[1])).double(Number(target[2]));
    method.encodeArgs(args, writer);
  } catch (err) {
    abandonFrame(writer);
    throw err;
  }
  return finishFrame(writer, compress);
}

export function encodeNativeReply(seq: number, method: NativeMethod, value: unknown, compress: boolean): Uint8Array[] {
  const writer = startFrame();
  try {
    writer.uint32(NATIVE_MAGIC).uint32(NATIVE_REPLY).double(seq).uint32(method.index);
    method.encodeResult(value, writer);
  } catch (err) {
    abandonFrame(writer);
    throw err;
  }
  return finishFrame(writer, compress);
}

/** True when a payload is a native one (else brine). */
export function isNativePayload(payload: Uint8Array): boolean {
  return payload.length >= 2 && payload[0] === NATIVE_MAGIC && payload[1] === 0x01;
}

/** A hold: the peer keeps the result of request `seq` until `count` pipelined requests (or drops) used it. */
export function encodeNativeHold(seq: number, count: number): Uint8Array[] {
  const writer = startFrame();
  writer.uint32(NATIVE_MAGIC).uint32(NATIVE_HOLD).double(seq).uint32(count);
  return finishFrame(writer, false);
}

/** A drop: one of the pipelined requests announced by a hold of `seq` was given up. */
export function encodeNativeDrop(seq: number): Uint8Array[] {
  const writer = startFrame();
  writer.uint32(NATIVE_MAGIC).uint32(NATIVE_DROP).double(seq);
  return finishFrame(writer, false);
}

/** A pipelined request: its own seq, the seq whose held result is its target, and the brine `(handler, args)` body. */
export function encodeNativePipeline(seq: number, base: number, body: Uint8Array, compress: boolean): Uint8Array[] {
  const writer = startFrame();
  writer.uint32(NATIVE_MAGIC).uint32(NATIVE_PIPELINE).double(seq).double(base).bytes(body);
  return finishFrame(writer, compress);
}

export type NativeFrame =
  | { readonly kind: typeof NATIVE_REQUEST; readonly header: NativeRequestHeader; readonly reader: pbt.Reader }
  | { readonly kind: typeof NATIVE_REPLY; readonly seq: number; readonly method: number; readonly reader: pbt.Reader }
  | { readonly kind: typeof NATIVE_HOLD; readonly seq: number; readonly count: number }
  | { readonly kind: typeof NATIVE_DROP; readonly seq: number }
  | { readonly kind: typeof NATIVE_PIPELINE; readonly seq: number; readonly base: number; readonly body: Uint8Array };

/** Reads a native payload's header; the reader is left at the message body. Throws on garbage. */
export function readNativeFrame(payload: Uint8Array): NativeFrame {
  const reader = lib().Reader.create(payload);
  if (reader.uint32() !== NATIVE_MAGIC) throw new TypeError("not a native payload");
  const kind = reader.uint32();
  const seq = reader.double();
  if (!Number.isSafeInteger(seq) || seq < 0) throw new TypeError("native payload: bad seq");
  if (kind === NATIVE_REQUEST) {
    const classId = reader.uint32();
    const method = reader.uint32();
    const argc = reader.uint32();
    const target: [string, number, number] = [reader.string(), reader.double(), reader.double()];
    return { kind, header: { seq, classId, method, argc, target }, reader };
  }
  if (kind === NATIVE_REPLY) return { kind, seq, method: reader.uint32(), reader };
  if (kind === NATIVE_HOLD) return { kind, seq, count: reader.uint32() };
  if (kind === NATIVE_DROP) return { kind, seq };
  if (kind === NATIVE_PIPELINE) {
    const base = reader.double();
    if (!Number.isSafeInteger(base) || base < 0) throw new TypeError("native payload: bad pipelined base seq");
    return { kind, seq, base, body: reader.bytes() };
  }
  throw new TypeError(`native payload: unknown kind ${kind}`);
}

export type NativeReader = pbt.Reader;
