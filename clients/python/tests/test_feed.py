"""The revocation feed follower against a loopback stub speaking the feed protocol."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from tessera_verify import ConfigError, RevocationFeed
from tessera_verify._claims import Claims

SECRET = "feed-secret-of-at-least-32-bytes-0123456789"


def page(sessions, cursor, more=False, window=960):
    return (200, json.dumps({"sessions": sessions, "window_seconds": window, "cursor": cursor, "more": more}).encode(), {})


def claims(sid):
    return Claims(sub="u", exp=0, iss="i", aud=("a",), alg="EdDSA", sid=sid)


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_first_poll_pages_until_more_is_false_and_sends_the_secret(stub):
    pages = {None: page(["s1", "s2"], "c/1+", more=True), "c/1+": page(["s3"], "c2")}
    stub.handler = lambda path, headers: pages[parse_qs(urlsplit(path).query).get("since", [None])[0]]
    feed = RevocationFeed(f"{stub.url}/api/auth/revocations", secret=SECRET, start=False)
    assert feed.poll()
    assert all(s in feed for s in ("s1", "s2", "s3"))
    assert feed.is_revoked(claims("s2")) and not feed.is_revoked(claims("other")) and not feed.is_revoked(claims(None))
    assert feed.cursor == "c2"
    # the cursor is sent URL-encoded, the secret as a bearer token
    assert stub.requests[1][0] == "/api/auth/revocations?since=c%2F1%2B"
    assert all(h["authorization"] == f"Bearer {SECRET}" for _, h in stub.requests)


def test_later_polls_send_the_last_cursor_and_dedupe(stub):
    answers = [page(["s1"], "c1"), page(["s1", "s2"], "c2"), page([], "c2")]
    stub.handler = lambda path, headers: answers[len(stub.requests) - 1]
    feed = RevocationFeed(f"{stub.url}/rev", start=False)
    for _ in range(3):
        assert feed.poll()
    assert [p for p, _ in stub.requests] == ["/rev", "/rev?since=c1", "/rev?since=c2"]
    assert len(feed) == 2


def test_ids_are_dropped_window_seconds_after_they_were_first_seen(stub):
    clock = Clock()
    answers = [page(["s1"], "c1", window=60), page(["s1", "s2"], "c2", window=60), page([], "c3", window=60), page([], "c4", window=60)]
    stub.handler = lambda path, headers: answers[len(stub.requests) - 1]
    feed = RevocationFeed(f"{stub.url}/rev", start=False, clock=clock)
    feed.poll()
    clock.t += 30
    feed.poll()  # s1 again: still forgotten 60 s after it was *first* seen
    clock.t += 31
    feed.poll()
    assert "s1" not in feed and "s2" in feed
    clock.t += 30
    feed.poll()
    assert len(feed) == 0


def test_a_failed_poll_keeps_the_set_and_the_cursor_and_logs_once(stub, caplog):
    state = {"up": True}
    stub.handler = lambda path, headers: page(["s1"], "c1") if state["up"] else (500, b"down", {})
    feed = RevocationFeed(f"{stub.url}/rev", start=False)
    assert feed.poll()
    state["up"] = False
    with caplog.at_level("WARNING", logger="tessera_verify"):
        assert not feed.poll()
        assert not feed.poll()
    assert len([r for r in caplog.records if r.levelname == "WARNING"]) == 1
    assert "s1" in feed and feed.cursor == "c1" and not feed.healthy
    state["up"] = True
    assert feed.poll() and feed.healthy
    assert stub.requests[-1][0] == "/rev?since=c1"


@pytest.mark.parametrize("body", [b"not json", b'{"sessions": "s1"}', b'{"sessions": [1]}', b'{"sessions": [], "more": "yes"}'])
def test_answers_that_are_not_feed_documents_are_failures(stub, body):
    stub.response = (200, body, {})
    feed = RevocationFeed(f"{stub.url}/rev", start=False)
    assert not feed.poll()


def test_unauthorized_is_a_failure(stub):
    stub.response = (401, b'{"message":"Unauthorized","code":"UNAUTHORIZED"}', {"WWW-Authenticate": "Bearer"})
    feed = RevocationFeed(f"{stub.url}/rev", secret="wrong", start=False)
    assert not feed.poll()


def test_an_invalid_cursor_starts_over(stub):
    answers = [page(["s1"], "c1"), (400, b'{"code":"INVALID_CURSOR","message":"x"}', {}), page(["s2"], "c9")]
    stub.handler = lambda path, headers: answers[len(stub.requests) - 1]
    feed = RevocationFeed(f"{stub.url}/rev", start=False)
    feed.poll()
    assert feed.poll()
    assert [p for p, _ in stub.requests] == ["/rev", "/rev?since=c1", "/rev"]
    assert "s1" in feed and "s2" in feed and feed.cursor == "c9"


def test_a_server_that_always_says_more_cannot_pin_the_poller(stub):
    stub.handler = lambda path, headers: page([f"s{len(stub.requests)}"], f"c{len(stub.requests)}", more=True)
    feed = RevocationFeed(f"{stub.url}/rev", start=False)
    assert feed.poll()
    assert stub.hits == 100


def test_the_background_thread_follows_the_feed(stub):
    answers = {"n": 0}

    def handler(path, headers):
        answers["n"] += 1
        return page(["s1"] if answers["n"] >= 3 else [], f"c{answers['n']}")

    stub.handler = handler
    with RevocationFeed(f"{stub.url}/rev", interval=0.1) as feed:
        assert feed.wait_ready(5)
        import time

        deadline = time.monotonic() + 5
        while "s1" not in feed and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "s1" in feed


def test_configuration_is_checked():
    with pytest.raises(ConfigError):
        RevocationFeed("ftp://x/rev", start=False)
    with pytest.raises(ConfigError):
        RevocationFeed("http://127.0.0.1/rev", interval=0.01, start=False)
    assert SECRET not in repr(RevocationFeed("http://127.0.0.1/rev", secret=SECRET, start=False))
