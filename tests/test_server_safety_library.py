"""The document library cannot be broken by a click, a careless admin or a crash (issue #19).

Each test replays what an attacker's or a careless admin's probe did before the fix and checks
that it now does no harm: a server path uploaded and published, a silent replace, a delete that
was for good, a half-done change while a CLI ingest held the lock, a running app that never saw a
CLI ingest, symbolic links followed out of the corpus. Results: docs/RELIABILITY.md.
"""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest

from index.build import build_index
from index.store import ingest_lock
from ingest.pipeline import corpus_files
from app import create_app
from tests.browser_helpers import FACT_ANSWER, FACT_QUESTION, build_fixture_answerer, fixture_settings, serve_app
from tests.test_app_api import raw_get
from tests.fakes import FakeEmbedder
from web.library import LibraryBusyError, NameTakenError
from web.service import AnswerService, LibraryError

TOKEN = "tok-SECRET-4d1c9e-library"
NEW_TEXT = "新区规划\n\n一、目标\n新区孵化器面积达到99万平方米。\n"
NEWER_TEXT = "新区规划（修订）\n\n一、目标\n新区孵化器面积达到120万平方米。\n"


@pytest.fixture()
def library(tmp_path):
    """(service, settings, upload folder): a service whose uploads must come from ``uploads/``."""
    settings = fixture_settings(tmp_path, admin_token=TOKEN)
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    embedder = FakeEmbedder()
    service = AnswerService(settings, build_fixture_answerer(settings, embedder), embedder, upload_dirs=[uploads])
    return service, settings, uploads


def uploaded(folder: Path, name: str, text: str) -> Path:
    """A file as Gradio leaves an upload: in its own sub-folder of the upload folder."""
    path = folder / os.urandom(4).hex() / name
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    return path


def corpus_listing(settings) -> dict[str, bytes]:
    corpus = Path(settings.corpus_dir)
    return {p.relative_to(corpus).as_posix(): p.read_bytes() for p in sorted(corpus.rglob("*")) if p.is_file()}


def test_an_upload_naming_a_server_path_is_refused_and_nothing_is_published(library):
    """Before: the upload call took ``/usr/share/doc/…`` or the app's own ``requirements.txt`` as the
    uploaded file; it was copied into corpus/ and served to anyone at ``/doc/…``."""
    service, settings, _ = library
    before = corpus_listing(settings)
    server_file = Path(__file__).resolve().parent.parent / "requirements.txt"
    for name, path in (("requirements.txt", server_file), ("bugs.md", Path("/etc/hostname")),
                       ("passwd.txt", Path("/etc/passwd"))):
        with pytest.raises(LibraryError, match="只接受本次上传的文件"):
            service.add_files(TOKEN, [(name, path)])
    link = settings.corpus_dir.parent / "uploads" / "link.txt"
    link.symlink_to(server_file)  # a link placed inside the upload folder is not an upload either
    with pytest.raises(LibraryError, match="只接受本次上传的普通文件"):
        service.add_files(TOKEN, [("link.txt", link)])
    assert corpus_listing(settings) == before and server_file.is_file()
    assert "requirements.txt" not in service.documents


def test_same_name_is_never_replaced_silently(library):
    """Before: an upload under an existing name replaced the document (its old sidecar stayed)."""
    service, settings, uploads = library
    service.add_files(TOKEN, [("新区.txt", uploaded(uploads, "新区.txt", NEW_TEXT))])
    sidecar = Path(settings.corpus_dir) / "新区.txt.meta.json"
    sidecar.write_text(json.dumps({"title": "旧版新区规划"}, ensure_ascii=False), encoding="utf-8")
    service.reindex()
    with pytest.raises(NameTakenError, match="已有同名文件"):
        service.add_files(TOKEN, [("新区.txt", uploaded(uploads, "新区.txt", NEWER_TEXT))])
    assert (Path(settings.corpus_dir) / "新区.txt").read_text(encoding="utf-8") == NEW_TEXT
    # Keep both: the new one gets a free name, the old one is untouched.
    names, _ = service.add_files(TOKEN, [("新区.txt", uploaded(uploads, "新区.txt", NEWER_TEXT))], on_conflict="keep_both")
    assert names == ["新区 (2).txt"] and {"新区.txt", "新区 (2).txt"} <= set(service.documents)
    # Replace: the old version and its sidecar go to the recycle bin, and can come back.
    outcome = service.library.add_files(TOKEN, [("新区.txt", uploaded(uploads, "新区.txt", NEWER_TEXT))],
                                        on_conflict="replace")
    assert outcome.names == ("新区.txt",) and [e.reason for e in outcome.entries] == ["replaced"]
    assert not sidecar.exists() and service.documents["新区.txt"].title != "旧版新区规划"
    assert "120万" in service.ask("新区孵化器面积达到多少？", doc_ids=["新区.txt"]).text
    entry = outcome.entries[0]
    kept = Path(settings.corpus_dir) / ".recycle" / entry.entry_id
    assert (kept / "新区.txt").read_text(encoding="utf-8") == NEW_TEXT and (kept / "新区.txt.meta.json").is_file()
    assert len(list(uploads.rglob("*.txt"))) == 1  # used uploads are removed; the refused one stays for a retry


def test_an_upload_is_written_aside_and_linked_in(library, monkeypatch):
    """Before: the copy wrote the target in place; a kill during it left a 0-byte document (and the
    replaced original was gone). Now the bytes go to a hidden file first, so a copy that dies midway
    leaves the library as it was."""
    service, settings, uploads = library
    before = corpus_listing(settings)
    import web.library

    def dies_midway(reader, writer, length=0):
        writer.write(reader.read(5))
        raise OSError("killed mid-copy")

    monkeypatch.setattr(web.library.shutil, "copyfileobj", dies_midway)
    with pytest.raises(LibraryError, match="文件库未改变：killed mid-copy"):
        service.add_files(TOKEN, [("新区.txt", uploaded(uploads, "新区.txt", NEW_TEXT))])
    assert corpus_listing(settings) == before  # no partial file, no leftover under any name


def test_delete_goes_to_the_recycle_bin_and_restore_brings_it_back_answerable(library):
    """Before: token + one click deleted file and metadata for good."""
    service, settings, _ = library
    assert FACT_ANSWER in service.ask(FACT_QUESTION).text
    (Path(settings.corpus_dir) / "wenzhou.txt.meta.json").write_text('{"title": "温州规划"}', encoding="utf-8")
    service.reindex()
    outcome = service.library.delete(TOKEN, "wenzhou.txt")
    assert "wenzhou.txt" not in service.documents and not (Path(settings.corpus_dir) / "wenzhou.txt").exists()
    assert FACT_ANSWER not in service.ask(FACT_QUESTION).text
    entries = service.library.bin_entries()
    assert [(e.doc_id, e.reason) for e in entries] == [("wenzhou.txt", "deleted")] == [
        (e.doc_id, e.reason) for e in outcome.entries]
    service.library.restore(TOKEN, entries[0].entry_id)
    assert FACT_ANSWER in service.ask(FACT_QUESTION).text and service.documents["wenzhou.txt"].title == "温州规划"
    assert service.library.bin_entries() == []
    # Emptying is its own action, with the token.
    service.library.delete(TOKEN, "wenzhou.txt")
    with pytest.raises(LibraryError, match="令牌"):
        service.library.empty_bin("wrong")
    assert len(service.library.bin_entries()) == 1
    assert service.library.empty_bin(TOKEN) == 1 and service.library.bin_entries() == []
    with pytest.raises(LibraryError, match="回收站中没有"):
        service.library.restore(TOKEN, "../../etc")


def test_a_running_cli_ingest_refuses_the_change_before_the_corpus_is_touched(library):
    """Before: with a CLI ingest holding the lock, 18 of 31 admin operations said 未完成 but were half
    done (the upload already in corpus/, the deleted file still served and answered)."""
    service, settings, uploads = library
    before = corpus_listing(settings)
    with ingest_lock(Path(settings.store_dir)):
        with pytest.raises(LibraryBusyError, match="文件库未改变"):
            service.add_files(TOKEN, [("新区.txt", uploaded(uploads, "新区.txt", NEW_TEXT))])
        with pytest.raises(LibraryBusyError, match="文件库未改变"):
            service.delete_document(TOKEN, "wenzhou.txt")
    assert corpus_listing(settings) == before and "wenzhou.txt" in service.documents


def test_a_failed_reindex_undoes_the_change(library, monkeypatch):
    """A change whose re-index fails (an ingest starting in between, a full disk) leaves nothing changed."""
    service, settings, uploads = library
    before = corpus_listing(settings)
    from index.types import IndexBusyError

    def busy(progress=None):
        raise IndexBusyError("another ingest is writing the index")

    monkeypatch.setattr(service, "reindex", busy)
    with pytest.raises(LibraryBusyError, match="已撤销"):
        service.add_files(TOKEN, [("新区.txt", uploaded(uploads, "新区.txt", NEW_TEXT))])
    with pytest.raises(LibraryBusyError, match="已撤销"):
        service.delete_document(TOKEN, "wenzhou.txt")
    assert corpus_listing(settings) == before and service.library.bin_entries() == []


def test_an_unreadable_upload_is_taken_back_out_and_a_replaced_document_comes_back(library):
    service, settings, uploads = library
    service.add_files(TOKEN, [("新区.txt", uploaded(uploads, "新区.txt", NEW_TEXT))])
    before = corpus_listing(settings)
    outcome = service.library.add_files(TOKEN, [("新区.txt", uploaded(uploads, "新区.txt", "\x00\x01\x02" * 50))],
                                        on_conflict="replace")
    assert outcome.names == () and [n for n, _ in outcome.refused] == ["新区.txt"]
    assert corpus_listing(settings) == before and "99万" in service.ask("新区孵化器面积达到多少？").text


def test_the_app_serves_what_a_cli_ingest_indexed(library):
    """Before: a CLI ingest never refreshed a running app, and a reloaded page listed the library as at
    app start (14 shown vs 26 real)."""
    service, settings, _ = library
    (Path(settings.corpus_dir) / "cli.txt").write_text(NEW_TEXT, encoding="utf-8")
    build_index(settings, FakeEmbedder())  # what `python -m ingest` does, outside the app
    assert "cli.txt" in service.documents and "99万" in service.ask("新区孵化器面积达到多少？").text
    (Path(settings.corpus_dir) / "cli.txt").unlink()
    build_index(settings, FakeEmbedder())
    assert "cli.txt" not in service.documents


def test_symbolic_links_in_the_corpus_are_never_followed(library):
    """Before: links to /etc/passwd and to app.py were served; deleting a link deleted its target."""
    service, settings, _ = library
    corpus = Path(settings.corpus_dir)
    outside = settings.corpus_dir.parent / "outside.txt"
    outside.write_text("外部文件\n\n一、说明\n外部专用编号LINK-4242。\n", encoding="utf-8")
    (corpus / "link.txt").symlink_to(outside)
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    assert not {"link.txt", "passwd.txt"} & {p.name for p in corpus_files(corpus)}
    service.reindex()
    assert not {"link.txt", "passwd.txt"} & set(service.documents)
    with pytest.raises(LibraryError):
        service.library.files.to_bin("link.txt")
    assert outside.is_file() and (corpus / "link.txt").is_symlink()


def test_a_file_deleted_as_an_ingest_starts_is_skipped(library, monkeypatch):
    """Before: a file deleted as an ingest started crashed it (7 of 30, uncaught FileNotFoundError)."""
    service, settings, _ = library
    import index.build

    listed = corpus_files

    def listing_then_vanishing(corpus_dir):
        files = listed(corpus_dir)
        (Path(corpus_dir) / "wenling.txt").unlink()  # gone between the listing and the reading
        return files

    monkeypatch.setattr(index.build, "corpus_files", listing_then_vanishing)
    report = build_index(settings, FakeEmbedder())
    assert "wenling.txt" in report.removed and "wenzhou.txt" not in report.removed


def run_gradio_event(url: str, api_name: str, data: list) -> list:
    """Call a private Gradio event of the page (as the page's own script does) and return its outputs."""
    config = json.loads(urllib.request.urlopen(url + "config", timeout=30).read())
    dependency = next(d for d in config["dependencies"] if d.get("api_name") == api_name)
    session = os.urandom(6).hex()
    join = urllib.request.Request(url + "gradio_api/queue/join", method="POST", headers={"Content-Type": "application/json"},
                                  data=json.dumps({"data": data, "fn_index": dependency["id"], "session_hash": session,
                                                   "trigger_id": dependency["targets"][0][0], "event_data": None}).encode())
    urllib.request.urlopen(join, timeout=30).read()
    with urllib.request.urlopen(f"{url}gradio_api/queue/data?session_hash={session}", timeout=120) as stream:
        for line in stream:
            if line.startswith(b"data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return (message.get("output") or {}).get("data") or [str(message.get("output"))]
    raise AssertionError("the event did not complete")


def test_the_apps_upload_event_does_not_publish_a_server_file(tmp_path):
    """The probe's attack on the running app: the upload event called with a server path as the file
    (Gradio's own allowed-path check is skipped under ``mount_gradio_app``)."""
    settings = fixture_settings(tmp_path, admin_token=TOKEN)
    app = create_app(settings, build_fixture_answerer(settings), embedder=FakeEmbedder(), feedback_db=tmp_path / "f.sqlite3")
    before = corpus_listing(settings)
    server_file = Path(__file__).resolve().parent.parent / "requirements.txt"
    with serve_app(app) as url:
        outputs = run_gradio_event(url, "on_upload", [TOKEN, [file_data(server_file, "requirements.txt")], "refuse"])
        status, _ = raw_get(url, "/doc/requirements.txt")
        assert corpus_listing(settings) == before and status == 404 and server_file.is_file()
        assert "只接受本次上传的文件" in str(outputs[0])
        # A real upload through the endpoint is taken.
        boundary = "library-boundary"
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"new.txt\"\r\n"
                "Content-Type: text/plain\r\n\r\n" + NEW_TEXT + f"\r\n--{boundary}--\r\n").encode("utf-8")
        request = urllib.request.Request(url + "gradio_api/upload", data=body, method="POST",
                                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        stored = json.loads(urllib.request.urlopen(request, timeout=30).read())
        outputs = run_gradio_event(url, "on_upload", [TOKEN, [file_data(Path(stored[0]), "new.txt")], "refuse"])
        assert "已上传 new\\.txt" in str(outputs[0]) and raw_get(url, "/doc/new.txt")[0] == 200


def file_data(path: Path, name: str) -> dict:
    return {"path": str(path), "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def test_no_route_serves_a_file_through_a_link(tmp_path):
    """Before: links in corpus/ to /etc/passwd and to app.py were served."""
    settings = fixture_settings(tmp_path)
    corpus = Path(settings.corpus_dir)
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    (corpus / "app.txt").symlink_to(Path(__file__).resolve().parent.parent / "app.py")
    answerer = build_fixture_answerer(settings)
    (corpus / "wenling.txt").unlink()
    (corpus / "wenling.txt").symlink_to("/etc/passwd")  # an indexed document swapped for a link afterwards
    with serve_app(create_app(settings, answerer, feedback_db=tmp_path / "f.sqlite3")) as url:
        results = {path: raw_get(url, path) for path in ("/doc/passwd.txt", "/doc/app.txt", "/file/passwd.txt",
                                                         "/file/app.txt", "/file/wenling.txt")}
        assert raw_get(url, "/file/wenzhou.txt")[0] == 200
    for path, (status, body) in results.items():
        assert status == 404 and "root:x:0" not in body and "import" not in body, path
