// RPyC 5.3 protocol constants (rpyc/core/consts.py), with RPyC's names so code reads
// side by side with the Python source.

export const MSG_REQUEST = 1;
export const MSG_REPLY = 2;
export const MSG_EXCEPTION = 3;

export const LABEL_VALUE = 1;
export const LABEL_TUPLE = 2;
export const LABEL_LOCAL_REF = 3;
export const LABEL_REMOTE_REF = 4;

export const HANDLE_PING = 1;
export const HANDLE_CLOSE = 2;
export const HANDLE_GETROOT = 3;
export const HANDLE_GETATTR = 4;
export const HANDLE_DELATTR = 5;
export const HANDLE_SETATTR = 6;
export const HANDLE_CALL = 7;
export const HANDLE_CALLATTR = 8;
export const HANDLE_REPR = 9;
export const HANDLE_STR = 10;
export const HANDLE_CMP = 11;
export const HANDLE_HASH = 12;
export const HANDLE_DIR = 13;
export const HANDLE_PICKLE = 14;
export const HANDLE_DEL = 15;
export const HANDLE_INSPECT = 16;
export const HANDLE_BUFFITER = 17;
export const HANDLE_OLDSLICING = 18;
export const HANDLE_CTXEXIT = 19;
export const HANDLE_INSTANCECHECK = 20;

/** Handler codes by name, for logs and error messages. */
export const HANDLER_NAMES: Readonly<Record<number, string>> = {
  [HANDLE_PING]: "HANDLE_PING",
  [HANDLE_CLOSE]: "HANDLE_CLOSE",
  [HANDLE_GETROOT]: "HANDLE_GETROOT",
  [HANDLE_GETATTR]: "HANDLE_GETATTR",
  [HANDLE_DELATTR]: "HANDLE_DELATTR",
  [HANDLE_SETATTR]: "HANDLE_SETATTR",
  [HANDLE_CALL]: "HANDLE_CALL",
  [HANDLE_CALLATTR]: "HANDLE_CALLATTR",
  [HANDLE_REPR]: "HANDLE_REPR",
  [HANDLE_STR]: "HANDLE_STR",
  [HANDLE_CMP]: "HANDLE_CMP",
  [HANDLE_HASH]: "HANDLE_HASH",
  [HANDLE_DIR]: "HANDLE_DIR",
  [HANDLE_PICKLE]: "HANDLE_PICKLE",
  [HANDLE_DEL]: "HANDLE_DEL",
  [HANDLE_INSPECT]: "HANDLE_INSPECT",
  [HANDLE_BUFFITER]: "HANDLE_BUFFITER",
  [HANDLE_OLDSLICING]: "HANDLE_OLDSLICING",
  [HANDLE_CTXEXIT]: "HANDLE_CTXEXIT",
  [HANDLE_INSTANCECHECK]: "HANDLE_INSTANCECHECK",
};

/** An exception reply carrying this bare int means StopIteration. */
export const EXC_STOP_ITERATION = 1;

/** The RPyC version we speak; sent as `_remote_version` in exception replies. */
export const RPYC_PROTOCOL_VERSION = "5.3.0";

/** Default data of `conn.ping()`, as in RPyC. */
export const PING_DEFAULT_DATA = "abcdefghijklmnopqrstuvwxyz".repeat(20);
