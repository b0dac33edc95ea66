"""The ``toolkit`` command line: the contract other tools and scripts use.

Commands: ``init``, ``ingest``, ``read``, ``run``, ``status``, ``doctor`` (privacy checks) and more. Bad input exits
non-zero with one clear message naming the file and the fix; a Python traceback
only appears with ``--debug``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from toolkit import __version__
from toolkit.cli_read import cmd_read
from toolkit.errors import ToolkitError
from toolkit.schema import ROLES

log = logging.getLogger("toolkit.cli")

EXIT_INPUT = 2
EXIT_UNEXPECTED = 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``toolkit`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose, args.debug)
    try:
        return int(args.func(args) or 0)
    except ToolkitError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:  # output piped into head/less that closed early
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence for researchers
        if args.debug:
            raise
        print(
            f"error: unexpected {type(exc).__name__}: {exc}\n"
            "This is a bug in the toolkit, not in your data. Run again with --debug and report the traceback.",
            file=sys.stderr,
        )
        return EXIT_UNEXPECTED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="toolkit",
        description="Analyse interviews and surveys on information sharing: ingest, pseudonymise, code, explore.",
    )
    parser.add_argument("--version", action="version", version=f"toolkit {__version__}")
    parser.add_argument("--debug", action="store_true", help="show Python tracebacks")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init", help="create a new study folder with a commented study.toml")
    p.add_argument("dir", type=Path)
    p.set_defaults(func=cmd_init)

    study_help = "study folder (default: $TOOLKIT_STUDY, else the current folder if it holds study.toml)"
    wait_help = "wait up to this many seconds for another run on the same study to finish (default: 0)"
    p = sub.add_parser("ingest", help="read the study's raw files into its store (pseudonymised)")
    p.add_argument("study", nargs="?", help=study_help)
    p.add_argument("--skip-bad", action="store_true", help="store readable files even if others fail")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help=wait_help)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("read", help="parse one transcript or survey file and print it (no store)")
    p.add_argument("file", type=Path)
    p.add_argument("--format", choices=("text", "json", "csv"), default="text")
    p.add_argument("--study", help="use this study's settings (speaker labels, survey overrides)")
    p.set_defaults(func=cmd_read)

    p = sub.add_parser("run", help="run every stage, in order, on a study")
    p.add_argument("study", nargs="?", help=study_help)
    p.add_argument("--skip-bad", action="store_true", help="store readable files even if others fail")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help=wait_help)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("code", help="segment the study and code segments into barrier/enabler themes")
    p.add_argument("study", nargs="?", help=study_help)
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS", help=wait_help)
    p.set_defaults(func=cmd_code)

    p = sub.add_parser("code-text", help="code the rows of a CSV file outside any study")
    p.add_argument("input", type=Path)
    p.add_argument("--text-column", required=True, help="the column holding the text")
    p.add_argument("--out", type=Path, required=True, help="CSV to write (input columns + theme, polarity, confidence)")
    p.add_argument("--study", help="use this study's codebook, settings and human codings")
    p.set_defaults(func=cmd_code_text)

    p = sub.add_parser(
        "import-codings",
        help="add a person's codings from a CSV: text (a passage of any length) with file (its transcript, as in "
             "the study folder) or segment_key; theme; polarity; optional decision, note, good_practice, coder",
    )
    p.add_argument("input", type=Path)
    p.add_argument("study", nargs="?", help=study_help)
    p.add_argument("--coder", required=True, help="the name the codings are recorded under")
    p.set_defaults(func=cmd_import_codings)

    p = sub.add_parser("agreement", help="inter-coder agreement: Cohen's kappa, Krippendorff's alpha, confusion")
    p.add_argument("study", nargs="?", help=study_help)
    p.add_argument("--coders", nargs=2, metavar=("A", "B"), help="the two coders (default: machine and the human with most codings)")
    p.add_argument("--field", choices=("theme", "polarity"), default="theme")
    p.add_argument("--ignore-uncoded", action="store_true", help="leave out segments either coder left uncoded")
    p.set_defaults(func=cmd_agreement)

    p = sub.add_parser("evaluate", help="score the machine coder against a gold CSV (text, theme, polarity)")
    p.add_argument("gold", type=Path)
    p.add_argument("--study", help="use this study's codebook, settings and human codings")
    p.add_argument("--text-column", default="text")
    p.add_argument("--curve", action="store_true", help="also print the learning curve (slower)")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("topics", help="find topics beside the codebook; candidate new themes, places; rename, merge, split")
    p.add_argument("study", nargs="?", help="study folder (default: the sample study)")
    p.add_argument("--force", "--refit", dest="force", action="store_true",
                   help="fit the topics again on every segment (otherwise new segments join the fitted topics "
                        "until the study drifts: [topics] refit_growth, refit_outlier_share)")
    p.add_argument("--by", default="place", help="show topics by place (default), organisation_type, role or polarity")
    p.add_argument("--rename", nargs=2, metavar=("TOPIC", "NAME"), help="give topic TOPIC a name")
    p.add_argument("--merge", nargs="+", type=int, metavar="TOPIC", help="merge these topics into the first")
    p.add_argument("--split", type=int, metavar="TOPIC", help="split a topic in --parts parts")
    p.add_argument("--parts", type=int, default=2)
    p.add_argument("--name", help="name of the merged topic (with --merge) or of the new theme (with --add-to-codebook)")
    p.add_argument("--author", help="who makes the edit (default: your user name)")
    p.add_argument("--places", action="store_true", help="show what is distinctive of each place (or --by value)")
    p.add_argument("--add-to-codebook", type=int, metavar="TOPIC",
                   help="append this topic to the study's codebook as a draft theme to edit")
    p.add_argument("--as", dest="as_", choices=("theme", "sub_theme"), default="theme",
                   help="with --add-to-codebook: a theme (default) or a sub-theme of --parent")
    p.add_argument("--parent", help="with --as sub_theme: the id of the theme it belongs to")
    p.set_defaults(func=cmd_topics)

    p = sub.add_parser("codebook", help="show the codebook's themes, or write a copy to edit")
    p.add_argument("--study", help="show this study's codebook (default: the toolkit's)")
    p.add_argument("--out", type=Path, help="write the codebook as YAML here, to edit and set as [coding] codebook")
    p.set_defaults(func=cmd_codebook)

    p = sub.add_parser("export", help="write spreadsheets, REFI-QDA projects or the findings report")
    p.add_argument("study", nargs="?", help=study_help)
    p.add_argument("--format", required=True, choices=("xlsx", "csv", "parquet", "qdpx", "qdc", "report"))
    p.add_argument("--out", type=Path, help="file to write (default: STUDY/exports/); report: .docx or .html")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("import-qdpx", help="bring codings from NVivo/ATLAS.ti/MAXQDA/QualCoder (.qdpx or .qdc)")
    p.add_argument("file", type=Path)
    p.add_argument("study", nargs="?", help=study_help)
    p.add_argument("--coder", help="record the codings under this name (default: the project's user names)")
    p.set_defaults(func=cmd_import_qdpx)

    p = sub.add_parser("status", help="show what is in the study's store")
    p.add_argument("study", nargs="?", help=study_help)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("doctor", help="check that the study's personal data stays private: pseudonymisation on, "
                                      "the key apart from the data, store and exports readable by you only")
    p.add_argument("study", nargs="?", help=study_help)
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("db", help="the study's store: upgrade its schema (db upgrade) or show it (db current)")
    p.add_argument("action", choices=["upgrade", "current"], help="upgrade: run the store's migrations; "
                   "current: show its schema revision")
    p.add_argument("study", nargs="?", help=study_help)
    p.set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("dashboard", help="open the study's dashboard (this machine only, unless --host)")
    p.add_argument("study", nargs="?", help=study_help)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only); 0.0.0.0 shares it on the "
                        "network and then everyone must log in (see `toolkit users`)")
    p.add_argument("--port", type=int, default=8501, help="port to listen on (default 8501)")
    p.set_defaults(func=cmd_dashboard)

    p = sub.add_parser("users", help="who may log in to a shared dashboard: add, remove, list")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = actions.add_parser("add", help="add a user, or give an existing one a new role and password")
    q.add_argument("name")
    q.add_argument("--role", required=True, choices=ROLES,
                   help="researcher: decides and exports; reviewer: reads and comments")
    q.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin (scripts)")
    q.set_defaults(func=cmd_users_add)
    q = actions.add_parser("remove", help="remove a user")
    q.add_argument("name")
    q.set_defaults(func=cmd_users_remove)
    q = actions.add_parser("list", help="list the users and their roles (never their passwords)")
    q.set_defaults(func=cmd_users_list)

    from toolkit.cli_review import add_review_commands

    add_review_commands(sub)  # review-queue, qa-sample, validation (issue 14)
    return parser


def cmd_dashboard(args: argparse.Namespace) -> int:
    from toolkit.config import load_config
    from toolkit.serve import serve_dashboard

    # Streamlit prints the address to open; Ctrl+C stops it (exit code 130, "interrupted").
    return serve_dashboard(load_config(args.study), host=args.host, port=args.port)


def cmd_users_add(args: argparse.Namespace) -> int:
    import getpass

    from toolkit import auth
    from toolkit.errors import ConfigError

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"Password for {args.name} (at least {auth.MIN_PASSWORD_LENGTH} characters): ")
        if getpass.getpass("The same password again: ") != password:
            raise ConfigError("the two passwords differ; nothing was changed. Run the command again.")
    auth.add_user(args.name, args.role, password)
    print(f"{args.name} ({args.role}) can now log in to a shared dashboard. Users file: {auth.users_path()}")
    return 0


def cmd_users_remove(args: argparse.Namespace) -> int:
    from toolkit import auth

    auth.remove_user(args.name)
    print(f"{args.name} removed from {auth.users_path()}; they are logged out on their next click.")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    from toolkit import auth

    users = auth.list_users()
    if not users:
        print(f"No users in {auth.users_path()}. Add one: toolkit users add NAME --role researcher")
        return 0
    width = max(len(u["name"]) for u in users)
    for user in users:
        print(f"{user['name']:<{width}}  {user['role']}")
    return 0


def _setup_logging(verbose: int, debug: bool) -> None:
    level = logging.DEBUG if debug else (logging.INFO if verbose else logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def _progress(iterable, **kwargs):
    from tqdm import tqdm

    items = list(iterable)
    return tqdm(items, total=len(items), disable=not sys.stderr.isatty() or not items, **kwargs)


# --------------------------------------------------------------------------- commands
def cmd_init(args: argparse.Namespace) -> int:
    from toolkit.config import init_study

    target: Path = args.dir
    config = init_study(target)
    manifest = target / "manifest.csv"
    print(f"Created {config}.")
    print(f"Next: put each place's transcripts and surveys in a folder under {target}/ (the folder name is the place),")
    print(f"describe them in {manifest} if you like, then run: toolkit ingest {target}")
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from toolkit.config import load_config
    from toolkit.pipeline import run_study
    from toolkit.store import Store

    config = load_config(args.study)
    store = Store(config.store_url)
    report = run_study(config, store=store, progress=_progress, skip_bad=args.skip_bad, stages=("ingest",),
                       wait=args.wait).ingest
    _print_ingest(report)
    _print_places(store)
    return EXIT_INPUT if report.failed else 0


def cmd_run(args: argparse.Namespace) -> int:
    from toolkit.config import load_config
    from toolkit.pipeline import run_study
    from toolkit.store import Store

    config = load_config(args.study)
    store = Store(config.store_url)
    print(f"Study: {config.name} ({config.root})")
    report = run_study(config, store=store, progress=_progress, skip_bad=args.skip_bad, wait=args.wait)
    if report.interrupted_before:
        print(f"note: {report.interrupted_before} earlier run(s) had been stopped before they finished; "
              "they are recorded as interrupted and nothing they started was kept.")
    if report.ingest is not None:
        _print_ingest(report.ingest)
    _print_places(store)
    if report.segment and (report.segment.get("moved") or report.segment.get("orphaned")):
        print(f"Human work re-attached after the sources changed: {report.segment.get('moved', 0)} moved, "
              f"{report.segment.get('orphaned', 0)} could not be placed (see: toolkit status {config.root}).")
    if report.coding is not None:
        print()
        _print_coding(report.coding, store)
    else:
        print("\nCoding is up to date (nothing changed since the last run).")
    if report.topics is not None:
        print()
        _print_topics_report(report.topics)
    elif config.topics.enabled:
        print("Topics are up to date.")
    print(f"Store: {store.redacted_url()}")
    if config.pseudonymisation.enabled:
        print(f"Pseudonymisation key (keep it private, away from the data): {config.key_path}")
    return EXIT_INPUT if report.ingest and report.ingest.failed else 0


def cmd_status(args: argparse.Namespace) -> int:
    from toolkit.config import load_config
    from toolkit.store import Store

    config = load_config(args.study)
    store_path = config.resolve(config.store.path)
    if not config.store.url and not store_path.exists():
        print(f"Study: {config.name} ({config.root})")
        print(f"No store yet at {store_path}. Run: toolkit ingest {config.root}")
        return 0
    from toolkit.api import Study

    store = Store(config.store_url)
    print(f"Study: {config.name} ({config.root})")
    print(f"Store: {store.redacted_url()}")
    status = Study(config, store).status()  # counted by toolkit.analysis, as in the dashboard and the exports
    print("\nThe store is empty." if status.places.empty else "\n" + status.places.to_string(index=False))
    counts, corpus = status.counts, status.corpus
    print(
        f"Totals: {counts['sources']} sources, {counts['turns']} turns, {counts['respondents']} survey respondents, "
        f"{counts['likert_answers']} Likert answers, {counts['text_answers']} free-text answers, "
        f"{counts['segments']} segments, {counts['codings']} machine codings, {counts['human_codings']} human decisions."
    )
    print(f"People: {corpus.people}. Evidence segments: {corpus.evidence_segments} ({corpus.coded_segments} coded, "
          f"{corpus.reviewed_segments} reviewed).")
    if status.orphaned:
        kinds = ", ".join(f"{r.orphaned} {r.work}(s)" for r in status.anchors.itertuples() if r.orphaned)
        print(f"Not re-attached after the sources changed (kept, not counted): {kinds}.")
    if status.next_step:
        print(f"Next: {status.next_step}" + (f" Run: {status.next_command}" if status.next_command else ""))
    runs = status.runs.head(5)
    if not runs.empty:
        print("\nRecent runs:")
        for row in runs.itertuples():
            print(f"  {row.started_at}  {row.stage:<10} {row.status:<8} run {row.run_id}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """``toolkit doctor [STUDY]``: privacy checks, each warning with its fix; exits 2 when any warns."""
    from toolkit.config import load_config
    from toolkit.doctor import check_study

    config = load_config(args.study)
    findings = check_study(config)
    print(f"Study: {config.name} ({config.root})")
    for finding in findings:
        print(finding.line())
    problems = sum(not f.ok for f in findings)
    print(f"\n{problems} warning(s): fix them before the study holds real data." if problems
          else "\nNo privacy warnings.")
    return EXIT_INPUT if problems else 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """``toolkit db upgrade|current [STUDY]``: migrate the store to this toolkit's schema, or show where it is."""
    from toolkit.config import load_config
    from toolkit.store import redacted_url, store_revision, upgrade_store

    config = load_config(args.study)
    where = redacted_url(config.store_url)
    if args.action == "current":
        state = store_revision(config.store_url)
        shown = "no store yet" if state.empty else f"revision {state.revision}" + (" (release 0.1.0, not stamped)"
                                                                                   if state.legacy else "")
        print(f"Store: {where}\nSchema: {shown}; this toolkit: {state.head}"
              + (" (up to date)" if state.current else ""))
        return 0
    before, after = upgrade_store(config.store_url, study=str(config.root))
    if before.current:
        print(f"Store: {where} is up to date (revision {after.revision}).")
    elif before.empty:
        print(f"Store: {where} created at revision {after.revision}.")
    elif before.legacy and before.revision == after.revision:
        print(f"Store: {where} (written by release 0.1.0) adopted at revision {after.revision}; no table changed.")
    else:
        print(f"Store: {where} upgraded from revision {before.revision} to {after.revision}.")
    return 0


def _open_study(study):
    from toolkit.config import load_config
    from toolkit.store import Store

    config = load_config(study)
    return config, Store(config.store_url)


def _read_csv(path: Path):
    import io

    import pandas as pd

    from toolkit.errors import InputDataError
    from toolkit.ingest.encoding import read_text_file

    text, _ = read_text_file(path)
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except Exception as exc:  # pandas' parser errors
        raise InputDataError(path, f"is not a readable CSV file ({exc}).", "Save it again as CSV (UTF-8).") from None


def _require_columns(path: Path, frame, columns) -> None:
    from toolkit.errors import InputDataError

    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputDataError(
            path,
            f"has no column {', '.join(repr(c) for c in missing)}. Found: {', '.join(frame.columns)}.",
            "Name the right column (e.g. --text-column) or rename it in the file.",
        )


def cmd_codebook(args: argparse.Namespace) -> int:
    from toolkit.codebook import load_codebook, save_codebook
    from toolkit.config import load_config

    path = None
    if args.study:
        config = load_config(args.study)
        path = config.resolve(config.coding.codebook) if config.coding.codebook else None
    book = load_codebook(path)
    if args.out:
        if args.out.exists():
            raise ToolkitError(f"{args.out} already exists. Choose another name or delete it first.")
        save_codebook(book, args.out)
        print(f"Wrote {args.out}. Edit it, then set [coding] codebook = \"{args.out.name}\" in study.toml.")
        return 0
    print(f"{book.name} (version {book.fingerprint()}), {len(book.themes)} themes:")
    for theme in book.themes:
        counts = ", ".join(f"{len(theme.examples.get(p, ()))} {p}" for p in ("barrier", "enabler", "neutral"))
        print(f"  {theme.id:<26} {theme.name} ({counts} examples, {len(theme.phrases)} phrases)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from toolkit.export import export_study

    config, store = _open_study(args.study)
    if store.table("sources").empty:
        raise ToolkitError(f"The store of {config.root} is empty. Run first: toolkit run {config.root}")
    for path in export_study(config, store, args.format, args.out):
        print(f"Wrote {path}")
    return 0


def cmd_import_qdpx(args: argparse.Namespace) -> int:
    from toolkit.api import Study
    from toolkit.exchange.refi import read_qdc

    config, store = _open_study(args.study)
    if args.file.suffix.lower() == ".qdc":
        book = read_qdc(args.file)
        print(f"{args.file.name}: a codebook with {len(book.codes)} codes; it holds no codings to import.")
        return 0
    report = Study(config, store).import_codings(args.file, coder=args.coder)
    print(f"{args.file.name}: {report.summary()}")
    return 0


def cmd_code(args: argparse.Namespace) -> int:
    from toolkit.pipeline import run_study

    config, store = _open_study(args.study)
    if store.table("turns").empty and store.table("text_answers").empty:
        raise ToolkitError(f"The store of {config.root} is empty. Run first: toolkit ingest {config.root}")
    report = run_study(config, store=store, stages=("segment", "code"), force=True, wait=args.wait)
    _print_coding(report.coding, store)
    return 0


def cmd_topics(args: argparse.Namespace) -> int:
    import getpass

    from toolkit.api import Study
    from toolkit.pipeline import fit_and_store_topics, topics_are_stale

    config, store = _open_study(args.study)
    study = Study(config, store)
    author = args.author or getpass.getuser()
    report = None
    if args.add_to_codebook is not None:
        added = study.add_topic_to_codebook(args.add_to_codebook, author=author, as_=args.as_, parent=args.parent,
                                            name=args.name)
        print(added.message())
        return 0
    if args.rename:
        topic, name = args.rename
        if not topic.lstrip("-").isdigit():
            raise ToolkitError(f"--rename takes a topic number and a name, e.g. --rename 3 \"Trust in joint teams\"; got '{topic}'.")
        study.rename_topic(int(topic), name=name, author=author)
        print(f"Topic {topic} is now called '{name}' (kept across re-runs).")
    elif args.merge:
        report = study.merge_topics(args.merge, author=author, name=args.name)
    elif args.split is not None:
        report = study.split_topic(args.split, parts=args.parts, author=author)
    elif args.force or topics_are_stale(config, store):
        report = fit_and_store_topics(config, store)
    else:
        print("Topics are up to date (nothing changed since the last run; --refit fits again).")
    if report is not None:
        _print_topics_report(report)
    _print_topics(store, by=args.by, config=config, places=args.places)
    return 0


def cmd_code_text(args: argparse.Namespace) -> int:

    from toolkit.coding import code_texts, study_coder

    frame = _read_csv(args.input)
    _require_columns(args.input, frame, [args.text_column])
    config, store = _open_study(args.study) if args.study else (None, None)
    coder = study_coder(config, store)
    coded = code_texts(frame[args.text_column].fillna("").tolist(), coder)
    out = frame.join(coded.drop(columns=["evidence"]).add_prefix("" if args.text_column not in coded else "coded_"))
    from toolkit.io import atomic_write

    atomic_write(args.out, lambda tmp: out.to_csv(tmp, index=False), private=True)
    counts = coded["polarity"].value_counts().to_dict()
    print(f"Coded {coded['theme'].notna().sum()} of {len(coded)} rows ({counts}); wrote {args.out}")
    return 0


def cmd_import_codings(args: argparse.Namespace) -> int:
    from toolkit.api import Study

    config, store = _open_study(args.study)
    report = Study(config, store).import_codings(args.input, coder=args.coder)
    print(f"{args.input.name}: {report.summary()}")
    for label in report.unmatched[:10]:
        print(f"  not placed: {label}")
    return 0


def cmd_agreement(args: argparse.Namespace) -> int:
    from toolkit.coding import compare_coders

    config, store = _open_study(args.study)
    a, b = args.coders if args.coders else (None, None)
    comparison = compare_coders(store, a, b, field=args.field, ignore_uncoded=args.ignore_uncoded)
    print(
        f"Agreement on {args.field} between '{comparison.coder_a}' and '{comparison.coder_b}' over "
        f"{len(comparison.primary)} segments both coded:"
    )
    print(comparison.report.to_text())
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from toolkit.coding import code_texts, evaluate_coder, study_codebook, study_coder, training_frame
    from toolkit.coding.evaluate import evaluate_study
    from toolkit.coding.stage import unfitted_coder

    gold = _read_csv(args.gold)
    _require_columns(args.gold, gold, [args.text_column, "theme", "polarity"])
    gold = gold.rename(columns={args.text_column: "text"})
    config, store = _open_study(args.study) if args.study else (None, None)
    codebook = study_codebook(config)
    training = training_frame(store.table("human_codings")) if store is not None else None
    base = study_coder(config, store, codebook=codebook)

    def make_coder(rows):
        return unfitted_coder(codebook, config.coding if config else None, embedder=base.embedder, nlp=base.nlp,
                              seed=config.seed if config else 42).fit(rows)

    tables = evaluate_coder(gold, code_texts(gold, make_coder(None)))
    print("Zero-shot (the codebook only, no reviewed codings):")
    for name, table in tables.items():
        n = len(gold) if name == "theme" else int(table.loc[table.index[:-3], "support"].sum())
        print(f"\n{name.capitalize()} ({n} segments):")
        print(table.round(3).to_string())
    print()
    print(evaluate_study(gold, make_coder=make_coder, training=training, codebook=codebook, curve=args.curve))
    return 0


def _print_coding(report, store) -> None:
    if report is None:
        print("Nothing to code: the store holds no participant segments.")
        return
    print(
        f"Coded {report.coded_segments} of {report.segments} "
        f"{ {'all': 'participant', 'new': 'new', 'codebook edit': 'participant (only those a codebook edit touches)'}[report.mode]} "
        "segments "
        f"({report.codings} codings; codebook {report.codebook_version}; "
        f"{report.human_codings_used} human codings used for training; embeddings: {report.embeddings_computed} "
        f"computed, {report.embeddings_cached} from cache)."
    )
    from toolkit import schema as sc
    from toolkit.coding import resolve_codings

    codings = resolve_codings(store.table(sc.CODINGS), store.table(sc.HUMAN_CODINGS))
    if codings.empty:
        return
    segments = store.segments_frame(evidence_only=True)[[sc.SEGMENT_KEY, sc.PLACE]]
    table = codings[codings[sc.RANK] == 1].merge(segments, on=sc.SEGMENT_KEY)
    print()
    print(table.pivot_table(index=sc.PLACE, columns=sc.POLARITY, values=sc.SEGMENT_KEY, aggfunc="count", fill_value=0).to_string())


def _print_topics_report(report) -> None:
    structure = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in report.structure.items()) or "none"
    stability = report.stability or {}
    print(
        f"Topics: {report.topics} topics over {report.segments} segments ({report.restating_topics} restate a codebook "
        f"theme, {report.candidate_new} candidate new themes"
        + (f", {report.seeded_topics} seeded by codebook themes" if report.seeded_topics else "") + "). "
        f"Set aside as structure: {structure}; {report.short} too short to say anything alone; "
        f"{report.outliers} fit no topic ({report.outliers_reduced} outliers moved to a close topic). "
        f"Edits replayed: {report.edits_applied}"
        + (f", not found again: {report.edits_not_found}" if report.edits_not_found else "")
        + f". {report.seconds:.1f} s."
    )
    if getattr(report, "mode", ""):
        print(f"Topics {'fitted on every segment' if report.mode == 'refit' else 'kept; new segments joined them'}: "
              f"{report.reason}.")
    if stability.get("seeds"):
        print(f"Stability over {len(stability['seeds'])} other seeds: adjusted Rand index {stability['mean_ari']:.2f}; "
              f"{stability['stable_topics']} topics stable (match >= 0.75), {stability['dissolving_topics']} dissolve "
              "(< 0.5).")


def _print_topics(store, by: str = "place", *, config, places: bool = False) -> None:
    from toolkit import schema as sc
    from toolkit.analysis.topics import distribution_table
    from toolkit.api import Study
    from toolkit.topics.stability import stability_label

    study = Study(config, store)
    topics = study.topics()
    if topics.empty:
        print("No topics yet: run 'toolkit topics STUDY'.")
        return
    relations = study.topic_relations()
    print()
    print(f"{'topic':>5}  {'size':>5}  {'stability':<9}  {'label':<58}  beside the codebook")
    for row in topics.itertuples():
        stable = stability_label(row.stability) if row.topic != sc.OUTLIER_TOPIC else ""
        print(f"{row.topic:>5}  {row.size:>5}  {stable:<9}  {str(row.topic_label)[:58]:<58}  {relations[row.topic]}")
        if row.topic != sc.OUTLIER_TOPIC and row.keywords:
            print(f"{'':>24}{', '.join(map(str, row.keywords[:6]))}")
    candidates = study.candidate_themes()
    if not candidates.empty:
        print(f"\nCandidate new themes ({len(candidates)}): add one with --add-to-codebook TOPIC")
        quotes = study.segments_by_keys([k for keys in candidates[sc.REPRESENTATIVE] for k in keys[:2]])
        text = dict(zip(quotes[sc.SEGMENT_KEY], quotes[sc.TEXT])) if not quotes.empty else {}
        for row in candidates.itertuples():
            where = f"; over-represented in {', '.join(row.distinctive_places)}" if row.distinctive_places else ""
            print(f"  {row.topic}: {row.topic_label} ({row.size} segments, {row.stability_label or 'stability not measured'}"
                  f"{where})")
            for reason in row.reasons:
                print(f"      because {reason}")
            for key in row.representative[:2]:
                if key in text:
                    print(f"      \u201c{text[key][:150]}\u201d")
    table = distribution_table(study.topic_distribution(by=by), by=by)  # the dashboard's numbers
    if not table.empty:
        print()
        print(table.to_string())
    if places:
        view = study.place_view(by=by)
        if view.empty:
            print(f"\nNothing stands out by {by} (no topic or keyphrase over-represented at z >= 1.96).")
        for value, group in view.groupby(by, sort=True):
            print(f"\nDistinctive of {value}:")
            for row in group.itertuples():
                print(f"  {row.kind:<9} {str(row.item)[:60]:<60} z {row.z:>5.1f}  {row.segments} segments "
                      f"({row.share_here:.0%} here, {row.share_elsewhere:.0%} elsewhere)")


# --------------------------------------------------------------------------- output
def _print_ingest(report) -> None:
    renamed = f", {len(report.renamed)} renamed or moved" if report.renamed else ""
    print(
        f"Ingest: {len(report.added)} added, {len(report.updated)} updated{renamed}, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed."
    )
    if report.unsupported:
        shown = ", ".join(report.unsupported[:5]) + (" ..." if len(report.unsupported) > 5 else "")
        print(f"Skipped {len(report.unsupported)} file(s) in formats the toolkit does not read: {shown}")
    for path, message in report.failed:
        print(f"Not stored: {message}", file=sys.stderr)
    for path, warnings in report.warnings.items():
        for warning in warnings:
            print(f"note: {path}: {warning}")
    pseudo = report.pseudonymisation or {}
    if pseudo.get("replaced"):
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(pseudo["replaced"].items()))
        print(f"Pseudonymised: {kinds}.")
    if pseudo.get("report_path"):
        print(f"Pseudonymisation report (check the residual-risk list): {pseudo['report_path']}")


def _print_places(store) -> None:
    summary = store.place_summary()
    if summary.empty:
        print("The store is empty.")
        return
    print()
    print(summary.to_string(index=False))
