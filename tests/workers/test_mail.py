"""Mail backends against a real SMTP server (the sink) and a real folder."""

from __future__ import annotations

import re
import smtplib
from email import message_from_bytes
from email.policy import default as default_policy

import pytest

from campaign.settings import get_settings
from workers.mail import (Attachment, FileBackend, OutgoingMail, PermanentFailure, SmtpBackend, TemporaryFailure,
                          build_message)
from tests.workers.smtp_sink import SmtpSink, free_port

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def letter(**fields) -> OutgoingMail:
    values = dict(sender="Stop the Visit <campaign@ngo.example>", recipient_address="pm@parliament.example",
                  recipient_name="Rt Hon Zoë Prime", subject="Cross-party letter — the visit",
                  message_id="<cosign.7.abcdef123456@ngo.example>", text_body="Dear Prime Minister,\n\nWe write…\n",
                  html_body="<p>Dear Prime Minister,</p><p>We write…</p>", reply_to="replies@ngo.example",
                  attachments=(Attachment("letter.pdf", "application/pdf", PDF),))
    values.update(fields)
    return OutgoingMail(**values)


def smtp_backend(port: int, **changes) -> SmtpBackend:
    return SmtpBackend(get_settings().model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port,
                                                         "smtp_timeout_seconds": 3, **changes}))


@pytest.fixture(params=[True, False], ids=["pipelining", "one-command-at-a-time"])
def sink(request):
    """A server that offers PIPELINING, as most do, and one that does not: both paths are real."""
    server = SmtpSink(pipelining=request.param).start()
    try:
        yield server
    finally:
        server.stop()


def test_mime_has_text_and_html_alternatives_an_attachment_and_threading_headers():
    raw = build_message(letter(in_reply_to="<cosign.3.aaa@ngo.example>",
                               references="<cosign.1.x@ngo.example> <cosign.3.aaa@ngo.example>")).as_bytes()
    parsed = message_from_bytes(raw, policy=default_policy)
    assert parsed.get_content_type() == "multipart/mixed"
    alternative, attachment = parsed.get_payload()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in alternative.get_payload()] == ["text/plain", "text/html"]
    assert parsed.get_body(("plain",)).get_content() == "Dear Prime Minister,\n\nWe write…\n"
    assert "<p>We write…</p>" in parsed.get_body(("html",)).get_content()
    assert attachment.get_filename() == "letter.pdf" and attachment.get_content() == PDF
    assert str(parsed["Subject"]) == "Cross-party letter — the visit"
    assert str(parsed["To"]) == "Rt Hon Zoë Prime <pm@parliament.example>"
    assert parsed["Message-ID"] == "<cosign.7.abcdef123456@ngo.example>"
    assert parsed["Reply-To"] == "replies@ngo.example"
    assert parsed["In-Reply-To"] == "<cosign.3.aaa@ngo.example>"
    assert parsed["References"] == "<cosign.1.x@ngo.example> <cosign.3.aaa@ngo.example>"


def test_a_text_only_message_is_a_single_part():
    parsed = message_from_bytes(build_message(letter(html_body="", attachments=())).as_bytes(), policy=default_policy)
    assert parsed.get_content_type() == "text/plain" and parsed["In-Reply-To"] is None


def test_smtp_backend_delivers_over_one_connection_and_returns_the_servers_answer(sink):
    backend = smtp_backend(sink.port)
    first = backend.send(letter())
    second = backend.send(letter(message_id="<cosign.8.b@ngo.example>"))
    connection = backend._connection
    assert connection is not None  # kept open for the next message
    assert first.code == 250 and first.response == "250 2.0.0 OK queued as sink-1"
    assert second.response.endswith("sink-2")
    received = sink.by_message_id("<cosign.7.abcdef123456@ngo.example>")[0]
    assert received.recipients == ("pm@parliament.example",)
    assert received.parsed().get_body(("plain",)).get_content().startswith("Dear Prime Minister")
    backend.close()


def test_smtp_backend_reconnects_when_the_server_dropped_the_connection(sink):
    backend = smtp_backend(sink.port)
    backend.send(letter())
    backend._connection.sock.close()  # as when the server times an idle client out
    assert backend.send(letter(message_id="<cosign.9.c@ngo.example>")).code == 250
    assert sink.count() == 2
    backend.close()


def test_smtp_answers_are_classified(sink):
    backend = smtp_backend(sink.port)
    sink.fail_next(1)
    with pytest.raises(TemporaryFailure) as temporary:
        backend.send(letter())
    assert temporary.value.code == 451 and "try again later" in temporary.value.text
    sink.reject("nobody@parliament.example", "550 5.1.1 No such mailbox here")
    with pytest.raises(PermanentFailure) as permanent:
        backend.send(letter(recipient_address="nobody@parliament.example"))
    assert permanent.value.text == "550 5.1.1 No such mailbox here"
    assert backend.send(letter()).code == 250  # the same connection carries on
    assert backend._connection.has_extn("pipelining") is sink.pipelining
    backend.close()


def test_a_server_that_pipelines_gets_each_message_in_two_writes_instead_of_four(sink, monkeypatch):
    backend = smtp_backend(sink.port)
    backend.send(letter())  # connected and greeted
    writes = []
    write = smtplib.SMTP.send
    monkeypatch.setattr(smtplib.SMTP, "send", lambda connection, data: (writes.append(data), write(connection, data))[1])
    assert backend.send(letter(message_id="<cosign.8.b@ngo.example>")).code == 250
    assert len(writes) == (2 if sink.pipelining else 4)  # MAIL+RCPT+DATA together, then the message
    assert sink.count() == 2
    backend.close()


def test_lines_that_begin_with_a_dot_arrive_whole(sink):
    backend = smtp_backend(sink.port)
    text = "Dear Prime Minister,\n.\n..and a line that starts with dots.\n."
    backend.send(letter(text_body=text, html_body="", attachments=()))
    received = sink.by_message_id("<cosign.7.abcdef123456@ngo.example>")[0]
    assert received.parsed().get_body(("plain",)).get_content().replace("\r\n", "\n").rstrip("\n") == text
    backend.close()


def test_an_unreachable_server_is_a_temporary_failure():
    with pytest.raises(TemporaryFailure) as error:
        smtp_backend(free_port()).send(letter())
    assert "could not connect" in error.value.text


def test_file_backend_writes_one_eml_per_message_id(tmp_path):
    backend = FileBackend(tmp_path / "outbox")
    answer = backend.send(letter())
    backend.send(letter())  # a repeat overwrites the same file
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 1 and answer.response == f"written to {files[0].name}"
    assert not list((tmp_path / "outbox").glob(".tmp-*"))
    parsed = message_from_bytes(files[0].read_bytes(), policy=default_policy)
    assert parsed["Message-ID"] == "<cosign.7.abcdef123456@ngo.example>"


WIRE_CASES = {
    "text and html": letter(attachments=(), recipient_name="Member 1", subject="Stop the visit (1)",
                            text_body="Dear Member 1,\n\nPlease sign.\n", html_body="<p>Dear Member 1</p>"),
    "non-ascii names, subject and body": letter(attachments=(), html_body=""),
    "mixed line ends and threading": letter(attachments=(), text_body="From here\r\nline two\rthree\nFrom x",
                                            html_body="<p>Zoë — é</p>\n", in_reply_to="<cosign.3.aaa@ngo.example>"),
    "long lines and odd spacing": letter(attachments=(), subject="Two  spaces\tand a tab ",
                                         text_body="a" * 200 + "\n" + "é" * 100, html_body="<p>" + "x " * 300 + "</p>"),
    "an ascii line over 998 characters": letter(attachments=(), text_body="Dear Member,\n" + "word " * 400,
                                                html_body="<p>" + "<span>x</span>" * 120 + "</p>"),
    "a header to fold": letter(attachments=(), subject="A subject long enough that the line has to be folded at "
                                                       "seventy-eight characters", references="<a@b> <c@d>"),
    "an attachment": letter(),
}


@pytest.mark.parametrize("name", WIRE_CASES)
def test_the_wire_bytes_are_what_the_email_package_writes(name):
    """message_bytes writes the common message itself; it must match the email package byte for byte."""
    from workers.mail import WIRE_POLICY, message_bytes

    mail = WIRE_CASES[name]
    boundaries = ("=_cosign_" + "a" * 32, "=_cosign_" + "b" * 32)
    ours = message_bytes(mail, boundaries=boundaries)
    package = build_message(mail, boundaries=boundaries).as_bytes(policy=WIRE_POLICY)
    undated = (lambda raw: re.sub(rb"\r\nDate: [^\r]*", b"", raw))
    assert undated(ours) == undated(package)
    parsed = message_from_bytes(ours, policy=default_policy)
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n").replace("\r", "\n") \
        == mail.text_body.replace("\r\n", "\n").replace("\r", "\n")


def test_no_line_on_the_wire_is_longer_than_smtp_allows():
    """An ASCII letter whose HTML is one long line went out as 7bit and a real server refused it."""
    from workers.mail import MAX_LINE, message_bytes

    raw = message_bytes(WIRE_CASES["an ascii line over 998 characters"])
    assert max(len(line) for line in raw.split(b"\r\n")) <= MAX_LINE
    assert b"Content-Transfer-Encoding: quoted-printable" in raw
