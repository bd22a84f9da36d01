"""The session's test Kafka broker (conftest.kafka_brokers) serves the Kafka protocol on loopback
and offers the APIs the Kafka queue builds on, in the versions librdkafka 2.0.2 speaks (its own
check, with consumer groups, is tests/contract/kafka_compat_test.cpp)."""
import socket
import struct

# What librdkafka 2.0.2 needs of a broker to turn its "BrokerBalancedConsumer" feature (consumer
# groups) on: each API in a range overlapping these versions (its rdkafka_feature.c). Kafka 4.0.0
# dropped JoinGroup v0 and v1, and librdkafka then has no consumer groups.
GROUP_FEATURE = {10: ("FindCoordinator", 0, 0), 8: ("OffsetCommit", 1, 2), 9: ("OffsetFetch", 1, 1),
                 11: ("JoinGroup", 0, 0), 14: ("SyncGroup", 0, 0), 12: ("Heartbeat", 0, 0),
                 13: ("LeaveGroup", 0, 0)}
# And the rest the Kafka queue builds on: Produce, Fetch, CreateTopics, InitProducerId (the
# idempotent producer).
OTHERS = {0: "Produce", 1: "Fetch", 19: "CreateTopics", 22: "InitProducerId"}


def api_versions(host, port):
    """One ApiVersions v0 request: {api_key: (min, max)}."""
    client = b"sealhook-e2e"
    body = struct.pack(">hhih", 18, 0, 7, len(client)) + client
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(struct.pack(">i", len(body)) + body)
        size = struct.unpack(">i", _read(s, 4))[0]
        data = _read(s, size)
    correlation, error, count = struct.unpack(">ihi", data[:10])
    assert (correlation, error) == (7, 0)
    return {key: (lo, hi) for key, lo, hi in struct.iter_unpack(">hhh", data[10:10 + 6 * count])}


def _read(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        assert chunk, "the broker closed the connection"
        out += chunk
    return out


def test_broker_serves_what_librdkafka_needs_for_consumer_groups(kafka_brokers):
    host, port = kafka_brokers.split(",")[0].rsplit(":", 1)
    assert host == "127.0.0.1"
    versions = api_versions(host, int(port))
    for key, (name, lo, hi) in GROUP_FEATURE.items():
        assert key in versions, f"{name} missing"
        blo, bhi = versions[key]
        assert blo <= hi and lo <= bhi, f"{name} {blo}..{bhi}: librdkafka needs {lo}..{hi}"
    for key, name in OTHERS.items():
        assert key in versions, f"{name} missing"
