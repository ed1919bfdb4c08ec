"""Every error a client can see, with Redis 7.0's exact text, in one place.

Rules: handlers raise `CommandError` (or a subclass); the dispatcher turns it into a
`-PREFIX text` reply. The text constants below are Redis's own wording, byte for byte,
because clients and test suites match on them. Nothing here does I/O.
"""

from __future__ import annotations


class CommandError(Exception):
    """An error reply: `-<message>\\r\\n`. `message` includes the prefix (ERR, WRONGTYPE...)."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def prefix(self) -> str:
        """The first word, which Redis uses for errorstats (ERR, WRONGTYPE, MOVED...)."""
        return self.message.split(" ", 1)[0]


class ProtocolError(Exception):
    """The peer sent bytes that are not a valid request: reply, then close the link."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def reply(self) -> bytes:
        text = self.reason.encode("utf-8", "surrogateescape")
        text = text.replace(b"\r", b" ").replace(b"\n", b" ")
        return b"-ERR Protocol error: " + text + b"\r\n"


# --- generic -------------------------------------------------------------------------
SYNTAX = "ERR syntax error"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
# HyperLogLog: a string that is not an HLL, a corrupted one, PFDEBUG's subcommand check.
NOT_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value."
INVALID_HLL = "INVALIDOBJ Corrupted HLL object detected"
PFDEBUG_UNKNOWN = "ERR Unknown PFDEBUG subcommand '{}'"
PFDEBUG_NO_KEY = "ERR The specified key does not exist"
PFDEBUG_NOT_SPARSE = "ERR HLL encoding is not sparse"
NOT_INTEGER = "ERR value is not an integer or out of range"
INT_RANGE = "ERR value is out of range, value must between -2147483648 and 2147483647"
NOT_FLOAT = "ERR value is not a valid float"
OVERFLOW = "ERR increment or decrement would overflow"
DECR_OVERFLOW = "ERR decrement would overflow"
INCR_NAN_INF = "ERR increment would produce NaN or Infinity"
LCS_NOT_STRINGS = "ERR The specified keys must contain string values"
LCS_LEN_AND_IDX = "ERR If you want both the length and indexes, please just use IDX."
LCS_TOO_BIG = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
NO_SUCH_KEY = "ERR no such key"
OUT_OF_RANGE = "ERR index out of range"
DB_INDEX = "ERR DB index is out of range"
INVALID_DB_INDEX = "ERR invalid DB index"
SAME_OBJECT = "ERR source and destination objects are the same"
STRING_TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
OFFSET_OUT_OF_RANGE = "ERR offset is out of range"
NOT_POSITIVE = "ERR value is out of range, must be positive"
VALUE_OUT_OF_RANGE = "ERR value is out of range"
LONG_RANGE = (
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
)
NAN_OR_INF = "ERR value is NaN or Infinity"
HASH_NOT_INTEGER = "ERR hash value is not an integer"
HASH_NOT_FLOAT = "ERR hash value is not a float"
NUMKEYS_NOT_POSITIVE = "ERR numkeys should be greater than 0"
NUMKEYS_TOO_MANY = "ERR Number of keys can't be greater than number of args"
LIMIT_NEGATIVE = "ERR LIMIT can't be negative"
INVALID_EXPIRE = "ERR invalid expire time in '{}' command"
EXPIRE_UNSUPPORTED_OPTION = "ERR Unsupported option {}"
EXPIRE_NX_AND_OTHERS = "ERR NX and XX, GT or LT options at the same time are not compatible"
EXPIRE_GT_AND_LT = "ERR GT and LT options at the same time are not compatible"
INVALID_CURSOR = "ERR invalid cursor"
SWAPDB_FIRST_INDEX = "ERR invalid first DB index"
SWAPDB_SECOND_INDEX = "ERR invalid second DB index"
SWAPDB_CLUSTER = "ERR SWAPDB is not allowed in cluster mode"
MOVE_CLUSTER = "ERR MOVE is not allowed in cluster mode"
COPY_CLUSTER = "ERR Copying to another database is not allowed in cluster mode"
OOM = "OOM command not allowed when used memory > 'maxmemory'."
OBJECT_FREQ_NO_LFU = (
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
    "that when switching between policies at runtime LRU and LFU data will take some time to "
    "adjust."
)
OBJECT_IDLETIME_LFU = (
    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
    "switching between policies at runtime LRU and LFU data will take some time to adjust."
)
NOAUTH = "NOAUTH Authentication required."
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
AUTH_NOT_CONFIGURED = (
    "ERR AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?"
)
NOPROTO = "NOPROTO unsupported protocol version"
MAX_CLIENTS = "ERR max number of clients reached"
EXEC_ABORT = "EXECABORT Transaction discarded because of previous errors."
NO_SUCH_CLIENT = "ERR No such client"
NOAUTH_HELLO = (
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
    "AUTH <user> <pass> option can be used to authenticate the client and select the RESP "
    "protocol version at the same time"
)
HELLO_PROTOVER = "ERR Protocol version is not an integer or out of range"
HELLO_SYNTAX = "ERR Syntax error in HELLO option '{}'"
CLIENT_NAME_INVALID = "ERR Client names cannot contain spaces, newlines or special characters."
CLIENT_ATTR_INVALID = "ERR {} cannot contain spaces, newlines or special characters."
CLIENT_SETINFO_OPTION = "ERR Unrecognized option '{}'"
CLIENT_ID_POSITIVE = "ERR client-id should be greater than 0"
CLIENT_ID_INVALID = "ERR Invalid client ID"
CLIENT_TYPE_UNKNOWN = "ERR Unknown client type '{}'"
TRACKING_ONE_REDIRECT = "ERR A client can only redirect to a single other client"
TRACKING_NO_REDIRECT_TARGET = "ERR The client ID you want redirect to does not exist"
TRACKING_PREFIX_NEEDS_BCAST = "ERR PREFIX option requires BCAST mode to be enabled"
TRACKING_BCAST_SWITCH = (
    "ERR You can't switch BCAST mode on/off before disabling tracking for this client, "
    "and then re-enabling it with a different mode."
)
TRACKING_OPT_WITH_BCAST = "ERR OPTIN and OPTOUT are not compatible with BCAST"
TRACKING_OPTIN_AND_OPTOUT = "ERR You can't specify both OPTIN mode and OPTOUT mode"
TRACKING_OPT_SWITCH = (
    "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, "
    "and then re-enabling it with a different mode."
)
TRACKING_PREFIX_OVERLAPS_EXISTING = (
    "ERR Prefix '{}' overlaps with an existing prefix '{}'. "
    "Prefixes for a single client must not overlap."
)
TRACKING_PREFIX_OVERLAPS_GIVEN = (
    "ERR Prefix '{}' overlaps with another provided prefix '{}'. "
    "Prefixes for a single client must not overlap."
)
CACHING_NOT_TRACKING = (
    "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN "
    "or OPTOUT mode enabled"
)
CACHING_YES_NOT_OPTIN = (
    "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."
)
CACHING_NO_NOT_OPTOUT = (
    "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
)
NO_SUCH_USER = "ERR No such user '{}'"
CONFIG_SET_UNKNOWN = "ERR Unknown option or number of arguments for CONFIG SET - '{}'"
CONFIG_SET_FAILED = "ERR CONFIG SET failed (possibly related to argument '{}') - {}"
NO_SHUTDOWN = "ERR No shutdown in progress."
DENIED_PROTECTED = (
    "DENIED Redis is running in protected mode because protected mode is enabled and no "
    "password is set for the default user. In this mode connections are only accepted from "
    "the loopback interface. If you want to connect from external computers to Redis you may "
    "adopt one of the following solutions: 1) Just disable protected mode sending the command "
    "'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the "
    "same host the server is running, however MAKE SURE Redis is not publicly accessible from "
    "internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively "
    "you can just disable the protected mode by editing the Redis configuration file, and "
    "setting the protected mode option to 'no', and then restarting the server. 3) If you "
    "started the server manually just for testing, restart it with the '--protected-mode no' "
    "option. 4) Setup a an authentication password for the default user. NOTE: You only need "
    "to do one of the above things in order for the server to start accepting connections "
    "from the outside."
)
# addReplySubcommandSyntaxError: the subcommand as typed, the command upper-cased.
SUBCOMMAND_SYNTAX = "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP."

# --- streams ---------------------------------------------------------------------------
STREAM_INVALID_ID = "ERR Invalid stream ID specified as stream command argument"
STREAM_BAD_START = "ERR invalid start ID for the interval"
STREAM_BAD_END = "ERR invalid end ID for the interval"
XADD_ID_TOO_SMALL = (
    "ERR The ID specified in XADD is equal or smaller than the target stream top item"
)
XADD_ID_ZERO = "ERR The ID specified in XADD must be greater than 0-0"
XADD_EXHAUSTED = "ERR The stream has exhausted the last possible ID, unable to add more items"
XADD_TOO_LARGE = "ERR Elements are too large to be stored"
TRIM_MAXLEN_NEGATIVE = "ERR The MAXLEN argument must be >= 0."
TRIM_LIMIT_NEGATIVE = "ERR The LIMIT argument must be >= 0."
TRIM_BOTH = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
TRIM_LIMIT_NO_STRATEGY = (
    "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"
)
TRIM_LIMIT_NO_APPROX = "ERR syntax error, LIMIT cannot be used without the special ~ option"
XTRIM_NO_STRATEGY = "ERR syntax error, XTRIM must be called with a trimming strategy"
XREAD_UNBALANCED = (
    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."
)
XREAD_GROUP_OPTION = (
    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."
)
XREAD_NOACK_OPTION = (
    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."
)
XREAD_GT_ID = (
    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
    "<consumer> option."
)
XREADGROUP_MISSING_GROUP = "ERR Missing GROUP option for XREADGROUP"
XREADGROUP_DOLLAR_ID = (
    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history "
    "of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ "
    "ID would just return an empty result set."
)
XREADGROUP_NOGROUP = (
    "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option"
)
XREADGROUP_GROUP_GONE = "NOGROUP the consumer group this client was blocked on no longer exists"
XREADGROUP_KEY_GONE = "UNBLOCKED the stream key no longer exists"
STREAM_NOGROUP = "NOGROUP No such key '{}' or consumer group '{}'"
XGROUP_NOGROUP = "NOGROUP No such consumer group '{}' for key name '{}'"
XGROUP_NO_KEY = (
    "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want "
    "to use the MKSTREAM option to create an empty stream automatically."
)
BUSYGROUP = "BUSYGROUP Consumer Group name already exists"
BUSYKEY = "BUSYKEY Target key name already exists."
ENTRIESREAD_RANGE = "ERR value for ENTRIESREAD must be positive or -1"
XSETID_ENTRIES_ADDED = "ERR entries_added must be positive"
XSETID_BELOW_MAX_DELETED = (
    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"
)
XSETID_BELOW_TOP = "ERR The ID specified in XSETID is smaller than the target stream top item"
XSETID_BELOW_LENGTH = (
    "ERR The entries_added specified in XSETID is smaller than the target stream length"
)
XCLAIM_MIN_IDLE = "ERR Invalid min-idle-time argument for XCLAIM"
XCLAIM_IDLE = "ERR Invalid IDLE option argument for XCLAIM"
XCLAIM_TIME = "ERR Invalid TIME option argument for XCLAIM"
XCLAIM_RETRYCOUNT = "ERR Invalid RETRYCOUNT option argument for XCLAIM"
XCLAIM_OPTION = "ERR Unrecognized XCLAIM option '{}'"
XAUTOCLAIM_MIN_IDLE = "ERR Invalid min-idle-time argument for XAUTOCLAIM"
XAUTOCLAIM_COUNT = "ERR COUNT must be > 0"
XAUTOCLAIM_COUNT_MEMORY = (
    "ERR Insufficient memory, failed allocating transient memory, COUNT too high."
)

# --- replication -----------------------------------------------------------------------
READONLY_REPLICA = "READONLY You can't write against a read only replica."
MASTERDOWN = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
NOREPLICAS = "NOREPLICAS Not enough good replicas to write."
UNBLOCKED_ROLE_CHANGE = (
    "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)"
)

# --- cluster (clusterRedirectClient, cluster.c) -----------------------------------------
CROSSSLOT = "CROSSSLOT Keys in request don't hash to the same slot"
TRYAGAIN = "TRYAGAIN Multiple keys request during rehashing of slot"
CLUSTER_DOWN = "CLUSTERDOWN The cluster is down"
CLUSTER_DOWN_READONLY = "CLUSTERDOWN The cluster is down and only accepts read commands"
CLUSTER_UNBOUND = "CLUSTERDOWN Hash slot not served"
CLUSTER_DISABLED = "ERR This instance has cluster support disabled"
SELECT_CLUSTER = "ERR SELECT is not allowed in cluster mode"


def wrong_arity(name: str) -> CommandError:
    return CommandError(f"ERR wrong number of arguments for '{name}' command")


def unknown_command(name: bytes, args: list[bytes]) -> CommandError:
    # Redis appends "'%.*s' " per argument while the list is under 128 bytes, so all the
    # arguments share one 128-byte budget.
    shown = b""
    for arg in args:
        if len(shown) >= 128:
            break
        shown += b"'" + _c_string(arg, 128 - len(shown)) + b"' "
    return CommandError(
        f"ERR unknown command '{_sds_text(name, 128)}', with args beginning with: "
        + _sds_text(shown, len(shown))
    )


def unknown_subcommand(sub: bytes, container: str) -> CommandError:
    return CommandError(
        f"ERR unknown subcommand '{_sds_text(sub, 128)}'. Try {container.upper()} HELP."
    )


def _c_string(raw: bytes, limit: int) -> bytes:
    """What C's "%.*s" prints of user bytes: up to the first NUL, at most `limit` bytes."""
    return raw.split(b"\0", 1)[0][:limit]


def _sds_text(raw: bytes, limit: int) -> str:
    """Redis prints user bytes in errors as C strings ("%.128s") with newlines blanked. The
    bytes survive as is: surrogateescape here, undone by `resp.error`."""
    text = _c_string(raw, limit).replace(b"\r", b" ").replace(b"\n", b" ")
    return text.decode("utf-8", "surrogateescape")
