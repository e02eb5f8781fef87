#!/usr/bin/python3
"""A loopback MSK-IAM broker emulator for tests and demos.

One Kafka broker (node id 1) on 127.0.0.1 that authenticates clients as Amazon MSK does with IAM:
SASL/OAUTHBEARER whose token is a SigV4-presigned `kafka-cluster:Connect` URL. Every token is verified
with botocore against a credential registry (a JSON file shared with the STS fake). KIP-368
re-authentication is accepted on the same connection, and a re-authentication that changes the
principal is refused with Apache Kafka's exact message. It speaks the Kafka protocol subset that
librdkafka producers and classic-group consumers need, keeps an in-memory log, and writes a JSON-lines
event log. Python 3 standard library + botocore only; run it with /usr/bin/python3.

    /usr/bin/python3 msk_emulator.py --port 0 --port-file PORT --registry REG.json \
        --events EVENTS.jsonl --region us-east-1

Layout, top to bottom: wire codec, record batches, event log, credential registry, token verifier,
log and group state, request handlers, connection handler, server, CLI.
"""
import argparse
import base64
import collections
import datetime
import hmac
import itertools
import json
import os
import signal
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import urllib.parse
import uuid

import botocore.auth
import botocore.awsrequest
import botocore.credentials

NODE_ID = 1
CLUSTER_ID = "mskiam-emulator"
MAX_FRAME = 100 * 1024 * 1024

# Kafka error codes used here.
NONE = 0
OFFSET_OUT_OF_RANGE = 1
CORRUPT_MESSAGE = 2
UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_TOPIC = 17
ILLEGAL_GENERATION = 22
INCONSISTENT_GROUP_PROTOCOL = 23
UNKNOWN_MEMBER_ID = 25
REBALANCE_IN_PROGRESS = 27
UNSUPPORTED_SASL_MECHANISM = 33
ILLEGAL_SASL_STATE = 34
UNSUPPORTED_VERSION = 35
SASL_AUTHENTICATION_FAILED = 58


# --------------------------------------------------------------------------------------------------
# Wire codec


class ProtocolError(Exception):
    """A request the emulator cannot parse or does not implement: the connection is closed."""


class Reader:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def _take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise ProtocolError("truncated request")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def _unpack(self, fmt):
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, self._take(size))[0]

    def int8(self):
        return self._unpack(">b")

    def int16(self):
        return self._unpack(">h")

    def int32(self):
        return self._unpack(">i")

    def int64(self):
        return self._unpack(">q")

    def boolean(self):
        return self._unpack(">b") != 0

    def string(self):
        n = self.int16()
        return None if n < 0 else self._take(n).decode("utf-8")

    def bytes_(self):
        n = self.int32()
        return None if n < 0 else bytes(self._take(n))

    def array(self, item):
        n = self.int32()
        return None if n < 0 else [item() for _ in range(n)]

    def uvarint(self):
        shift = value = 0
        while True:
            b = self._take(1)[0]
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value
            shift += 7
            if shift > 28:
                raise ProtocolError("bad varint")

    def compact_string(self):
        n = self.uvarint()
        return None if n == 0 else self._take(n - 1).decode("utf-8")

    def tagged_fields(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self._take(self.uvarint())


class Writer:
    def __init__(self):
        self.buf = bytearray()

    def int8(self, v):
        self.buf += struct.pack(">b", v)
        return self

    def int16(self, v):
        self.buf += struct.pack(">h", v)
        return self

    def int32(self, v):
        self.buf += struct.pack(">i", v)
        return self

    def int64(self, v):
        self.buf += struct.pack(">q", v)
        return self

    def boolean(self, v):
        return self.int8(1 if v else 0)

    def string(self, s):
        if s is None:
            return self.int16(-1)
        raw = s.encode("utf-8")
        self.int16(len(raw))
        self.buf += raw
        return self

    def bytes_(self, b):
        if b is None:
            return self.int32(-1)
        self.int32(len(b))
        self.buf += b
        return self

    def array(self, items, write_item):
        if items is None:
            return self.int32(-1)
        self.int32(len(items))
        for item in items:
            write_item(item)
        return self

    def uvarint(self, v):
        while v >= 0x80:
            self.buf.append((v & 0x7F) | 0x80)
            v >>= 7
        self.buf.append(v)
        return self

    def compact_array(self, items, write_item):
        self.uvarint(len(items) + 1)
        for item in items:
            write_item(item)
        return self

    def tagged_fields(self):
        return self.uvarint(0)

    def value(self):
        return bytes(self.buf)


# --------------------------------------------------------------------------------------------------
# Record batches (message format v2). Stored as sent; only baseOffset is rewritten (it is not covered
# by the batch CRC).

BATCH_HEADER = 61  # bytes up to and including recordsCount


def split_batches(records):
    """Yields (batch bytes, records count, lastOffsetDelta, maxTimestamp). Raises ValueError."""
    pos = 0
    while pos < len(records):
        if len(records) - pos < BATCH_HEADER:
            raise ValueError("truncated record batch")
        length = struct.unpack_from(">i", records, pos + 8)[0]
        end = pos + 12 + length
        if length < BATCH_HEADER - 12 or end > len(records):
            raise ValueError("bad record batch length")
        magic = records[pos + 16]
        if magic != 2:
            raise ValueError("record batch magic %d (only v2 is supported)" % magic)
        last_delta = struct.unpack_from(">i", records, pos + 23)[0]
        max_ts = struct.unpack_from(">q", records, pos + 35)[0]
        count = struct.unpack_from(">i", records, pos + 57)[0]
        yield bytes(records[pos:end]), count, last_delta, max_ts
        pos = end


def with_base_offset(batch, base_offset):
    return struct.pack(">q", base_offset) + batch[8:]


# --------------------------------------------------------------------------------------------------
# Event log: one JSON object per line. Never receives a token, a signature, a secret or a session token.


class EventLog:
    def __init__(self, path=None):
        self._lock = threading.Lock()
        self._file = open(path, "a", encoding="utf-8") if path else None
        self.events = collections.deque(maxlen=100000)  # the latest ones, for in-process tests

    def emit(self, event, **fields):
        record = {"ts_ms": int(time.time() * 1000), "event": event}
        record.update(fields)
        line = json.dumps(record, sort_keys=False)
        with self._lock:
            self.events.append(record)
            if self._file:
                self._file.write(line + "\n")
                self._file.flush()

    def close(self):
        with self._lock:
            if self._file:
                self._file.close()
                self._file = None


# --------------------------------------------------------------------------------------------------
# Credential registry: {"<access_key_id>": {"secret_access_key", "principal", "expiration_ms"
# [, "session_token"]}}, written atomically by others. An entry with a "session_token" is temporary
# credentials, accepted only with that token; one without is a long-term key. Re-read when the file
# changes or an unknown access key arrives.


class Registry:
    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        self._stamp = None
        self._entries = {}

    def _stat(self):
        try:
            st = os.stat(self.path)
            return (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            return None

    def _reload(self):
        stamp = self._stat()
        if stamp is None:
            self._entries, self._stamp = {}, None
            return
        try:
            with open(self.path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            return  # keep the previous contents; a writer that is not atomic is caught next time
        self._entries = data if isinstance(data, dict) else {}
        self._stamp = stamp

    def lookup(self, access_key_id):
        with self._lock:
            if self._stat() != self._stamp or access_key_id not in self._entries:
                self._reload()
            entry = self._entries.get(access_key_id)
            return dict(entry) if isinstance(entry, dict) else None


# --------------------------------------------------------------------------------------------------
# Token verifier


class AuthError(Exception):
    """Authentication refused; the message is sent to the client and logged (it holds no secret)."""

    def __init__(self, reason, access_key_id=None):
        super().__init__(reason)
        self.access_key_id = access_key_id


def default_host(region):
    return "kafka.%s.amazonaws.com" % region  # China too, as every signer signs it


def parse_client_first_message(auth_bytes):
    """`n,,\\x01auth=Bearer <token>\\x01[key=value\\x01]*\\x01` (RFC 7628) -> token."""
    try:
        text = auth_bytes.decode("ascii")
    except (UnicodeDecodeError, AttributeError):
        raise AuthError("invalid OAUTHBEARER client message: not ASCII")
    parts = text.split("\x01")
    if len(parts) < 3 or not parts[0].startswith("n,") or parts[-1] != "" or parts[-2] != "":
        raise AuthError("invalid OAUTHBEARER client message")
    auth = [p for p in parts[1:-2] if p.startswith("auth=")]
    if len(auth) != 1 or not auth[0].startswith("auth=Bearer "):
        raise AuthError("invalid OAUTHBEARER client message: no 'auth=Bearer' field")
    return auth[0][len("auth=Bearer "):]


def _iso(epoch_s):
    return datetime.datetime.fromtimestamp(epoch_s, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Verified:
    def __init__(self, principal, access_key_id, token_expiry_s, credential_expiry_s):
        self.principal = principal
        self.access_key_id = access_key_id
        self.token_expiry_s = token_expiry_s
        self.credential_expiry_s = credential_expiry_s


class TokenVerifier:
    def __init__(self, registry, region, host=None, max_skew_s=300, clock=time.time):
        self.registry = registry
        self.region = region
        self.host = host or default_host(region)
        self.max_skew_s = max_skew_s
        self.clock = clock

    def verify(self, token):
        params = self._decode(token)
        for name in ("Action", "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                     "X-Amz-SignedHeaders", "X-Amz-Signature"):
            if name not in params:
                raise AuthError("token has no %s parameter" % name)
        if params["Action"] != "kafka-cluster:Connect":
            raise AuthError("token Action is %r, expected 'kafka-cluster:Connect'" % params["Action"])
        if params["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
            raise AuthError("token X-Amz-Algorithm is not AWS4-HMAC-SHA256")
        if params["X-Amz-SignedHeaders"] != "host":
            raise AuthError("token X-Amz-SignedHeaders is %r, expected 'host'" % params["X-Amz-SignedHeaders"])

        amz_date = params["X-Amz-Date"]
        try:
            signed_at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ")
        except ValueError:
            raise AuthError("token X-Amz-Date %r is not YYYYMMDDTHHMMSSZ" % amz_date)
        signed_at_s = signed_at.replace(tzinfo=datetime.timezone.utc).timestamp()

        scope = params["X-Amz-Credential"].split("/")
        if len(scope) != 5 or not scope[0]:
            raise AuthError("token X-Amz-Credential is not <key>/<date>/<region>/<service>/aws4_request")
        access_key_id, scope_date, scope_region, scope_service, terminator = scope
        if scope_date != amz_date[:8]:
            raise AuthError("credential scope date %s differs from X-Amz-Date" % scope_date, access_key_id)
        if scope_region != self.region:
            raise AuthError("credential scope region %r, expected %r" % (scope_region, self.region),
                            access_key_id)
        if scope_service != "kafka-cluster" or terminator != "aws4_request":
            raise AuthError("credential scope service %r, expected 'kafka-cluster'" % scope_service,
                            access_key_id)

        expires = params["X-Amz-Expires"]
        if not expires.isdigit() or not 1 <= int(expires) <= 900:
            raise AuthError("token X-Amz-Expires %r is not an integer from 1 to 900" % expires, access_key_id)

        entry = self.registry.lookup(access_key_id)
        if entry is None or not isinstance(entry.get("secret_access_key"), str):
            raise AuthError("unknown access key id %s" % access_key_id, access_key_id)
        self._check_signature(params, entry, scope_region, scope_service, access_key_id)
        self._check_session_token(params.get("X-Amz-Security-Token"), entry, access_key_id)

        now = self.clock()
        if abs(signed_at_s - now) > self.max_skew_s:
            raise AuthError("token X-Amz-Date %s is more than %d s from the broker clock (%s)"
                            % (amz_date, self.max_skew_s, _iso(now)), access_key_id)
        token_expiry_s = signed_at_s + int(expires)
        if token_expiry_s <= now:
            raise AuthError("token expired at %s (X-Amz-Date %s + X-Amz-Expires %s)"
                            % (_iso(token_expiry_s), amz_date, expires), access_key_id)
        credential_expiry_s = None
        if entry.get("expiration_ms") is not None:
            credential_expiry_s = entry["expiration_ms"] / 1000.0
            if credential_expiry_s <= now:
                raise AuthError("credentials of access key id %s expired at %s"
                                % (access_key_id, _iso(credential_expiry_s)), access_key_id)
        principal = entry.get("principal") or ""
        return Verified(principal, access_key_id, token_expiry_s, credential_expiry_s)

    def _decode(self, token):
        alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        if not token or not set(token) <= alphabet:
            raise AuthError("token is not unpadded base64url")
        try:
            url = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise AuthError("token is not base64url of a URL")
        # An empty path is "/" to SigV4: the Java signer writes https://host?..., the others /?.
        prefix = "https://%s/?" % self.host
        if not (url.startswith(prefix) or url.startswith("https://%s?" % self.host)):
            shown = url.split("?", 1)[0][:100]
            raise AuthError("token URL %r does not start with %r" % (shown, prefix))
        params = {}
        for pair in url.split("?", 1)[1].split("&"):
            if not pair:
                continue
            name, _, value = pair.partition("=")
            name, value = urllib_unquote(name), urllib_unquote(value)
            if name in params:
                raise AuthError("token repeats the %s parameter" % name)
            params[name] = value
        return params

    def _check_signature(self, params, entry, region, service, access_key_id):
        """Recomputes the signature with botocore's SigV4 machinery over the received parameters minus
        X-Amz-Signature and User-Agent, at the token's own X-Amz-Date (no clock patching needed: the
        timestamp goes straight into the request context that canonical_request/signature read)."""
        signed = {k: v for k, v in params.items() if k not in ("X-Amz-Signature", "User-Agent")}
        credentials = botocore.credentials.Credentials(access_key_id, entry["secret_access_key"],
                                                       signed.get("X-Amz-Security-Token"))
        request = botocore.awsrequest.AWSRequest(method="GET", url="https://%s/" % self.host, params=signed)
        request.context["timestamp"] = params["X-Amz-Date"]
        signer = botocore.auth.SigV4Auth(credentials, service, region)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
            raise AuthError("signature mismatch for access key id %s" % access_key_id, access_key_id)


    @staticmethod
    def _check_session_token(sent, entry, access_key_id):
        """As MSK (through STS) does: temporary credentials (a registry entry with a "session_token")
        are accepted only with the session token they were issued with; a long-term key (an entry
        without one) only without a session token. The message never holds a token."""
        issued = entry.get("session_token")
        if issued is None:
            if sent is not None:
                raise AuthError("access key id %s is a long-term key, but the token carries a session "
                                "token" % access_key_id, access_key_id)
            return
        if sent is None:
            raise AuthError("access key id %s is temporary, but the token carries no session token"
                            % access_key_id, access_key_id)
        if not isinstance(issued, str) or not hmac.compare_digest(sent.encode(), issued.encode()):
            raise AuthError("the session token does not match the one issued with access key id %s"
                            % access_key_id, access_key_id)


def urllib_unquote(s):
    # Percent-decoding only: '+' stays '+' (SigV4 never encodes a space as '+').
    return urllib.parse.unquote(s, errors="strict")


def presign_token(access_key_id, secret_access_key, region, session_token=None, signed_at_s=None,
                  expires_s=900, host=None, user_agent="msk-emulator-tests"):
    """A token as the MSK signers make it, signed by botocore at `signed_at_s` (default: now).
    For tests and demos. Returns (token, expiry in epoch seconds)."""
    signed_at_s = int(time.time() if signed_at_s is None else signed_at_s)
    credentials = botocore.credentials.Credentials(access_key_id, secret_access_key, session_token)
    request = botocore.awsrequest.AWSRequest(method="GET", url="https://%s/" % (host or default_host(region)),
                                             params={"Action": "kafka-cluster:Connect"})
    signer = botocore.auth.SigV4QueryAuth(credentials, "kafka-cluster", region, expires=expires_s)
    # add_auth() without its clock: the same steps, at our timestamp.
    request.context["timestamp"] = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(signed_at_s))
    signer._modify_request_before_signing(request)
    canonical = signer.canonical_request(request)
    signer._inject_signature_to_request(request, signer.signature(signer.string_to_sign(request, canonical),
                                                                  request))
    url = request.url + "&User-Agent=" + urllib.parse.quote(user_agent, safe="")
    token = base64.urlsafe_b64encode(url.encode("utf-8")).rstrip(b"=").decode("ascii")
    return token, signed_at_s + expires_s


# --------------------------------------------------------------------------------------------------
# Broker state: topics, partition logs, consumer groups, committed offsets.


class PartitionLog:
    def __init__(self):
        self.batches = []  # (base_offset, count, max_timestamp, bytes)
        self.next_offset = 0
        self.start_offset = 0


class Member:
    def __init__(self, member_id, client_id):
        self.id = member_id
        self.client_id = client_id
        self.session_timeout_ms = 45000
        self.rebalance_timeout_ms = 300000
        self.protocols = []
        self.last_seen = time.monotonic()
        self.awaiting_join = False
        self.join_result = None


class Group:
    def __init__(self, group_id):
        self.id = group_id
        self.state = "Empty"  # Empty, PreparingRebalance, CompletingRebalance, Stable
        self.generation = 0
        self.protocol_type = None
        self.protocol = None
        self.leader = None
        self.members = {}
        self.assignments = {}
        self.rebalance_deadline = None
        self.hold_until = 0.0  # initial rebalance delay: completing a join waits until then


class Broker:
    """All shared state. `log_cond` guards topics and logs, `group_cond` groups and offsets."""

    def __init__(self, events, default_partitions=3, initial_rebalance_delay_ms=0):
        self.events = events
        self.default_partitions = default_partitions
        self.initial_rebalance_delay_ms = initial_rebalance_delay_ms
        self.log_cond = threading.Condition()
        self.topics = {}  # name -> [PartitionLog]
        self.group_cond = threading.Condition()
        self.groups = {}
        self.offsets = {}  # (group, topic, partition) -> (offset, metadata)
        self.producer_ids = itertools.count(1000)
        self.stopping = False

    def next_producer_id(self):
        return next(self.producer_ids)  # itertools.count is atomic under the GIL

    # -- topics and logs

    def topic(self, name, create):
        with self.log_cond:
            if name not in self.topics and create and valid_topic_name(name):
                self.topics[name] = [PartitionLog() for _ in range(self.default_partitions)]
                self.events.emit("topic_created", topic=name, partitions=self.default_partitions)
            return self.topics.get(name)

    def append(self, topic, partition, records):
        """-> (error, base_offset, records count)"""
        with self.log_cond:
            parts = self.topics.get(topic)
            if parts is None or not 0 <= partition < len(parts):
                return UNKNOWN_TOPIC_OR_PARTITION, -1, 0
            log = parts[partition]
            try:
                batches = list(split_batches(records or b""))
            except ValueError as e:
                self.events.emit("produce_refused", topic=topic, partition=partition, reason=str(e))
                return CORRUPT_MESSAGE, -1, 0
            base = log.next_offset
            total = 0
            for batch, count, last_delta, max_ts in batches:
                log.batches.append((log.next_offset, last_delta + 1, max_ts,
                                    with_base_offset(batch, log.next_offset)))
                log.next_offset += last_delta + 1
                total += count
            self.log_cond.notify_all()
            return NONE, base, total

    def read(self, topic, partition, offset, max_bytes):
        """-> (error, high_watermark, log_start, records bytes, records count at/after offset)"""
        with self.log_cond:
            parts = self.topics.get(topic)
            if parts is None or not 0 <= partition < len(parts):
                return UNKNOWN_TOPIC_OR_PARTITION, -1, -1, b"", 0
            log = parts[partition]
            if offset < log.start_offset or offset > log.next_offset:
                return OFFSET_OUT_OF_RANGE, log.next_offset, log.start_offset, b"", 0
            out, count = [], 0
            size = 0
            for base, n, _, batch in log.batches:
                if base + n <= offset:
                    continue
                if out and size + len(batch) > max_bytes:
                    break
                out.append(batch)
                size += len(batch)
                count += n - max(0, offset - base)
            return NONE, log.next_offset, log.start_offset, b"".join(out), count

    def list_offset(self, topic, partition, timestamp):
        """-> (error, timestamp, offset)"""
        with self.log_cond:
            parts = self.topics.get(topic)
            if parts is None or not 0 <= partition < len(parts):
                return UNKNOWN_TOPIC_OR_PARTITION, -1, -1
            log = parts[partition]
            if timestamp == -1:
                return NONE, -1, log.next_offset
            if timestamp == -2:
                return NONE, -1, log.start_offset
            for base, _, max_ts, _ in log.batches:
                if max_ts >= timestamp:
                    return NONE, max_ts, base
            return NONE, -1, -1

    def wait_for_data(self, deadline):
        with self.log_cond:
            remaining = deadline - time.monotonic()
            if remaining > 0 and not self.stopping:
                self.log_cond.wait(min(remaining, 0.5))

    # -- consumer groups (classic protocol)

    def _prepare_rebalance(self, group, reason):
        if group.state == "PreparingRebalance":
            return
        group.state = "PreparingRebalance"
        timeout = max([m.rebalance_timeout_ms for m in group.members.values()] or [0])
        group.rebalance_deadline = time.monotonic() + timeout / 1000.0
        self.events.emit("group_rebalance", group=group.id, reason=reason,
                         generation=group.generation, members=len(group.members))
        self.group_cond.notify_all()

    def _expire_members(self, group):
        now = time.monotonic()
        for member in list(group.members.values()):
            if not member.awaiting_join and now - member.last_seen > member.session_timeout_ms / 1000.0:
                del group.members[member.id]
                self.events.emit("group_leave", group=group.id, member=member.id, reason="session timeout")
                self._after_member_removed(group, "member %s session timeout" % member.id)

    def _after_member_removed(self, group, reason):
        if not group.members:
            group.state, group.leader, group.assignments = "Empty", None, {}
            self.group_cond.notify_all()
        elif group.state != "PreparingRebalance":
            self._prepare_rebalance(group, reason)
        else:
            self._maybe_complete_join(group)

    def _maybe_complete_join(self, group, force=False):
        if group.state != "PreparingRebalance":
            return
        waiting = [m for m in group.members.values() if m.awaiting_join]
        if not waiting:
            return
        if not force and (len(waiting) < len(group.members) or time.monotonic() < group.hold_until):
            return
        for m in list(group.members.values()):
            if not m.awaiting_join:  # did not rejoin within the rebalance timeout
                del group.members[m.id]
                self.events.emit("group_leave", group=group.id, member=m.id, reason="rebalance timeout")
        if group.leader not in group.members:
            group.leader = waiting[0].id
        leader = group.members[group.leader]
        protocol = None
        for name, _ in leader.protocols:
            if all(name in dict(m.protocols) for m in waiting):
                protocol = name
                break
        group.generation += 1
        group.protocol = protocol
        group.state = "CompletingRebalance"
        group.assignments = {}
        everyone = [(m.id, dict(m.protocols).get(protocol, b"")) for m in waiting]
        for m in waiting:
            m.awaiting_join = False
            m.last_seen = time.monotonic()
            m.join_result = (NONE if protocol else INCONSISTENT_GROUP_PROTOCOL, group.generation,
                             protocol, group.leader, m.id, everyone if m.id == group.leader else [])
            self.events.emit("group_join", group=group.id, member=m.id, generation=group.generation,
                             leader=(m.id == group.leader), protocol=protocol, members=len(waiting))
        self.group_cond.notify_all()

    def join_group(self, group_id, member_id, client_id, session_timeout_ms, rebalance_timeout_ms,
                   protocol_type, protocols):
        with self.group_cond:
            group = self.groups.setdefault(group_id, Group(group_id))
            self._expire_members(group)
            if group.members and group.protocol_type not in (None, protocol_type):
                return (INCONSISTENT_GROUP_PROTOCOL, -1, None, "", member_id, [])
            if not member_id:
                member_id = "%s-%s" % (client_id or "member", uuid.uuid4())
                group.members[member_id] = Member(member_id, client_id)
            elif member_id not in group.members:
                return (UNKNOWN_MEMBER_ID, -1, None, "", member_id, [])
            member = group.members[member_id]
            member.session_timeout_ms = session_timeout_ms
            member.rebalance_timeout_ms = rebalance_timeout_ms
            member.protocols = protocols
            member.awaiting_join = True
            member.join_result = None
            group.protocol_type = protocol_type
            if group.state == "Empty" and self.initial_rebalance_delay_ms > 0:
                group.hold_until = time.monotonic() + self.initial_rebalance_delay_ms / 1000.0
            self._prepare_rebalance(group, "member %s joined" % member_id)
            self._maybe_complete_join(group)
            while member.join_result is None:
                if self.stopping or member.id not in group.members:
                    return (UNKNOWN_MEMBER_ID, -1, None, "", member_id, [])
                member.last_seen = time.monotonic()
                if time.monotonic() >= group.rebalance_deadline:
                    self._maybe_complete_join(group, force=True)
                    continue
                self._expire_members(group)
                self._maybe_complete_join(group)
                if member.join_result is None:
                    self.group_cond.wait(0.1)
            return member.join_result

    def sync_group(self, group_id, generation, member_id, assignments):
        with self.group_cond:
            group = self.groups.get(group_id)
            if group is None or member_id not in group.members:
                return UNKNOWN_MEMBER_ID, b""
            if generation != group.generation:
                return ILLEGAL_GENERATION, b""
            if group.state == "PreparingRebalance":
                return REBALANCE_IN_PROGRESS, b""
            member = group.members[member_id]
            member.last_seen = time.monotonic()
            if group.state == "CompletingRebalance" and member_id == group.leader:
                group.assignments = dict(assignments)
                group.state = "Stable"
                self.group_cond.notify_all()
            while group.state == "CompletingRebalance" and group.generation == generation:
                if self.stopping or member_id not in group.members:
                    return UNKNOWN_MEMBER_ID, b""
                member.last_seen = time.monotonic()
                self._expire_members(group)
                self.group_cond.wait(0.1)
            if group.generation != generation or group.state != "Stable":
                return REBALANCE_IN_PROGRESS, b""
            assignment = group.assignments.get(member_id, b"")
            self.events.emit("group_sync", group=group_id, member=member_id, generation=generation,
                             leader=(member_id == group.leader), assignment_bytes=len(assignment))
            return NONE, assignment

    def heartbeat(self, group_id, generation, member_id):
        with self.group_cond:
            group = self.groups.get(group_id)
            if group is None:
                return UNKNOWN_MEMBER_ID
            self._expire_members(group)
            member = group.members.get(member_id)
            if member is None:
                return UNKNOWN_MEMBER_ID
            member.last_seen = time.monotonic()
            if group.state == "PreparingRebalance":
                return REBALANCE_IN_PROGRESS
            if generation != group.generation:
                return ILLEGAL_GENERATION
            return NONE

    def leave_group(self, group_id, member_ids):
        results = []
        with self.group_cond:
            group = self.groups.get(group_id)
            for member_id in member_ids:
                if group is None or member_id not in group.members:
                    results.append(UNKNOWN_MEMBER_ID)
                    continue
                del group.members[member_id]
                self.events.emit("group_leave", group=group_id, member=member_id, reason="LeaveGroup")
                self._after_member_removed(group, "member %s left" % member_id)
                results.append(NONE)
        return results

    def commit_offsets(self, group_id, generation, member_id, offsets):
        """offsets: [(topic, partition, offset, metadata)] -> error code for all."""
        with self.group_cond:
            group = self.groups.setdefault(group_id, Group(group_id))
            if generation >= 0 or member_id:
                if member_id not in group.members:
                    return UNKNOWN_MEMBER_ID
                if group.state == "PreparingRebalance":
                    return REBALANCE_IN_PROGRESS
                if generation != group.generation:
                    return ILLEGAL_GENERATION
                group.members[member_id].last_seen = time.monotonic()
            for topic, partition, offset, metadata in offsets:
                self.offsets[(group_id, topic, partition)] = (offset, metadata)
            self.events.emit("offset_commit", group=group_id, member=member_id, generation=generation,
                             offsets=[[t, p, o] for t, p, o, _ in offsets])
            return NONE

    def committed(self, group_id, topic, partition):
        with self.group_cond:
            return self.offsets.get((group_id, topic, partition), (-1, ""))

    def committed_topics(self, group_id):
        with self.group_cond:
            found = {}
            for (g, t, p) in self.offsets:
                if g == group_id:
                    found.setdefault(t, []).append(p)
            return found

    def stop(self):
        self.stopping = True
        with self.log_cond:
            self.log_cond.notify_all()
        with self.group_cond:
            self.group_cond.notify_all()


def valid_topic_name(name):
    return (0 < len(name) <= 249 and name not in (".", "..")
            and all(c.isascii() and (c.isalnum() or c in "._-") for c in name))


# --------------------------------------------------------------------------------------------------
# Request handlers. Each takes (connection, version, reader) and returns the response body, or None
# when no response is due (Produce with acks=0).

# api key -> (name, min version, max version). Only what is implemented below; non-flexible versions
# only, except ApiVersions v3 (whose response header stays v0).
SUPPORTED = {
    0: ("Produce", 3, 7),
    1: ("Fetch", 4, 11),
    2: ("ListOffsets", 1, 5),
    3: ("Metadata", 0, 4),
    8: ("OffsetCommit", 2, 7),
    9: ("OffsetFetch", 1, 5),
    10: ("FindCoordinator", 0, 2),
    11: ("JoinGroup", 0, 5),
    12: ("Heartbeat", 0, 3),
    13: ("LeaveGroup", 0, 3),
    14: ("SyncGroup", 0, 3),
    17: ("SaslHandshake", 0, 1),
    18: ("ApiVersions", 0, 3),
    22: ("InitProducerId", 0, 1),
    36: ("SaslAuthenticate", 0, 1),
}
PRE_AUTH_APIS = (17, 18, 36)


def handle_api_versions(conn, version, r, error=NONE):
    if version >= 3:
        r.compact_string()  # client_software_name
        r.compact_string()  # client_software_version
        r.tagged_fields()
    w = Writer().int16(error)
    keys = sorted(SUPPORTED.items())
    if version >= 3:
        def item(kv):
            w.int16(kv[0]).int16(kv[1][1]).int16(kv[1][2]).tagged_fields()
        w.compact_array(keys, item)
        w.int32(0)  # throttle_time_ms
        w.tagged_fields()
    else:
        w.array(keys, lambda kv: w.int16(kv[0]).int16(kv[1][1]).int16(kv[1][2]))
        if version >= 1:
            w.int32(0)
    return w.value()


def handle_sasl_handshake(conn, version, r):
    mechanism = r.string()
    w = Writer()
    if mechanism != "OAUTHBEARER":
        conn.emit("auth_failed", reason="unsupported SASL mechanism %r" % mechanism, reauth=conn.authenticated)
        conn.close_after_response = True
        w.int16(UNSUPPORTED_SASL_MECHANISM)
    else:
        w.int16(NONE)
        conn.handshake_version = version
    w.array(["OAUTHBEARER"], w.string)
    return w.value()


def handle_sasl_authenticate(conn, version, r):
    auth_bytes = r.bytes_()
    w = Writer()
    if conn.handshake_version is None:
        conn.close_after_response = True
        w.int16(ILLEGAL_SASL_STATE).string("SaslAuthenticate without a preceding SaslHandshake")
        w.bytes_(b"")
        if version >= 1:
            w.int64(0)
        return w.value()
    error, message, lifetime_ms = conn.authenticate(auth_bytes or b"", version)
    w.int16(error).string(message).bytes_(b"")
    if version >= 1:
        w.int64(lifetime_ms)
    return w.value()


def handle_metadata(conn, version, r):
    topics = r.array(r.string)
    allow_auto_create = True
    if version >= 4:
        allow_auto_create = r.boolean()
    broker = conn.server.broker
    if topics is None or (version == 0 and not topics):
        with broker.log_cond:
            names = sorted(broker.topics)
    else:
        names = topics
    w = Writer()
    if version >= 3:
        w.int32(0)  # throttle_time_ms

    def write_broker(_):
        w.int32(NODE_ID).string("127.0.0.1").int32(conn.server.port)
        if version >= 1:
            w.string(None)  # rack
    w.array([None], write_broker)
    if version >= 2:
        w.string(CLUSTER_ID)
    if version >= 1:
        w.int32(NODE_ID)  # controller_id

    def write_topic(name):
        parts = broker.topic(name, allow_auto_create)
        if parts is None:
            error = INVALID_TOPIC if not valid_topic_name(name) else UNKNOWN_TOPIC_OR_PARTITION
            w.int16(error).string(name)
            if version >= 1:
                w.boolean(False)
            w.array([], None)
            return
        w.int16(NONE).string(name)
        if version >= 1:
            w.boolean(False)  # is_internal

        def write_partition(index):
            w.int16(NONE).int32(index).int32(NODE_ID)
            w.array([NODE_ID], w.int32).array([NODE_ID], w.int32)
        w.array(list(range(len(parts))), write_partition)
    w.array(names, write_topic)
    return w.value()


def handle_produce(conn, version, r):
    r.string()  # transactional_id
    acks = r.int16()
    r.int32()  # timeout_ms

    def read_partition():
        return r.int32(), r.bytes_()

    def read_topic():
        return r.string(), r.array(read_partition)
    topics = r.array(read_topic) or []
    broker = conn.server.broker
    results = []
    for name, partitions in topics:
        out = []
        for index, records in partitions or []:
            error, base, count = broker.append(name, index, records)
            if error == NONE:
                conn.emit("produce", topic=name, partition=index, records=count, base_offset=base)
            out.append((index, error, base))
        results.append((name, out))
    if acks == 0:
        return None
    w = Writer()

    def write_partition(p):
        w.int32(p[0]).int16(p[1]).int64(p[2]).int64(-1)  # log_append_time_ms: CreateTime
        if version >= 5:
            w.int64(0)  # log_start_offset
    w.array(results, lambda t: (w.string(t[0]), w.array(t[1], write_partition)))
    w.int32(0)  # throttle_time_ms
    return w.value()


def handle_fetch(conn, version, r):
    r.int32()  # replica_id
    max_wait_ms = r.int32()
    min_bytes = r.int32()
    max_bytes = r.int32()
    r.int8()  # isolation_level
    if version >= 7:
        r.int32()  # session_id
        r.int32()  # session_epoch

    def read_partition():
        index = r.int32()
        if version >= 9:
            r.int32()  # current_leader_epoch
        offset = r.int64()
        if version >= 5:
            r.int64()  # log_start_offset
        return index, offset, r.int32()

    def read_topic():
        return r.string(), r.array(read_partition) or []
    topics = r.array(read_topic) or []
    if version >= 7:
        r.array(lambda: (r.string(), r.array(r.int32)))  # forgotten_topics_data
    if version >= 11:
        r.string()  # rack_id
    broker = conn.server.broker
    deadline = time.monotonic() + min(max(max_wait_ms, 0), 10000) / 1000.0
    while True:
        results, total, budget = [], 0, max_bytes if max_bytes > 0 else MAX_FRAME
        for name, partitions in topics:
            out = []
            for index, offset, partition_max in partitions:
                limit = max(0, min(partition_max, budget - total))
                error, hwm, start, records, count = broker.read(name, index, offset, limit)
                total += len(records)
                out.append((index, error, hwm, start, records, count, offset))
            results.append((name, out))
        failed = any(p[1] != NONE for _, out in results for p in out)
        if total >= min_bytes or failed or time.monotonic() >= deadline or broker.stopping:
            break
        broker.wait_for_data(deadline)
    for name, out in results:
        for index, error, hwm, start, records, count, offset in out:
            if count:
                conn.emit("fetch", topic=name, partition=index, offset=offset, records=count)
    w = Writer()
    w.int32(0)  # throttle_time_ms
    if version >= 7:
        w.int16(NONE).int32(0)  # error_code, session_id (sessionless: every fetch is a full fetch)

    def write_partition(p):
        index, error, hwm, start, records, _, _ = p
        w.int32(index).int16(error).int64(hwm).int64(hwm)  # high_watermark, last_stable_offset
        if version >= 5:
            w.int64(start)
        w.array([], None)  # aborted_transactions
        if version >= 11:
            w.int32(-1)  # preferred_read_replica
        w.bytes_(records)
    w.array(results, lambda t: (w.string(t[0]), w.array(t[1], write_partition)))
    return w.value()


def handle_list_offsets(conn, version, r):
    r.int32()  # replica_id
    if version >= 2:
        r.int8()  # isolation_level

    def read_partition():
        index = r.int32()
        if version >= 4:
            r.int32()  # current_leader_epoch
        return index, r.int64()

    topics = r.array(lambda: (r.string(), r.array(read_partition) or [])) or []
    broker = conn.server.broker
    w = Writer()
    if version >= 2:
        w.int32(0)

    def write_topic(topic):
        name, partitions = topic

        def write_partition(p):
            error, ts, offset = broker.list_offset(name, p[0], p[1])
            w.int32(p[0]).int16(error).int64(ts).int64(offset)
            if version >= 4:
                w.int32(-1)  # leader_epoch
        w.string(name).array(partitions, write_partition)
    w.array(topics, write_topic)
    return w.value()


def handle_find_coordinator(conn, version, r):
    r.string()  # key
    if version >= 1:
        r.int8()  # key_type
    w = Writer()
    if version >= 1:
        w.int32(0)
    w.int16(NONE)
    if version >= 1:
        w.string(None)  # error_message
    w.int32(NODE_ID).string("127.0.0.1").int32(conn.server.port)
    return w.value()


def handle_init_producer_id(conn, version, r):
    """Idempotent producers (enable.idempotence) ask for a producer id once per client; sequence
    numbers are not checked, the log keeps what it is sent."""
    r.string()  # transactional_id (null: idempotence without transactions)
    r.int32()  # transaction_timeout_ms
    producer_id = conn.server.broker.next_producer_id()
    conn.emit("producer_id_issued", producer_id=producer_id)
    return Writer().int32(0).int16(NONE).int64(producer_id).int16(0).value()


def handle_join_group(conn, version, r):
    group_id = r.string()
    session_timeout = r.int32()
    rebalance_timeout = r.int32() if version >= 1 else session_timeout
    member_id = r.string() or ""
    if version >= 5:
        r.string()  # group_instance_id (static membership is not emulated)
    protocol_type = r.string()
    protocols = r.array(lambda: (r.string(), r.bytes_() or b"")) or []
    error, generation, protocol, leader, member_id, members = conn.server.broker.join_group(
        group_id, member_id, conn.client_id, session_timeout, rebalance_timeout, protocol_type, protocols)
    w = Writer()
    if version >= 2:
        w.int32(0)
    w.int16(error).int32(generation).string(protocol or "").string(leader or "").string(member_id)

    def write_member(m):
        w.string(m[0])
        if version >= 5:
            w.string(None)
        w.bytes_(m[1])
    w.array(members, write_member)
    return w.value()


def handle_sync_group(conn, version, r):
    group_id, generation, member_id = r.string(), r.int32(), r.string()
    if version >= 3:
        r.string()
    assignments = r.array(lambda: (r.string(), r.bytes_() or b"")) or []
    error, assignment = conn.server.broker.sync_group(group_id, generation, member_id, assignments)
    w = Writer()
    if version >= 1:
        w.int32(0)
    w.int16(error).bytes_(assignment)
    return w.value()


def handle_heartbeat(conn, version, r):
    group_id, generation, member_id = r.string(), r.int32(), r.string()
    if version >= 3:
        r.string()
    error = conn.server.broker.heartbeat(group_id, generation, member_id)
    w = Writer()
    if version >= 1:
        w.int32(0)
    return w.int16(error).value()


def handle_leave_group(conn, version, r):
    group_id = r.string()
    if version >= 3:
        members = r.array(lambda: (r.string(), r.string())) or []
        ids = [m[0] for m in members]
    else:
        ids = [r.string()]
        members = [(ids[0], None)]
    errors = conn.server.broker.leave_group(group_id, ids)
    w = Writer()
    if version >= 1:
        w.int32(0)
    if version >= 3:
        w.int16(NONE)
        w.array(list(zip(members, errors)), lambda me: w.string(me[0][0]).string(me[0][1]).int16(me[1]))
    else:
        w.int16(errors[0])
    return w.value()


def handle_offset_commit(conn, version, r):
    group_id, generation, member_id = r.string(), r.int32(), r.string() or ""
    if version >= 7:
        r.string()  # group_instance_id
    if 2 <= version <= 4:
        r.int64()  # retention_time_ms

    def read_partition():
        index, offset = r.int32(), r.int64()
        if version >= 6:
            r.int32()  # committed_leader_epoch
        return index, offset, r.string()
    topics = r.array(lambda: (r.string(), r.array(read_partition) or [])) or []
    flat = [(t, p, o, m) for t, parts in topics for p, o, m in parts]
    error = conn.server.broker.commit_offsets(group_id, generation, member_id, flat)
    w = Writer()
    if version >= 3:
        w.int32(0)
    w.array(topics, lambda t: (w.string(t[0]), w.array(t[1], lambda p: w.int32(p[0]).int16(error))))
    return w.value()


def handle_offset_fetch(conn, version, r):
    group_id = r.string()
    topics = r.array(lambda: (r.string(), r.array(r.int32) or []))
    broker = conn.server.broker
    if topics is None:
        topics = sorted(broker.committed_topics(group_id).items())
    w = Writer()
    if version >= 3:
        w.int32(0)

    def write_topic(t):
        w.string(t[0])

        def write_partition(p):
            offset, metadata = broker.committed(group_id, t[0], p)
            w.int32(p).int64(offset)
            if version >= 5:
                w.int32(-1)  # committed_leader_epoch
            w.string(metadata if metadata is not None else "").int16(NONE)
        w.array(t[1], write_partition)
    w.array(topics, write_topic)
    if version >= 2:
        w.int16(NONE)
    return w.value()


HANDLERS = {
    0: handle_produce,
    1: handle_fetch,
    2: handle_list_offsets,
    3: handle_metadata,
    8: handle_offset_commit,
    9: handle_offset_fetch,
    10: handle_find_coordinator,
    11: handle_join_group,
    12: handle_heartbeat,
    13: handle_leave_group,
    14: handle_sync_group,
    17: handle_sasl_handshake,
    22: handle_init_producer_id,
    18: handle_api_versions,
    36: handle_sasl_authenticate,
}


# --------------------------------------------------------------------------------------------------
# One connection: framing, SASL state (first authentication, KIP-368 re-authentication, session expiry)


class ConnectionClosed(Exception):
    pass


class Connection(socketserver.BaseRequestHandler):
    def setup(self):
        self.conn_id = self.server.next_conn_id()
        self.peer = "%s:%d" % self.client_address[:2]
        self.client_id = None
        self.authenticated = False
        self.principal = None
        self.access_key_id = None
        self.session_expiry_s = None
        self.handshake_version = None
        self.close_after_response = False
        self.close_reason = None
        self.sock = self.request
        self.server.track(self, True)
        self.emit("connection_opened", peer=self.peer, tls=self.server.tls_context is not None)

    def emit(self, event, **fields):
        self.server.events.emit(event, conn=self.conn_id, **fields)

    def handle(self):
        reason = "client closed"
        try:
            if self.server.tls_context is not None:
                try:
                    self.sock = self.server.tls_context.wrap_socket(self.request, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    reason = "TLS handshake failed: %s" % e
                    return
            while not self.server.stopping:
                frame = self._read_frame()
                if frame is None:
                    return
                response = self._dispatch(frame)
                if response is not None:
                    self.sock.sendall(struct.pack(">i", len(response)) + response)
                if self.close_after_response:
                    reason = self.close_reason or "closed by broker"
                    return
        except ConnectionClosed as e:
            reason = str(e)
        except ProtocolError as e:
            reason = "protocol error: %s" % e
        except (OSError, ssl.SSLError) as e:
            reason = "socket error: %s" % e
        finally:
            self.close_reason = reason

    def finish(self):
        self.server.track(self, False)
        try:
            self.sock.close()
        except OSError:
            pass
        self.emit("connection_closed", peer=self.peer, reason=self.close_reason or "closed")

    def _recv_exact(self, n):
        chunks, got = [], 0
        while got < n:
            chunk = self.sock.recv(min(n - got, 1 << 20))
            if not chunk:
                if got:
                    raise ConnectionClosed("client closed mid-frame")
                return None
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _read_frame(self):
        head = self._recv_exact(4)
        if head is None:
            return None
        size = struct.unpack(">i", head)[0]
        if not 0 <= size <= MAX_FRAME:
            raise ProtocolError("frame size %d" % size)
        frame = self._recv_exact(size)
        if frame is None:
            raise ConnectionClosed("client closed mid-frame")
        return frame

    def _close(self, reason):
        self.close_after_response = True
        self.close_reason = reason

    def _dispatch(self, frame):
        r = Reader(frame)
        api_key, version, correlation_id = r.int16(), r.int16(), r.int32()
        self.client_id = r.string()
        header = struct.pack(">i", correlation_id)  # response header v0 for every API used here
        spec = SUPPORTED.get(api_key)
        if api_key == 18:
            if version >= 3:
                r.tagged_fields()
            if version > spec[2]:  # Kafka's answer: v0 body, UNSUPPORTED_VERSION, our versions
                return header + handle_api_versions(self, 0, Reader(b""), UNSUPPORTED_VERSION)
            return header + handle_api_versions(self, version, r)
        if spec is None or not spec[1] <= version <= spec[2]:
            self.emit("unsupported_request", api_key=api_key, api_version=version)
            self._close("unsupported request: api key %d version %d" % (api_key, version))
            return None
        if not self.authenticated and api_key not in PRE_AUTH_APIS:
            self.emit("unauthenticated_request", api=spec[0], api_version=version)
            self._close("%s before authentication" % spec[0])
            return None
        if (self.authenticated and api_key not in PRE_AUTH_APIS and self.session_expiry_s is not None
                and self.server.clock() >= self.session_expiry_s):
            # Apache Kafka's SocketServer: "Disconnecting expired channel" at the first request after
            # the session expired, unless that request starts a re-authentication (SaslHandshake).
            self.emit("session_expired_disconnect", principal=self.principal, api=spec[0],
                      expired_ms_ago=int((self.server.clock() - self.session_expiry_s) * 1000))
            self._close("session expired")
            return None
        if self.server.log_requests:
            self.emit("request", api=spec[0], api_version=version, correlation_id=correlation_id)
        if api_key == 17 and version == 0:
            return self._raw_sasl_handshake(header, r)
        body = HANDLERS[api_key](self, version, r)
        return None if body is None else header + body

    def _raw_sasl_handshake(self, header, r):
        """SaslHandshake v0: the next frame is the bare client-first message, answered with a bare
        (empty) frame on success; on failure the connection is closed."""
        body = handle_sasl_handshake(self, 0, r)
        self.sock.sendall(struct.pack(">i", len(header) + len(body)) + header + body)
        if self.close_after_response:
            return None
        frame = self._read_frame()
        if frame is None:
            raise ConnectionClosed("client closed during SASL")
        error, _, _ = self.authenticate(frame, -1)
        if error != NONE:
            return None
        return b""

    def authenticate(self, auth_bytes, api_version):
        """-> (error_code, error_message, session_lifetime_ms). On failure the connection closes after
        the response."""
        reauth = self.authenticated
        self.handshake_version = None
        server = self.server
        try:
            token = parse_client_first_message(auth_bytes)
            verified = server.verifier.verify(token)
        except AuthError as e:
            fields = {"reason": str(e), "reauth": reauth, "api_version": api_version}
            if e.access_key_id:
                fields["access_key_id"] = e.access_key_id
            self.emit("auth_failed", **fields)
            self._close("authentication failed")
            return SASL_AUTHENTICATION_FAILED, str(e), 0
        if reauth and verified.principal != self.principal:
            message = ("Cannot change principals during re-authentication from IAM.%s: IAM.%s"
                       % (self.principal, verified.principal))
            self.emit("reauth_refused_principal_change", old=self.principal, new=verified.principal,
                      access_key_id=verified.access_key_id)
            self._close("principal change on re-authentication")
            return SASL_AUTHENTICATION_FAILED, message, 0
        now = server.clock()
        remaining = [verified.token_expiry_s - now]
        if verified.credential_expiry_s is not None:
            remaining.append(verified.credential_expiry_s - now)
        lifetime_ms = int(min(remaining) * 1000)
        if server.session_lifetime_ms is not None:
            lifetime_ms = min(lifetime_ms, server.session_lifetime_ms)
        if lifetime_ms <= 0:
            self.emit("auth_failed", reason="session would have no lifetime left", reauth=reauth,
                      access_key_id=verified.access_key_id, api_version=api_version)
            self._close("authentication failed")
            return SASL_AUTHENTICATION_FAILED, "session too short", 0
        self.authenticated = True
        self.principal = verified.principal
        self.access_key_id = verified.access_key_id
        self.session_expiry_s = now + lifetime_ms / 1000.0
        self.emit("authenticated", principal=verified.principal, access_key_id=verified.access_key_id,
                  reauth=reauth, session_lifetime_ms=lifetime_ms, api_version=api_version,
                  client_id=self.client_id)
        return NONE, None, lifetime_ms


# --------------------------------------------------------------------------------------------------
# Server


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class Emulator:
    """The broker, startable in-process:

        emu = Emulator(registry_path, region="us-east-1", events_path=None)
        emu.start()           # serves on a thread; emu.port is the bound port
        ...
        emu.stop()

    `emu.events.events` holds every event emitted (the same objects written to the events file)."""

    def __init__(self, registry_path, region, events_path=None, host=None, port=0,
                 session_lifetime_ms=None, max_skew_s=300, tls_cert=None, tls_key=None,
                 topic_partitions=3, initial_rebalance_delay_ms=0, log_requests=False, clock=time.time):
        self.events = EventLog(events_path)
        self.log_requests = log_requests
        self.clock = clock
        self.session_lifetime_ms = session_lifetime_ms
        self.registry = Registry(registry_path)
        self.verifier = TokenVerifier(self.registry, region, host, max_skew_s, clock)
        self.broker = Broker(self.events, topic_partitions, initial_rebalance_delay_ms)
        self.tls_context = None
        if tls_cert:
            self.tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls_context.load_cert_chain(tls_cert, tls_key)
        self.stopping = False
        self._lock = threading.Lock()
        self._conn_ids = 0
        self._live = set()
        self._thread = None
        self._server = _TCPServer(("127.0.0.1", port), Connection, bind_and_activate=True)
        # what Connection reads through self.server
        for name in ("events", "verifier", "broker", "tls_context", "clock", "session_lifetime_ms",
                     "next_conn_id", "track", "log_requests"):
            setattr(self._server, name, getattr(self, name))
        self._server.stopping = False
        self.port = self._server.server_address[1]
        self._server.port = self.port

    def next_conn_id(self):
        with self._lock:
            self._conn_ids += 1
            return self._conn_ids

    def track(self, conn, alive):
        with self._lock:
            (self._live.add if alive else self._live.discard)(conn)

    def start(self):
        self.events.emit("broker_started", port=self.port, region=self.verifier.region,
                         host=self.verifier.host, tls=self.tls_context is not None)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="msk-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self.stopping:
            return
        self.stopping = True
        self._server.stopping = True
        self.broker.stop()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()
        with self._lock:
            live = list(self._live)
        for conn in live:
            try:
                conn.request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            with self._lock:
                if not self._live:
                    break
            time.sleep(0.02)
        self.events.emit("broker_stopped")
        self.events.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def write_atomically(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv=None):
    p = argparse.ArgumentParser(description="Loopback MSK-IAM Kafka broker emulator (127.0.0.1 only).")
    p.add_argument("--port", type=int, default=0, help="TCP port, 0 for any free one")
    p.add_argument("--port-file", help="write the bound port here (atomically) once listening")
    p.add_argument("--registry", required=True, help="credential registry JSON file")
    p.add_argument("--events", help="JSON-lines event log (appended)")
    p.add_argument("--region", required=True)
    p.add_argument("--host", help="expected token host (default kafka.<region>.amazonaws.com)")
    p.add_argument("--session-lifetime-ms", type=int, help="cap on the SASL session lifetime")
    p.add_argument("--max-skew-s", type=int, default=300, help="allowed X-Amz-Date skew (default 300)")
    p.add_argument("--tls-cert", help="PEM certificate: serve TLS (SASL_SSL)")
    p.add_argument("--tls-key", help="PEM private key for --tls-cert")
    p.add_argument("--topic-partitions", type=int, default=3, help="partitions of auto-created topics")
    p.add_argument("--initial-rebalance-delay-ms", type=int, default=0,
                   help="wait this long for more members when a group forms (Kafka's default is 3000)")
    p.add_argument("--log-requests", action="store_true",
                   help="also log a 'request' event (api, version) for every request after ApiVersions")
    args = p.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if args.session_lifetime_ms is not None and args.session_lifetime_ms <= 0:
        p.error("--session-lifetime-ms must be > 0")

    emulator = Emulator(args.registry, args.region, events_path=args.events, host=args.host, port=args.port,
                        session_lifetime_ms=args.session_lifetime_ms, max_skew_s=args.max_skew_s,
                        tls_cert=args.tls_cert, tls_key=args.tls_key, topic_partitions=args.topic_partitions,
                        initial_rebalance_delay_ms=args.initial_rebalance_delay_ms,
                        log_requests=args.log_requests)
    emulator.start()
    if args.port_file:
        write_atomically(args.port_file, "%d\n" % emulator.port)
    print("msk-emulator listening on 127.0.0.1:%d (region %s)" % (emulator.port, args.region), flush=True)

    done = threading.Event()

    def on_signal(signum, frame):
        done.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    while not done.wait(0.5):
        pass
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
