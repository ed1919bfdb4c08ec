"""TLS for a node (Redis's tls-* configs) with Python's `ssl` module, non-blocking.

- `build_contexts(config)` makes the server context and the client one (links we open:
  tls-replication), with the checks and options of Redis's tlsConfigure; a bad setting
  raises TLSConfigError carrying the line Redis logs. The client context shows
  tls-client-cert-file/tls-client-key-file when both are set, else the server's own
  certificate (Redis then uses its server context for outgoing links too).
- `TLSSocket` is the `ssl.SSLSocket` class the server context wraps accepted sockets in.
  Its `recv` drives the handshake and drains every complete record; the ssl module's
  want-read/want-write signals come out as BlockingIOError. So the reactor serves a TLS
  client through its plain-socket code unchanged, and plain clients pay nothing. A reply
  the socket does not take stays in the connection's `pending` and is retried from there:
  `pending` only grows at its end, and OpenSSL (whose SSL_write reports all or nothing
  here, with moving buffers allowed) resumes where it stopped.
- `TLSManager` holds the current contexts: start-up configuration, and the CONFIG SET
  applier (reload after tls-* changes, a new listener for tls-port). A reload is atomic as
  in Redis: a failure keeps the old contexts and the caller restores the old values.
- Session caching and TLSv1.3 ciphersuites have no `ssl` API: they are set on the
  context's native SSL_CTX through ctypes, after checking that the pointer found is the
  context's own (`_NativeContext`).
"""

from __future__ import annotations

import ctypes
import errno
import re
import socket
import ssl
from collections.abc import Callable
from typing import Any, Final, cast

import trio

from node.config import Config, ConfigApplyError, ConfigValue, lookup_param

# The largest TLS record's plaintext: a read this big always takes a whole record, so no
# decrypted bytes stay inside OpenSSL where epoll cannot see them.
_RECORD: Final = 16 * 1024
_PROTOCOLS: Final = {
    "tlsv1": ssl.TLSVersion.TLSv1,
    "tlsv1.1": ssl.TLSVersion.TLSv1_1,
    "tlsv1.2": ssl.TLSVersion.TLSv1_2,
    "tlsv1.3": ssl.TLSVersion.TLSv1_3,
}
_VERIFY: Final = {"no": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "yes": ssl.CERT_REQUIRED}
# The configs whose change reloads the contexts (Redis's applyTlsCfg).
RELOADING: Final = frozenset(
    {
        "tls-cert-file",
        "tls-key-file",
        "tls-key-file-pass",
        "tls-client-cert-file",
        "tls-client-key-file",
        "tls-client-key-file-pass",
        "tls-dh-params-file",
        "tls-ca-cert-file",
        "tls-ca-cert-dir",
        "tls-protocols",
        "tls-ciphers",
        "tls-ciphersuites",
        "tls-prefer-server-ciphers",
        "tls-session-caching",
        "tls-session-cache-size",
        "tls-session-cache-timeout",
        "tls-replication",
        "tls-cluster",
    }
)
UPDATE_FAILED: Final = "Unable to update TLS configuration. Check server logs."
LISTEN_FAILED: Final = "Unable to listen on this port. Check server logs."
START_FAILED: Final = "Failed to configure TLS. Check logs for more info."


class TLSConfigError(Exception):
    """The TLS settings cannot make a context; the message is the line Redis logs."""


class TLSSocket(ssl.SSLSocket):
    """An accepted TLS connection served by the reactor like a plain non-blocking socket.

    The handshake runs from `recv`, so it advances when the client's bytes arrive; the
    server's flight must fit the socket's empty send buffer (a few KB against tens),
    since the reactor watches a connection for writing only while a reply is pending.
    """

    handshaken = False
    log: Callable[[str, str], None] | None = None

    def recv(self, buflen: int = 1024, flags: int = 0) -> bytes:
        """Up to about `buflen` plaintext bytes; b"" at the end of the stream; raises
        BlockingIOError while the handshake or the next record is incomplete."""
        if not self.handshaken:
            self._handshake()
        chunks: list[bytes] = []
        got = 0
        try:
            while got < buflen:
                chunk = self.read(_RECORD)
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
                if len(chunk) < _RECORD:
                    # A short record ends what the peer sent at once (a request, the tail
                    # of a pipeline): skip the failed read that would confirm it. OpenSSL
                    # takes no bytes past the record it decrypts, so epoll still reports
                    # any later record.
                    break
            while self.pending():
                chunks.append(self.read(self.pending()))
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            if not chunks:
                raise BlockingIOError(errno.EAGAIN, "TLS record incomplete") from None
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def send(self, data: object, flags: int = 0) -> int:
        if not self.handshaken:
            # Nothing may go out before the handshake (Redis's refusals of a TLS client
            # at accept time are dropped the same way).
            raise OSError(errno.ENOTCONN, "TLS handshake not complete")
        try:
            return self.write(cast(bytes, data))
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
            raise BlockingIOError(errno.EAGAIN, "TLS write would block") from None

    def _handshake(self) -> None:
        try:
            self.do_handshake()
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            raise BlockingIOError(errno.EAGAIN, "TLS handshake in progress") from None
        except OSError as exc:
            if self.log is not None:
                self.log("warning", f"Error accepting a client connection: {_reason(exc)}")
            raise
        self.handshaken = True


def _reason(exc: OSError) -> str:
    """OpenSSL's reason for a failure, close to the text Redis logs."""
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return f"{exc.library or 'SSL'}: {exc.reason.lower().replace('_', ' ')}"
    return re.sub(r" \(_ssl\.c:\d+\)$", "", exc.strerror or str(exc))


def parse_protocols(text: str) -> tuple[ssl.TLSVersion, ssl.TLSVersion]:
    """tls-protocols -> (lowest, highest) version; empty means TLSv1.2 and TLSv1.3. The
    ssl module sets a range, so a list with a gap ("TLSv1 TLSv1.3") allows the middle."""
    if not text:
        return ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3
    versions = [_PROTOCOLS.get(word.lower()) for word in text.split(" ")]
    chosen = [v for v in versions if v is not None]
    if len(chosen) != len(versions):
        raise TLSConfigError(
            "Invalid tls-protocols specified. Use a combination of 'TLSv1', "
            "'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'."
        )
    return min(chosen), max(chosen)


class _NativeContext:
    """The few SSL_CTX calls the ssl module lacks, through ctypes on the libssl that
    `_ssl` is linked with. The SSL_CTX pointer is read from the context object (its first
    field after the object header) and used only once it proves to be that context's:
    OpenSSL must report the same options and verify mode as the ssl module."""

    SET_SESS_CACHE_SIZE: Final = 42  # SSL_CTRL_* numbers of openssl/ssl.h
    SET_SESS_CACHE_MODE: Final = 44
    SESS_CACHE_OFF: Final = 0
    SESS_CACHE_SERVER: Final = 2
    # ssl.CERT_* -> OpenSSL's SSL_VERIFY_* bits (CERT_REQUIRED adds FAIL_IF_NO_PEER_CERT).
    _VERIFY_BITS: Final = {ssl.CERT_NONE: 0, ssl.CERT_OPTIONAL: 1, ssl.CERT_REQUIRED: 3}

    def __init__(self) -> None:
        lib = ctypes.CDLL(ssl._ssl.__file__)  # type: ignore[attr-defined]
        vp, cp = ctypes.c_void_p, ctypes.c_char_p
        self.get_options = _bind(lib.SSL_CTX_get_options, ctypes.c_uint64, vp)
        self.get_verify_mode = _bind(lib.SSL_CTX_get_verify_mode, ctypes.c_int, vp)
        self.ctrl = _bind(lib.SSL_CTX_ctrl, ctypes.c_long, vp, ctypes.c_int, ctypes.c_long, vp)
        self.set_timeout = _bind(lib.SSL_CTX_set_timeout, ctypes.c_long, vp, ctypes.c_long)
        self.set_sid_ctx = _bind(
            lib.SSL_CTX_set_session_id_context, ctypes.c_int, vp, cp, ctypes.c_uint
        )
        self.set_ciphersuites = _bind(lib.SSL_CTX_set_ciphersuites, ctypes.c_int, vp, cp)

    def pointer(self, ctx: ssl.SSLContext) -> int | None:
        address = ctypes.c_void_p.from_address(id(ctx) + object.__basicsize__).value
        if (
            not address
            or self.get_options(address) != int(ctx.options)
            or self.get_verify_mode(address) != self._VERIFY_BITS[ctx.verify_mode]
        ):
            return None
        return int(address)

    def session_cache(self, native: int, config: Config) -> None:
        """Redis's session cache settings: a server-side cache of the configured size and
        timeout, or none."""
        if config.bool("tls-session-caching"):
            self.ctrl(native, self.SET_SESS_CACHE_MODE, self.SESS_CACHE_SERVER, None)
            self.ctrl(native, self.SET_SESS_CACHE_SIZE, config.int("tls-session-cache-size"), None)
            self.set_timeout(native, config.int("tls-session-cache-timeout"))
            self.set_sid_ctx(native, b"redis", 5)
        else:
            self.ctrl(native, self.SET_SESS_CACHE_MODE, self.SESS_CACHE_OFF, None)


def _bind(fn: Any, restype: Any, *argtypes: Any) -> Callable[..., Any]:
    fn.restype = restype
    fn.argtypes = argtypes
    return cast(Callable[..., Any], fn)


def _native() -> _NativeContext | None:
    try:
        return _NativeContext()
    except (OSError, AttributeError):
        return None


_NATIVE: Final = _native()


def _context(
    config: Config,
    client: bool,
    versions: tuple[ssl.TLSVersion, ssl.TLSVersion],
    prefix: str = "tls-",
) -> tuple[ssl.SSLContext, int | None]:
    """The part common to the server and the client context (Redis's createSSLContext),
    with the native SSL_CTX pointer when it can be had; `prefix` names the certificate
    and key configs to load."""
    cert, key = config.str(prefix + "cert-file"), config.str(prefix + "key-file")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT if client else ssl.PROTOCOL_TLS_SERVER)
    native = _NATIVE.pointer(ctx) if _NATIVE is not None else None
    ctx.minimum_version, ctx.maximum_version = versions
    ctx.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION
    if client:
        # Redis checks the master's certificate against the CA, not its host name.
        ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    try:
        # A password (possibly empty) is always given: OpenSSL would prompt on a terminal
        # for an encrypted key without one.
        ctx.load_cert_chain(cert, key, password=config.str(prefix + "key-file-pass"))
    except OSError as exc:
        if not _certificate_loads(cert):
            raise TLSConfigError(f"Failed to load certificate: {cert}: {_reason(exc)}") from None
        raise TLSConfigError(f"Failed to load private key: {key}: {_reason(exc)}") from None
    ca_file, ca_dir = config.str("tls-ca-cert-file"), config.str("tls-ca-cert-dir")
    if ca_file or ca_dir:
        try:
            ctx.load_verify_locations(cafile=ca_file or None, capath=ca_dir or None)
        except OSError as exc:
            raise TLSConfigError(
                f"Failed to configure CA certificate(s) file/directory: {_reason(exc)}"
            ) from None
    ciphers = config.str("tls-ciphers")
    if ciphers:
        try:
            ctx.set_ciphers(ciphers)
        except ssl.SSLError:
            raise TLSConfigError(f"Failed to configure ciphers: {ciphers}") from None
    suites = config.str("tls-ciphersuites")
    if suites and (
        native is None or _NATIVE is None or not _NATIVE.set_ciphersuites(native, suites.encode())
    ):
        raise TLSConfigError(f"Failed to configure ciphersuites: {suites}")
    return ctx, native


def _certificate_loads(path: str) -> bool:
    """Whether `path` holds PEM certificates: load_cert_chain's error does not say
    whether the certificate or the key failed, and Redis's log line does."""
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=path)
    except OSError:
        return False
    return True


def _missing(path: str) -> bool:
    try:
        with open(path, "rb"):
            return False
    except OSError:
        return True


def build_contexts(config: Config) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context) from the tls-* configs."""
    if not config.str("tls-cert-file"):
        raise TLSConfigError("No tls-cert-file configured!")
    if not config.str("tls-key-file"):
        raise TLSConfigError("No tls-key-file configured!")
    if (
        (
            config.str("tls-auth-clients") != "no"
            or config.bool("tls-cluster")
            or config.bool("tls-replication")
        )
        and not config.str("tls-ca-cert-file")
        and not config.str("tls-ca-cert-dir")
    ):
        raise TLSConfigError(
            "Either tls-ca-cert-file or tls-ca-cert-dir must be specified "
            "when tls-cluster, tls-replication or tls-auth-clients are "
            "enabled!"
        )
    versions = parse_protocols(config.str("tls-protocols"))
    server, native = _context(config, False, versions)
    server.sslsocket_class = TLSSocket
    if native is not None and _NATIVE is not None:
        _NATIVE.session_cache(native, config)
    if config.bool("tls-prefer-server-ciphers"):
        server.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    dh_file = config.str("tls-dh-params-file")
    if dh_file:
        if _missing(dh_file):
            raise TLSConfigError(f"Failed to load {dh_file}: No such file or directory")
        try:
            server.load_dh_params(dh_file)
        except (OSError, ssl.SSLError):
            raise TLSConfigError(f"{dh_file}: failed to read DH params.") from None
    own = config.str("tls-client-cert-file") and config.str("tls-client-key-file")
    client, _ = _context(config, True, versions, "tls-client-" if own else "tls-")
    client.sslsocket_class = TLSSocket
    return server, client


class TLSManager:
    """A node's TLS contexts and how config changes reach them.

    `move_port(port)` is the shell's: listen on the new tls-port (0: stop listening),
    raising OSError when it cannot.
    """

    def __init__(
        self, config: Config, log: Callable[[str, str], None], move_port: Callable[[int], None]
    ) -> None:
        self.config = config
        self.log = log
        self.move_port = move_port
        self.server_ctx: ssl.SSLContext | None = None
        self.client_ctx: ssl.SSLContext | None = None

    def enabled(self) -> bool:
        config = self.config
        return bool(
            config.int("tls-port") or config.bool("tls-replication") or config.bool("tls-cluster")
        )

    def configure(self) -> None:
        """Build the contexts (raises TLSConfigError, logged here)."""
        try:
            self.server_ctx, self.client_ctx = build_contexts(self.config)
        except TLSConfigError as exc:
            self.log("warning", str(exc))
            raise

    def start(self) -> None:
        """At start-up: configure when TLS is used (raises OSError with Redis's line)."""
        if self.enabled():
            try:
                self.configure()
            except TLSConfigError:
                raise OSError(START_FAILED) from None

    def apply(self, changed: dict[str, ConfigValue]) -> None:
        """The CONFIG SET applier: `changed` holds the names set (in call order) with their
        old values. Reloads once (if TLS is in use) after a change of a reloading config, and
        moves the listener after a tls-port change, in the order the names came, as Redis
        runs its apply functions. Raises ConfigApplyError naming the parameter to blame."""
        reloaded = moved = False
        for name, before in changed.items():
            param = lookup_param(name)
            # Redis applies a string config even when set to its value (files are reread);
            # numbers and flags only when they change.
            if param is None or (param.kind != "str" and before == self.config.values[name]):
                continue
            if name in RELOADING and not reloaded:
                reloaded = True
                if self.enabled():
                    self._reconfigure(name)
            elif name == "tls-port" and not moved:
                moved = True
                port = self.config.int("tls-port")
                if port and self.server_ctx is None:
                    self._reconfigure(name)
                try:
                    self.move_port(port)
                except OSError as exc:
                    self.log("warning", str(exc))
                    raise ConfigApplyError(name, LISTEN_FAILED) from None

    def _reconfigure(self, name: str) -> None:
        try:
            self.configure()
        except TLSConfigError:
            raise ConfigApplyError(name, UPDATE_FAILED) from None

    def wrap(self, sock: socket.socket) -> TLSSocket:
        """An accepted socket as a TLS connection (handshake still to come), verifying
        the client's certificate as tls-auth-clients says now."""
        ctx = self.server_ctx
        assert ctx is not None
        mode = _VERIFY[self.config.str("tls-auth-clients")]
        if ctx.verify_mode != mode:
            ctx.verify_mode = mode
        conn = cast(
            TLSSocket, ctx.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        )
        conn.log = self.log
        return conn

    async def connect(self, sock: socket.socket) -> TLSSocket:
        """A TCP link we opened (to our master, with tls-replication) as a TLS connection:
        the handshake done, waiting on the socket as OpenSSL asks. The socket is closed
        when the handshake fails or is cancelled."""
        ctx = self.client_ctx
        if ctx is None:  # not reachable: tls-replication yes builds the contexts
            sock.close()
            raise OSError(errno.ENOTCONN, "TLS is not configured")
        conn = cast(
            TLSSocket, ctx.wrap_socket(sock, server_side=False, do_handshake_on_connect=False)
        )
        try:
            while True:
                try:
                    conn.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    await trio.lowlevel.wait_readable(conn)
                except ssl.SSLWantWriteError:
                    await trio.lowlevel.wait_writable(conn)
        except BaseException:
            conn.close()
            raise
        conn.handshaken = True
        return conn
