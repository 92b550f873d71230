// Boxing (rpyc/core/protocol.py _box/_unbox): values go by value when brine can carry them,
// everything else by reference. Our objects the peer holds are in the LocalObjectTable;
// the peer's objects we hold are netrefs, kept here by id_pack (weakly: the garbage
// collector decides their lifetime) and given back with one HANDLE_DEL each when released
// or collected; `for await` over them. Limits: maxLocalObjects (what we send) and
// maxNetrefs (what we receive).

import { MAX_DUMP_DEPTH, dumpable } from "../wire/brine.js";
import * as C from "../wire/consts.js";
import { LimitExceededError, ProtocolError } from "../errors/rpyc-errors.js";
import { ValueError } from "../errors/python-exceptions.js";
import { boundMethods } from "../serve/access.js";
import { freshInstanceId, idPackKey, isIdPack, localIdPack, type IdPack } from "../netref/id-pack.js";
import { createNetref } from "../netref/netref.js";
import { netrefState, releaseState, type NetrefOwner, type NetrefState } from "../netref/state.js";
import { isPromiseLike } from "../netref/brand.js";
import type { LocalObjectTable } from "../netref/object-table.js";
import type { ProtocolConfig } from "./config.js";

/** A boxed value: (label, value). */
export type Boxed = readonly [number, unknown];

/** What boxing needs of its connection (the netrefs' owner). */
export interface BoxingHost extends NetrefOwner {
  readonly config: ProtocolConfig;
  readonly objects: LocalObjectTable;
  readonly isClosed: boolean;
  /** A request whose reply is ignored (DEL), with already-boxed args. */
  sendAsync(handler: number, boxed: Boxed): void;
  /** The peer broke the protocol: close. */
  fatal(err: unknown): void;
}

/** LABEL_REMOTE_REF boxes in a received boxed value (nesting is bounded by brine's maxDepth). */
export function countRemoteRefs(boxed: unknown): number {
  if (!Array.isArray(boxed) || boxed.length !== 2) return 0;
  const label: unknown = boxed[0];
  if (label === C.LABEL_REMOTE_REF) return 1;
  const items: unknown = boxed[1];
  if (label !== C.LABEL_TUPLE || !Array.isArray(items)) return 0;
  let count = 0;
  for (const item of items) count += countRemoteRefs(item);
  return count;
}

/** An id_pack as received: its name_pack may come as bytes. */
function received(raw: IdPack): IdPack {
  const name = typeof raw[0] === "string" ? raw[0] : new TextDecoder().decode(raw[0] as Uint8Array);
  return [name, raw[1], raw[2]];
}

export class Boxing {
  private readonly config: ProtocolConfig;
  private readonly objects: LocalObjectTable;
  /** Live netrefs by id_pack key; weak, so the garbage collector decides their lifetime. */
  private readonly proxies = new Map<string, WeakRef<object>>();
  private readonly finalizer = new FinalizationRegistry<NetrefState>((state) => this.netrefCollected(state));
  /** id_packs for netrefs of other connections that we re-export to this peer. */
  private readonly forwarded = new WeakMap<object, IdPack>();
  /** `for await` over any netref of this connection (one function for all of them). */
  private readonly iterate: (ref: unknown) => AsyncGenerator<unknown>;

  constructor(private readonly host: BoxingHost) {
    this.config = host.config;
    this.objects = host.objects;
    this.iterate = (ref) => this.iterateRef(ref);
  }

  /** `for await (const x of netref)`: `__iter__`, then HANDLE_BUFFITER in growing chunks. */
  private async *iterateRef(ref: unknown): AsyncGenerator<unknown> {
    const iterator = await this.host.request(C.HANDLE_CALLATTR, [ref, "__iter__", [], []]);
    const state = netrefState(iterator);
    if (!state) {
      yield* iterator as Iterable<unknown>;
      return;
    }
    try {
      for (let chunk = 10; ; chunk = Math.min(chunk * 2, 1000)) {
        const items = (await state.owner.request(C.HANDLE_BUFFITER, [iterator, chunk])) as unknown[];
        if (items.length === 0) return;
        yield* items;
      }
    } finally {
      releaseState(state);
    }
  }

  /** Boxes a value for the wire: by value when brine can carry it, else by reference. */
  box(obj: unknown, depth = 0): Boxed {
    if (dumpable(obj)) return [C.LABEL_VALUE, obj];
    if (Array.isArray(obj)) {
      if (depth >= MAX_DUMP_DEPTH) throw new TypeError(`cannot send a tuple nested deeper than ${MAX_DUMP_DEPTH} levels (or cyclic)`);
      return [C.LABEL_TUPLE, obj.map((item) => this.box(item, depth + 1))];
    }
    if ((typeof obj !== "object" && typeof obj !== "function") || obj === null) {
      throw new TypeError(`cannot send a ${typeof obj} to the peer`);
    }
    const state = netrefState(obj);
    if (state?.owner === this.host) {
      if (state.released) throw new ValueError("cannot send a released netref");
      if (state.idPack === null) throw new ValueError("cannot send the root netref before it is fetched (await conn.getRoot())");
      return [C.LABEL_LOCAL_REF, state.idPack];
    }
    if (!state && isPromiseLike(obj)) {
      throw new TypeError("cannot send a Promise or an unawaited attribute to the peer; await it first");
    }
    const idPack = state ? this.forwardedIdPack(obj, state) : localIdPack(obj, boundMethods.has(obj as Function));
    if (!this.objects.add(obj, idPack, this.config.maxLocalObjects)) {
      const limit = this.config.maxLocalObjects;
      throw new LimitExceededError(
        "maxLocalObjects",
        limit,
        `the peer already holds ${limit} objects of ${this.host.connid} (maxLocalObjects): cannot send another by reference until it releases some`,
      );
    }
    return [C.LABEL_REMOTE_REF, idPack];
  }

  /** A netref of another connection re-exported here gets an id of ours (ids of two peers may collide). */
  private forwardedIdPack(proxy: object, state: NetrefState): IdPack {
    let pack = this.forwarded.get(proxy);
    if (!pack) {
      if (state.idPack === null) throw new ValueError("cannot forward a root netref before it is fetched");
      const classId = freshInstanceId();
      pack = [state.idPack[0], classId, state.idPack[2] === 0 ? 0 : freshInstanceId()];
      this.forwarded.set(proxy, pack);
    }
    return pack;
  }

  /** The id_pack under which `obj` is (or would be) sent to the peer. */
  idPackOf(obj: object): IdPack {
    const state = netrefState(obj);
    if (state) return this.forwarded.get(obj) ?? this.forwardedIdPack(obj, state);
    return localIdPack(obj, boundMethods.has(obj as Function));
  }

  unbox(boxed: unknown): unknown {
    if (!Array.isArray(boxed) || boxed.length !== 2) throw new ValueError("invalid boxed value (expected a (label, value) pair)");
    const [label, value] = boxed as [unknown, unknown];
    switch (label) {
      case C.LABEL_VALUE:
        return value;
      case C.LABEL_TUPLE:
        if (!Array.isArray(value)) throw new ValueError("LABEL_TUPLE needs a tuple");
        return value.map((item: unknown) => this.unbox(item));
      case C.LABEL_LOCAL_REF:
        if (!isIdPack(value)) throw new ValueError("LABEL_LOCAL_REF needs an id_pack");
        return this.objects.get(value);
      case C.LABEL_REMOTE_REF:
        if (!isIdPack(value)) throw new ValueError("LABEL_REMOTE_REF needs an id_pack");
        return this.netrefFor(value);
      default:
        throw new ValueError(`invalid label ${String(label)}`);
    }
  }

  /**
   * Unboxes a received message's value, after checking that its references fit in
   * maxNetrefs: a message that would pass the limit makes no netref at all (see config).
   */
  unboxMessage(boxed: unknown): unknown {
    if (Array.isArray(boxed) && boxed[0] !== C.LABEL_VALUE) {
      const refs = countRemoteRefs(boxed);
      if (refs > 0 && this.proxies.size + refs > this.config.maxNetrefs) this.refuseReferences(boxed, refs);
    }
    return this.unbox(boxed);
  }

  /** A message whose `refs` references would pass maxNetrefs: gives them back and throws (or drops a peer that sent more than the limit at once). */
  private refuseReferences(boxed: unknown, refs: number): void {
    const limit = this.config.maxNetrefs;
    if (refs > limit) {
      const err = new ProtocolError(`a message carries ${refs} references, more than maxNetrefs (${limit}) allows on one connection`);
      this.host.fatal(err);
      throw err;
    }
    // Netrefs already collected whose finalizer has not run yet do not count.
    for (const [key, ref] of this.proxies) if (ref.deref() === undefined) this.proxies.delete(key);
    if (this.proxies.size + refs <= limit) return;
    this.releaseOrphan(boxed);
    throw new LimitExceededError(
      "maxNetrefs",
      limit,
      `${this.proxies.size} netrefs are live on ${this.host.connid} and a message brought ${refs} more, past maxNetrefs (${limit}); its references were given back`,
    );
  }

  /** A new netref of this connection (the root, lazily fetched, has no id_pack yet). */
  createNetref(state: NetrefState): unknown {
    return createNetref(state, this.iterate);
  }

  /** The netref for a received id_pack: the live one (refcount + 1) or a new one. */
  private netrefFor(raw: IdPack): unknown {
    const idPack = received(raw);
    const key = idPackKey(idPack);
    const cached = this.proxies.get(key)?.deref();
    if (cached) {
      const state = netrefState(cached)!;
      if (!state.released) {
        state.refcount += 1;
        return cached;
      }
    }
    const state: NetrefState = { owner: this.host, idPack, refcount: 1, released: false };
    const proxy = createNetref(state, this.iterate) as object;
    this.proxies.set(key, new WeakRef(proxy));
    this.finalizer.register(proxy, state, state);
    return proxy;
  }

  /** A netref was released (release(), `using`, the end of `for await`): DEL it now. */
  netrefReleased(state: NetrefState): void {
    this.finalizer.unregister(state);
    if (state.idPack === null) return;
    const key = idPackKey(state.idPack);
    const cached = this.proxies.get(key)?.deref();
    if (cached === undefined || netrefState(cached) === state) this.proxies.delete(key);
    this.sendDel(state);
  }

  private netrefCollected(state: NetrefState): void {
    if (state.released || state.idPack === null) return;
    state.released = true;
    const key = idPackKey(state.idPack);
    if (this.proxies.get(key)?.deref() === undefined) this.proxies.delete(key);
    this.sendDel(state);
  }

  /** One async HANDLE_DEL(id_pack, refcount); the reply is ignored, as in RPyC. */
  private sendDel(state: NetrefState): void {
    if (this.host.isClosed || state.refcount === 0 || state.idPack === null) return;
    this.host.sendAsync(C.HANDLE_DEL, [
      C.LABEL_TUPLE,
      [
        [C.LABEL_LOCAL_REF, state.idPack],
        [C.LABEL_VALUE, state.refcount],
      ],
    ]);
  }

  /** One DEL per REMOTE_REF id_pack in a reply nobody waits for, without making netrefs. */
  releaseOrphan(boxed: unknown): void {
    if (!Array.isArray(boxed) || boxed[0] === C.LABEL_VALUE) return;
    const counts = new Map<string, [IdPack, number]>();
    const walk = (item: unknown): void => {
      if (!Array.isArray(item) || item.length !== 2) return;
      const [label, value] = item as [unknown, unknown];
      if (label === C.LABEL_TUPLE && Array.isArray(value)) {
        for (const element of value) walk(element);
      } else if (label === C.LABEL_REMOTE_REF && isIdPack(value)) {
        const idPack = received(value);
        const key = idPackKey(idPack);
        const entry = counts.get(key);
        if (entry) entry[1]++;
        else counts.set(key, [idPack, 1]);
      }
    };
    walk(boxed);
    if (this.host.isClosed) return;
    for (const [idPack, count] of counts.values()) {
      this.host.sendAsync(C.HANDLE_DEL, [
        C.LABEL_TUPLE,
        [
          [C.LABEL_LOCAL_REF, idPack],
          [C.LABEL_VALUE, count],
        ],
      ]);
    }
  }

  /** Number of live netrefs to the peer's objects. */
  get netrefCount(): number {
    let live = 0;
    for (const ref of this.proxies.values()) if (ref.deref()) live++;
    return live;
  }

  /** On close: netrefs still alive send nothing when collected. */
  clear(): void {
    for (const ref of this.proxies.values()) {
      const proxy = ref.deref();
      if (proxy) this.finalizer.unregister(netrefState(proxy)!);
    }
    this.proxies.clear();
  }
}
