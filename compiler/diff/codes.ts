// The rules of `rpyc-gen diff` as data: every code it reports, its fixed severity, and when it
// fires. "Breaking" means a client built from the OLD model fails or misreads a NEW server.

/** `breaking`: clients of the old stub fail or misread values. `safe`: they keep working. */
export type DiffSeverity = "breaking" | "safe";

interface Rule {
  readonly severity: DiffSeverity;
  /** When the rule fires, in one line (the README's rules table is this text). */
  readonly when: string;
}

/** Every code diffModels reports; a code always has the same severity, so CI can filter on either. */
export const DIFF_RULES = {
  RPYC_DIFF_SERVICE_REMOVED: {
    severity: "breaking",
    when: "a service of the old model has no counterpart (by class name, formal name or alias) in the new one",
  },
  RPYC_DIFF_SERVICE_ADDED: { severity: "safe", when: "a service is new" },
  RPYC_DIFF_SERVICE_CLASS_RENAMED: {
    severity: "breaking",
    when: "a service kept its name but its class was renamed: stubs find a netref's schema by class name (rpyc_ts.<class> on the wire)",
  },
  RPYC_DIFF_SERVICE_NAME_CHANGED: {
    severity: "breaking",
    when: "the formal name (first alias) changed: get_service_name() answers differently, connectBy<Name>() asks the registry for the old one",
  },
  RPYC_DIFF_ALIAS_REMOVED: { severity: "breaking", when: "an alias is gone: clients discovering the service by it find nothing" },
  RPYC_DIFF_ALIAS_ADDED: { severity: "safe", when: "a new alias" },
  RPYC_DIFF_MEMBER_REMOVED: {
    severity: "breaking",
    when: "an exposed method or attribute is gone (a rename shows as removed + added; the message says when the added one has the same signature)",
  },
  RPYC_DIFF_MEMBER_ADDED: { severity: "safe", when: "a new exposed method or attribute" },
  RPYC_DIFF_MEMBER_KIND_CHANGED: { severity: "breaking", when: "a method became an attribute or an attribute a method" },
  RPYC_DIFF_ATTRIBUTE_READONLY: { severity: "breaking", when: "a writable attribute became readonly" },
  RPYC_DIFF_ATTRIBUTE_WRITABLE: { severity: "safe", when: "a readonly attribute became writable" },
  RPYC_DIFF_PARAM_ADDED_REQUIRED: { severity: "breaking", when: "a parameter without a default was added at the end of something the client calls" },
  RPYC_DIFF_PARAM_ADDED: {
    severity: "safe",
    when: "an optional (or rest) parameter was added at the end, or a callback the client implements is passed one more argument",
  },
  RPYC_DIFF_PARAM_INSERTED: { severity: "breaking", when: "a parameter was added before existing ones: positional arguments shift" },
  RPYC_DIFF_PARAM_REMOVED: {
    severity: "breaking",
    when: "a parameter is gone: callers still pass it (or later arguments shift), or a callback the client implements no longer gets an argument it requires",
  },
  RPYC_DIFF_PARAM_REORDERED: { severity: "breaking", when: "parameters kept their names but changed order: positional arguments land in the wrong place" },
  RPYC_DIFF_PARAM_RENAMED: { severity: "safe", when: "a parameter was renamed in place (stubs call positionally; keyword callers must use the new name)" },
  RPYC_DIFF_PARAM_REQUIRED: { severity: "breaking", when: "an optional parameter became required" },
  RPYC_DIFF_PARAM_OPTIONAL: { severity: "safe", when: "a required parameter became optional" },
  RPYC_DIFF_PARAM_MAY_BE_OMITTED: {
    severity: "breaking",
    when: "the new side may omit an argument of a callback the client implements, which the old callback requires",
  },
  RPYC_DIFF_PARAM_NO_LONGER_VARIADIC: { severity: "breaking", when: "a rest parameter became a single one: callers passing several arguments fail" },
  RPYC_DIFF_PARAM_DEFAULT_CHANGED: {
    severity: "safe",
    when: "a parameter's default value changed (calls still work; callers that omit it get other behaviour)",
  },
  RPYC_DIFF_PARAM_TYPE_WIDENED: { severity: "safe", when: "a parameter accepts more values than before" },
  RPYC_DIFF_RESULT_TYPE_NARROWED: { severity: "safe", when: "a result or readonly attribute produces fewer kinds of values than before" },
  RPYC_DIFF_TYPE_NARROWED: {
    severity: "breaking",
    when: "a value flowing to the new side (an argument, a callback's result, a write to an attribute, an item written into a netref's container) may be one the new type no longer accepts",
  },
  RPYC_DIFF_TYPE_WIDENED: {
    severity: "breaking",
    when: "a value flowing to old clients (a result, an attribute read, a callback's argument, an item read from a netref's container) may be one the old type does not expect",
  },
  RPYC_DIFF_BECAME_NETREF: { severity: "breaking", when: "a by-value type became a netref or function (a remote object; a frozenset is by value)" },
  RPYC_DIFF_BECAME_VALUE: { severity: "breaking", when: "a netref or function (a remote object) became a by-value type" },
  RPYC_DIFF_FIELD_ADDED: {
    severity: "breaking",
    when: "an object type gained a field, optional or not: objects travel as tuples of every field and the receiver checks the length",
  },
  RPYC_DIFF_FIELD_REMOVED: { severity: "breaking", when: "an object type lost a field (same reason: the tuple length changes)" },
  RPYC_DIFF_FIELD_REORDERED: { severity: "breaking", when: "an object type's fields changed order: fields travel by position" },
  RPYC_DIFF_FIELD_RENAMED: { severity: "safe", when: "a field was renamed in place (fields travel by position; each side keeps its own names)" },
  RPYC_DIFF_ENUM_MEMBER_REMOVED: { severity: "breaking", when: "an enum value old clients may send is gone (the enum narrowed in a parameter)" },
  RPYC_DIFF_ENUM_MEMBER_ADDED: { severity: "breaking", when: "an enum value old clients may receive is new (the enum widened in a result)" },
  RPYC_DIFF_KEY_ADDED: {
    severity: "safe",
    when: "a TypedDict gained a key old clients need not know: any key where they receive it, an optional (NotRequired) key where they send it",
  },
  RPYC_DIFF_KEY_ADDED_REQUIRED: { severity: "breaking", when: "a TypedDict old clients send gained a required key: they do not send it" },
  RPYC_DIFF_KEY_REMOVED: { severity: "breaking", when: "a TypedDict old clients receive lost a key: they read it" },
  RPYC_DIFF_KEY_NO_LONGER_READ: {
    severity: "safe",
    when: "a TypedDict old clients send lost a key: they still send it, and Python accepts extra keys (a TypedDict is a plain dict)",
  },
  RPYC_DIFF_KEY_REQUIRED: { severity: "breaking", when: "an optional key of a TypedDict old clients send became required: they may leave it out" },
  RPYC_DIFF_KEY_OPTIONAL: { severity: "safe", when: "a required key of a TypedDict old clients send became optional" },
  RPYC_DIFF_KEY_MAY_BE_MISSING: {
    severity: "breaking",
    when: "a required key of a TypedDict old clients receive became optional: they expect it to be present",
  },
  RPYC_DIFF_KEYWORD_ADDED: { severity: "safe", when: "a keyword-only parameter with a default was added (old callers leave it out)" },
  RPYC_DIFF_KEYWORD_ADDED_REQUIRED: { severity: "breaking", when: "a keyword-only parameter without a default was added: old callers do not pass it" },
  RPYC_DIFF_KEYWORD_REMOVED: {
    severity: "breaking",
    when: "a keyword-only parameter is gone and no **kwargs takes it: old callers passing it get a TypeError",
  },
  RPYC_DIFF_KEYWORD_TO_KWARGS: {
    severity: "safe",
    when: "a keyword-only parameter is gone, but the new **kwargs takes it (its type is checked against the **kwargs type)",
  },
  RPYC_DIFF_KEYWORD_REQUIRED: { severity: "breaking", when: "an optional keyword-only parameter became required" },
  RPYC_DIFF_KEYWORD_OPTIONAL: { severity: "safe", when: "a required keyword-only parameter became optional" },
  RPYC_DIFF_KWARGS_REMOVED: { severity: "breaking", when: "**kwargs is gone: old callers may pass keywords the method no longer takes" },
  RPYC_DIFF_KWARGS_ADDED: { severity: "safe", when: "the method now takes **kwargs" },
} as const satisfies Record<string, Rule>;

export type DiffCode = keyof typeof DIFF_RULES;
