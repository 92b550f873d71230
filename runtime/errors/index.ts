// Errors. rpyc-errors.ts: what rpyc-ts itself raises, each with a stable `code` and an
// `isXxx` guard (a closed connection, a timeout, a protocol violation, a limit reached, a
// refused authentication, discovery failures, a
// connection that cannot be made, a port already in use). python-exceptions.ts: Python's exception
// classes, which remote exceptions arrive as (`AttributeError`, `KeyError`, ...) and which
// services may throw to reach a Python peer as that builtin.

export {
  PythonException,
  AttributeError,
  KeyError,
  IndexError,
  ValueError,
  NotImplementedError,
  RuntimeError,
  ZeroDivisionError,
  StopIteration,
  isRemoteException,
} from "./python-exceptions.js";
export {
  RpycError,
  ProtocolError,
  FrameTooLargeError,
  ConnectionClosedError,
  AsyncResultTimeout,
  NetrefReleasedError,
  PingError,
  LimitExceededError,
  AuthenticationError,
  DiscoveryError,
  ForbiddenError,
  ConnectError,
  ListenError,
  isRpycError,
  isProtocolError,
  isFrameTooLargeError,
  isNetrefReleasedError,
  isPingError,
  isConnectionClosedError,
  isTimeoutError,
  isLimitExceededError,
  isAuthenticationError,
  isDiscoveryError,
  isForbiddenError,
  isConnectError,
  isListenError,
  type RpycErrorCode,
} from "./rpyc-errors.js";
