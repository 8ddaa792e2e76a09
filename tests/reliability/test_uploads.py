"""``POST /api/documents`` with files at and over the size limits, empty, random, mis-encoded:
each gets a clear 4xx or is stored, never a 500, and the stored documents are untouched.

tests/api/test_documents.py covers a few bad files (empty .txt, broken PDF, binary .txt, .exe,
path names) and a file far over the per-file limit; these add the exact boundaries, every
format empty and as random bytes, files that look like a PDF or a DOCX but are not, and the
encodings municipal files actually come in.
"""

from __future__ import annotations

import codecs
import io
import random
import zipfile

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import STAFF_DOC, app_settings, create_keys

pytestmark = pytest.mark.integration

MAX_FILE = 2000
MAX_UPLOAD = 4096
SENTENCE = "Testby planter nye egetraeer i Solsikkeparken og maaler luften hvert kvartal. "
SWEDISH = (
    "Miljöplan för Växjö\n\n"
    "Kommunens miljömål är att minska utsläppen från trafiken och värma fler hus med "
    "fjärrvärme före år 2030. Åtgärderna följs upp varje år av miljöförvaltningen.\n"
)
DANISH = (
    "Grøn plan for Køge\n\n"
    "Kommunen vil øge andelen af cykeltrafik og plante træer langs Åvej inden udgangen af 2028.\n"
)


def text_of_size(size: int) -> bytes:
    data = (SENTENCE * (size // len(SENTENCE) + 1)).encode("ascii")[:size]
    return data[:-1] + b"."


def random_bytes(seed: int, size: int = 1500) -> bytes:
    return random.Random(seed).randbytes(size)


def fake_docx() -> bytes:
    """A zip with the part a DOCX must have, holding something that is not WordprocessingML."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\x00\x01 not xml <<<" + random_bytes(1, 200))
    return out.getvalue()


@pytest.fixture(scope="module")
def client(writable_core):
    from api.main import create_app

    settings = app_settings(writable_core, max_file_bytes=MAX_FILE, max_upload_bytes=MAX_UPLOAD)
    keys = create_keys(writable_core.settings.data_dir)
    with TestClient(create_app(core=writable_core, settings=settings)) as c:
        c.keys = keys
        c.before = snapshot(c)
        yield c


def snapshot(c) -> dict[str, tuple]:
    docs = c.get("/api/documents", headers=c.keys.staff_headers).json()
    return {d["doc_id"]: (d["ingested_at"], d["chunk_count"], d["title"]) for d in docs}


def assert_untouched(c, before: dict[str, tuple]) -> None:
    after = snapshot(c)
    assert {k: after[k] for k in before} == before  # nothing replaced or lost
    assert not any((c.app.state.core.settings.data_dir / "uploads" / ".incoming").iterdir())
    metrics = c.get("/metrics").text
    assert 'route="/api/documents",status="500"' not in metrics


def upload(c, name: str, content: bytes, **fields):
    return c.post(
        "/api/documents",
        files=[("files", (name, content, "application/octet-stream"))],
        data={"audience": "public", **fields},
        headers=c.keys.admin_headers,
    )


def assert_refused(r, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["message"]
    if error["code"] == "upload_rejected":
        assert "nothing was stored" in error["message"]
        assert [f["error"]["code"] for f in error["files"]] == [code]
    else:
        assert error["code"] == code


def test_file_exactly_at_the_limit_is_stored_one_byte_more_is_413(client):
    r = upload(client, "grenseplan.txt", text_of_size(MAX_FILE))
    assert r.status_code == 201, r.text
    assert r.json()["files"][0]["status"] == "added"
    r = upload(client, "grenseplan-2.txt", text_of_size(MAX_FILE + 1))
    assert_refused(r, 413, "file_too_large")
    assert client.get("/api/documents/grenseplan-2").status_code == 404


def test_request_just_over_the_upload_limit_is_413(client):
    r = upload(client, "stor.txt", text_of_size(MAX_UPLOAD + 1))
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "body_too_large"
    two = [
        ("files", ("a.txt", text_of_size(MAX_FILE), "text/plain")),
        ("files", ("b.txt", text_of_size(MAX_FILE), "text/plain")),
        ("files", ("c.txt", text_of_size(MAX_FILE), "text/plain")),
    ]
    r = client.post("/api/documents", files=two, headers=client.keys.admin_headers)
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"
    assert client.get("/api/documents/a").status_code == 404


@pytest.mark.parametrize("suffix", [".txt", ".md", ".html", ".pdf", ".docx"])
def test_zero_byte_file_is_422(client, suffix):
    assert_refused(upload(client, f"tom{suffix}", b""), 422, "empty_document")


@pytest.mark.parametrize("suffix", [".txt", ".md", ".html", ".pdf", ".docx"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_bytes_are_422(client, suffix, seed):
    r = upload(client, f"stoej{seed}{suffix}", random_bytes(seed))
    assert_refused(r, 422, "corrupt_file")


@pytest.mark.parametrize(
    "name,content",
    [
        ("ligner.pdf", b"%PDF-1.7\n" + random_bytes(4, 1200) + b"\n%%EOF\n"),
        ("ligner.docx", fake_docx()),
        ("ligner.html", b"<html><body>" + random_bytes(5, 1200) + b"</body></html>"),
    ],
)
def test_files_that_only_look_like_their_format_are_422(client, name, content):
    assert_refused(upload(client, name, content), 422, "corrupt_file")


@pytest.mark.parametrize(
    "name,content,expected",
    [
        ("vaxjo-latin1.txt", SWEDISH.encode("latin-1"), "miljömål"),
        ("vaxjo-cp1252.txt", SWEDISH.replace("Växjö", "Växjö – 2030").encode("cp1252"), "ö – 2"),
        ("koege-utf16.txt", DANISH.encode("utf-16"), "Grøn plan for Køge"),
        ("koege-utf8-bom.txt", codecs.BOM_UTF8 + DANISH.encode(), "øge andelen"),
    ],
)
def test_legacy_and_unicode_encodings_are_decoded(client, name, content, expected):
    r = upload(client, name, content)
    assert r.status_code == 201, r.text
    doc_id = r.json()["files"][0]["doc_id"]
    text = client.get(f"/api/documents/{doc_id}").json()["text"]
    assert expected in text
    assert "\ufffd" not in text and "Ã" not in text  # no mojibake


@pytest.mark.parametrize(
    "name,content",
    [
        ("koege-utf16le.txt", DANISH.encode("utf-16-le")),  # no byte-order mark: ambiguous
        ("nul.txt", DANISH.encode()[:40] + b"\x00" + DANISH.encode()[40:]),
        ("nul.md", b"# Plan\n\nTekst\x00 med NUL.\n"),
    ],
)
def test_nul_bytes_are_422(client, name, content):
    assert_refused(upload(client, name, content), 422, "corrupt_file")


def test_a_bad_file_next_to_good_ones_stores_nothing(client):
    files = [
        ("files", ("god.txt", DANISH.encode(), "text/plain")),
        ("files", ("stoej.pdf", random_bytes(9, 500), "application/pdf")),
    ]
    r = client.post("/api/documents", files=files, headers=client.keys.admin_headers)
    assert r.status_code == 422
    assert client.get("/api/documents/god", headers=client.keys.staff_headers).status_code == 404


def test_existing_documents_are_untouched_and_still_answer(client):
    """Runs last: after every upload above, nothing stored before was replaced or lost."""
    assert_untouched(client, client.before)
    staff = client.get(f"/api/documents/{STAFF_DOC}", headers=client.keys.staff_headers)
    assert staff.status_code == 200 and staff.json()["chunk_count"] == client.before[STAFF_DOC][1]
    question = {"messages": [{"role": "user", "content": "När ska Borlänge vara klimatneutralt?"}]}
    assert client.post("/api/chat", json=question).json()["found"] is True
