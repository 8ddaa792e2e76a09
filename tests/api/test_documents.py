"""/api/documents: listing, reading, passages in context; uploads good and bad; deleting."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import STAFF_DOC, app_settings, create_keys

pytestmark = pytest.mark.integration

PUBLIC_DOC = "borlange-miljostrategi"
TXT = (
    "Klimaplan for Testby\n\n"
    "## Mål\n\n"
    "Testby vil plante 4000 nye egetræer i Solsikkeparken inden udgangen af 2027.\n\n"
    "## Ansvar\n\n"
    "Parkafdelingen har ansvaret for træplantningen og rapporterer hvert kvartal.\n"
).encode()
MD = (
    "# Cykelstrategi for Testby\n\n"
    "## Indsatser\n\n"
    "- Ny cykelsti langs Mågevej færdig i 3. kvartal 2026.\n"
    "- Cykelparkering ved stationen udvides med 300 pladser.\n"
).encode()


def pdf_bytes() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    for line in (
        "Affaldsplan for Testby",
        "Testby indsamler madaffald fra alle husstande fra januar 2026.",
        "Genbrugspladsen paa Ravnevej udvides med en byttecentral.",
    ):
        pdf.multi_cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def docx_bytes() -> bytes:
    from docx import Document

    doc = Document()
    doc.add_heading("Vandplan for Testby", level=1)
    doc.add_paragraph("Testby separerer regnvand og spildevand i Kildekvarteret inden 2028.")
    doc.add_paragraph("Forsyningen har ansvaret og afrapporterer til udvalget hvert år.")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def admin_client(fresh_core):
    from api.main import create_app

    keys = create_keys(fresh_core.settings.data_dir)
    app = create_app(core=fresh_core, settings=app_settings(fresh_core))
    with TestClient(app) as c:
        c.keys = keys
        yield c


def snapshot(c) -> dict[str, str]:
    docs = c.get("/api/documents", headers=c.keys.staff_headers).json()
    return {d["doc_id"]: d["ingested_at"] + d["title"] for d in docs}


def upload(c, files, headers=None, **fields):
    return c.post(
        "/api/documents", files=files, data=fields, headers=headers or c.keys.admin_headers
    )


# --- reading ---------------------------------------------------------------------------------
def test_list_is_metadata_only(client):
    docs = client.get("/api/documents").json()
    assert PUBLIC_DOC in {d["doc_id"] for d in docs}
    assert all("text" not in d for d in docs)
    assert {d["audience"] for d in docs} == {"public"}


def test_get_document_has_text(client):
    doc = client.get(f"/api/documents/{PUBLIC_DOC}").json()
    assert doc["title"] == "Miljöstrategi" and len(doc["text"]) > 1000


def test_passage_in_context(client):
    text = client.get(f"/api/documents/{PUBLIC_DOC}").json()["text"]
    start, end = 1000, 1100
    p = client.get(
        f"/api/documents/{PUBLIC_DOC}/passage", params={"start": start, "end": end}
    ).json()
    assert p["passage"] == text[start:end]
    assert text[:start].endswith(p["before"]) and text[end:].startswith(p["after"])
    assert 200 <= len(p["before"]) <= 300 and 200 <= len(p["after"]) <= 300
    assert p["title"] == "Miljöstrategi" and (p["start"], p["end"]) == (start, end)
    edge = client.get(f"/api/documents/{PUBLIC_DOC}/passage", params={"start": 0, "end": 5}).json()
    assert edge["before"] == ""


@pytest.mark.parametrize(
    "params,code",
    [
        ({"start": 10, "end": 10}, "invalid_offsets"),
        ({"start": 20, "end": 10}, "invalid_offsets"),
        ({"start": 0, "end": 10_000_000}, "invalid_offsets"),
        ({"start": -1, "end": 10}, "validation_error"),
        ({"start": "a", "end": 10}, "validation_error"),
        ({"end": 10}, "validation_error"),
    ],
)
def test_bad_offsets_are_422(client, params, code):
    r = client.get(f"/api/documents/{PUBLIC_DOC}/passage", params=params)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == code


def test_missing_document_is_404(client):
    r = client.get("/api/documents/nope")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "document_not_found", "message": "no such document"}}


# --- uploads -----------------------------------------------------------------------------------
def test_upload_good_files(admin_client):
    c = admin_client
    files = [
        ("files", ("Klimaplan Testby.txt", TXT, "text/plain")),
        ("files", ("cykelstrategi.md", MD, "text/markdown")),
        ("files", ("affaldsplan.pdf", pdf_bytes(), "application/pdf")),
        ("files", ("vandplan.docx", docx_bytes(), "application/octet-stream")),
    ]
    r = upload(c, files, organisation="Testby Kommune", country="DK", audience="public")
    assert r.status_code == 201, r.text
    results = r.json()["files"]
    assert [f["status"] for f in results] == ["added"] * 4
    assert [f["doc_id"] for f in results] == [
        "klimaplan-testby",
        "cykelstrategi",
        "affaldsplan",
        "vandplan",
    ]
    assert results[0]["stored_as"] == "klimaplan-testby.txt"
    uploads = c.app.state.core.settings.data_dir / "uploads"
    assert sorted(p.name for p in uploads.iterdir() if p.is_file()) == [
        "affaldsplan.pdf",
        "cykelstrategi.md",
        "klimaplan-testby.txt",
        "vandplan.docx",
    ]
    assert not any((uploads / ".incoming").iterdir())
    doc = c.get("/api/documents/vandplan").json()  # public: no key needed
    assert doc["organisation"] == "Testby Kommune" and "Kildekvarteret" in doc["text"]
    answer = c.post(
        "/api/chat",
        json={"messages": [{"role": "user", "content": "Hvor mange egetræer vil Testby plante?"}]},
    ).json()
    assert answer["found"] and answer["citations"][0]["doc_id"] == "klimaplan-testby"
    fields = {"organisation": "Testby Kommune", "country": "DK", "audience": "public"}
    again = upload(c, [("files", ("Klimaplan Testby.txt", TXT, "text/plain"))], **fields)
    assert again.json()["files"][0]["status"] == "unchanged"
    changed = upload(
        c, [("files", ("Klimaplan Testby.txt", TXT + b"\nNyt afsnit.\n", "text/plain"))], **fields
    )
    assert changed.json()["files"][0]["status"] == "updated"


def test_upload_defaults_to_staff(admin_client):
    c = admin_client
    r = upload(
        c, [("files", ("intern-note.txt", b"Intern note om budget for Testby 2026.", "text/plain"))]
    )
    assert r.status_code == 201
    assert c.get("/api/documents/intern-note").status_code == 404
    doc = c.get("/api/documents/intern-note", headers=c.keys.staff_headers).json()
    assert doc["audience"] == "staff"


BAD_FILES = [
    ("empty.txt", b"", "empty_document", 422),
    ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\nendobj\n", "corrupt_file", 422),
    ("binary.txt", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" * 50, "corrupt_file", 422),
    ("setup.exe", b"MZ\x90\x00" * 100, "unsupported_file_type", 422),
    (
        "../../evil.txt",
        b"Ondsindet tekst der ikke maa ende uden for uploads.",
        "invalid_file_name",
        422,
    ),
    ("..\\..\\evil.txt", b"Ondsindet tekst.", "invalid_file_name", 422),
]


@pytest.mark.parametrize("name,content,code,status", BAD_FILES)
def test_bad_upload_is_refused_and_nothing_is_lost(
    admin_client, tmp_path, name, content, code, status
):
    c = admin_client
    before = snapshot(c)
    files = [
        ("files", ("fine.txt", "Helt fin tekst om Testbys grønne tage.".encode(), "text/plain")),
        ("files", (name, content, "application/octet-stream")),
    ]
    r = upload(c, files, audience="public")
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == "upload_rejected" and "nothing was stored" in error["message"]
    by_name = {f["filename"]: f for f in error["files"]}
    assert by_name["fine.txt"]["status"] == "not_stored"
    bad = next(f for f in error["files"] if f["filename"] != "fine.txt")
    assert bad["status"] == "failed" and bad["error"]["code"] == code
    assert snapshot(c) == before  # nothing added, nothing lost
    assert c.get("/api/documents/fine").status_code == 404
    data_dir = c.app.state.core.settings.data_dir
    assert not list(data_dir.parent.rglob("evil.txt"))
    assert not any((data_dir / "uploads" / ".incoming").iterdir())


def test_upload_size_limit_per_file(admin_client, fresh_core):
    from api.main import create_app

    app = create_app(core=fresh_core, settings=app_settings(fresh_core, max_file_bytes=1000))
    with TestClient(app) as c:
        files = [("files", ("stor.txt", b"klima " * 500, "text/plain"))]
        r = c.post("/api/documents", files=files, headers=admin_client.keys.admin_headers)
        assert r.status_code == 413
        assert r.json()["error"]["files"][0]["error"]["code"] == "file_too_large"


def test_upload_field_validation(admin_client):
    c = admin_client
    files = [("files", ("x.txt", b"Tekst om klima.", "text/plain"))]
    assert upload(c, files, audience="everyone").status_code == 422
    assert upload(c, files, language="de").status_code == 400
    assert c.post("/api/documents", headers=c.keys.admin_headers).status_code == 422


def test_delete_document(admin_client):
    c = admin_client
    r = upload(c, [("files", ("slet-mig.txt", b"Midlertidig tekst om Testby.", "text/plain"))])
    assert r.status_code == 201
    uploads = c.app.state.core.settings.data_dir / "uploads"
    assert (uploads / "slet-mig.txt").is_file()
    r = c.delete("/api/documents/slet-mig", headers=c.keys.admin_headers)
    assert r.status_code == 200 and r.json() == {"deleted": "slet-mig"}
    assert c.get("/api/documents/slet-mig", headers=c.keys.staff_headers).status_code == 404
    assert not (uploads / "slet-mig.txt").exists()
    assert c.delete("/api/documents/slet-mig", headers=c.keys.admin_headers).status_code == 404
    assert STAFF_DOC in snapshot(c)
