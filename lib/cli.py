"""The `onboarding` command (also `python -m lib`), thin over the feature packages: each
command opens its unit of work once. Exit status: 0 ok, 1 bad input (nothing written),
2 usage error. Reference: docs/interface.md."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy.exc
from sqlalchemy import Engine

from lib import settings
from lib.accounts import auth
from lib.digest import options as digest_options
from lib.errors import UserError
from lib.store import db

EXIT_OK, EXIT_BAD_INPUT, EXIT_USAGE = 0, 1, 2


class UsageError(UserError):
    """A command line the program cannot act on (exit 2)."""


class BadInput(UserError):
    """Input the program refuses (exit 1); nothing was written."""


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected 1 or more")
    return value


def _engine(args: argparse.Namespace) -> Engine:
    return db.make_engine(settings.database_url(args.db))


# ------------------------------------------------------------------ commands
# Each command imports the packages it needs when it runs: `onboarding user list`
# should not pay for pandas, Arrow and the audit.


def cmd_init(args: argparse.Namespace) -> int:
    engine = _engine(args)
    db.migrate(engine)
    print(f"Schema is up to date ({engine.url.render_as_string(hide_password=True)}).")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from lib import demo
    from lib.demo import homework_history_store

    engine = _engine(args)
    db.migrate(engine)
    if not db.is_empty(engine):
        if args.if_empty:
            print("The database already has customers; demo data not loaded.")
            return EXIT_OK
        if not args.replace:
            raise BadInput(
                "the database already has customers: use --replace to wipe it and load the "
                "demo, or --if-empty to leave it as it is"
            )
    as_of = args.as_of or dt.date.today()
    data = demo.generate(customers=args.customers, seed=args.seed, as_of=as_of)
    if args.csv_dir:
        for path in data.write_csvs(Path(args.csv_dir)):
            print(f"wrote {path}")
        return EXIT_OK
    with db.write_session(engine, "demo") as session:
        demo.load(session, data, replace=args.replace)
        # Findings first seen at the outreach, some fixed on the first call, refunds;
        # then homework sent where the homework step is done, verified against usage.
        history = demo.record_history(session, as_of, seed=args.seed)
        tasks = homework_history_store.assign_homework(session, as_of)
    print(
        f"Loaded demo data: {len(data.customers)} customers, {len(data.usage):,} usage rows, "
        f"{len(data.steps)} recorded steps, {len(data.meetings)} meetings, "
        f"{history['findings_fixed']} findings fixed on calls, {history['refunds']} refunds "
        f"({history['repeats']} repeats), "
        f"{tasks} homework tasks (as of {as_of})."
    )
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from lib import ingest

    engine = _engine(args)
    try:
        loaded, warnings = ingest.validate_paths(args.paths)
        ingest.ensure_schema(engine)
        with db.write_session(engine, args.user) as session:
            result = ingest.write(session, loaded, dt.date.today(), warnings, show_progress=True)
    except ingest.ImportRejected as rejected:
        raise BadInput(rejected.summary()) from None
    print(result.summary())
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from lib.program import report_store
    from lib.store import usage_summary

    if not args.json:
        raise UsageError("report: only --json output exists; add --json")
    engine = _engine(args)
    db.ensure_schema(engine)
    as_of = args.as_of or dt.date.today()
    if args.customer is None:
        usage_summary.ensure(engine, as_of)  # everyone's sums, kept for the next report
    with db.read_session(engine) as session:
        reports = report_store.build(session, as_of, customer_id=args.customer)
    if args.customer is not None:
        if not reports:
            raise BadInput(f"--customer {args.customer!r}: no such customer")
        json.dump(reports[0].as_json(), sys.stdout, indent=2)
    else:
        # One customer a line: json's C encoder (indent=2 runs the pure-Python one,
        # ~3 s for 10,000 customers), still one JSON array a reader can scan by eye.
        sys.stdout.write("[\n")
        sys.stdout.write(",\n".join(json.dumps(r.as_json()) for r in reports))
        sys.stdout.write("\n]" if reports else "]")
    sys.stdout.write("\n")
    return EXIT_OK


def cmd_user_add(args: argparse.Namespace) -> int:
    path = settings.auth_file(args.auth)
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise BadInput("user add: give the password on standard input (one line)")
    try:
        created = auth.add_user(
            path, args.username, args.role, password, args.name, args.email, revops=args.revops
        )
    except auth.AuthError as error:
        raise BadInput(f"user add: {error}") from None
    approver = next(u.revops for u in auth.users(path) if u.username == args.username)
    what = f"{args.role}, approves refunds" if approver else args.role
    print(f"{'Created' if created else 'Updated'} {args.username} ({what}) in {path}.")
    return EXIT_OK


def cmd_user_list(args: argparse.Namespace) -> int:
    for user in auth.users(settings.auth_file(args.auth)):
        approver = "\trevops" if user.revops else ""  # a last column: approves refunds
        print(f"{user.username}\t{user.role}\t{user.name}\t{user.email}{approver}")
    return EXIT_OK


def cmd_user_ensure_admin(args: argparse.Namespace) -> int:
    path = settings.auth_file(args.auth)
    password = auth.ensure_admin(path)
    if password is None:
        print(f"Logins exist in {path}; none created.")
    else:
        bar = "=" * 64
        print(
            f"{bar}\nFirst run: created the login 'admin' with the password\n\n    {password}\n\n"
            "It is shown only this once. Sign in and add your team on the Users page,\n"
            f"or with `onboarding user add NAME --role team`.\n{bar}"
        )
    return EXIT_OK


def cmd_user_unlock(args: argparse.Namespace) -> int:
    from lib import accounts
    from lib.accounts import login_guard

    if (args.username is None) == (args.address is None):
        raise UsageError("user unlock: give a username or --address ADDRESS (one of them)")
    kind, key = (
        (login_guard.NAME, args.username)
        if args.username is not None
        else (login_guard.ADDRESS, args.address)
    )
    with db.write_session(_engine(args), args.user) as session:
        gone = accounts.unlock(session, kind, key)
    what = f"{kind} {key}"
    print(
        f"Cleared {gone} failed sign-in(s) of {what}." if gone else f"No failed sign-ins of {what}."
    )
    return EXIT_OK


def cmd_sync_posthog(args: argparse.Namespace) -> int:
    from lib import ingest
    from lib.ingest import posthog_client, posthog_store, posthog_sync

    engine = _engine(args)
    try:
        connection = posthog_client.Connection.from_env()
        ingest.ensure_schema(engine)
        with db.read_session(engine) as session:
            state = posthog_store.read_state(session, connection)
        with posthog_sync.progress_bar() as progress:
            fetched = posthog_sync.fetch(
                connection, state, posthog_sync.yesterday(), args.since, progress=progress
            )
            with db.write_session(engine, args.user) as session:
                result = posthog_store.write(
                    session, fetched, dt.date.today(), args.dry_run, progress
                )
    except posthog_client.ConfigError as error:
        raise UsageError(f"sync posthog: {error}") from None
    except posthog_client.SyncError as error:
        raise BadInput(f"sync posthog: {error}") from None
    except ingest.ImportRejected as rejected:
        raise BadInput(f"sync posthog: {rejected.summary()}") from None
    print(result.summary())
    return EXIT_OK


def cmd_sync_mail(args: argparse.Namespace) -> int:
    import os

    from lib import replies

    engine = _engine(args)
    try:
        mailbox = replies.load(os.environ)
    except replies.MailboxSettingsError as error:
        raise UsageError(f"sync mail: {error}") from None
    if mailbox is None:
        raise UsageError(
            "sync mail: no mailbox is configured: set ONBOARDING_IMAP_HOST, "
            'ONBOARDING_IMAP_USER and ONBOARDING_IMAP_PASSWORD (README, "Replies from a mailbox")'
        )
    today = dt.date.today()
    logins = [user.email for user in auth.users(settings.auth_file(args.auth))]
    db.ensure_schema(engine)
    with db.read_session(engine) as session:
        known = replies.known(session, replies.team_addresses(mailbox, logins))
    try:
        found = replies.collect(mailbox, known, args.since or replies.default_since(today))
    except replies.MailboxError as error:
        raise BadInput(f"sync mail: {error}; nothing was recorded") from None
    if args.dry_run:
        print(found.summary(dry_run=True))
        return EXIT_OK
    with db.write_session(engine, args.user) as session:
        recorded = replies.record(session, found.new, today)
    print(found.summary(recorded=len(recorded)))
    return EXIT_OK


def cmd_digest(args: argparse.Namespace) -> int:
    import os

    from lib.digest import job_store

    if not (args.dry_run or args.send):
        raise UsageError("digest: add --dry-run to print the digests or --send to deliver them")
    path = settings.auth_file(args.auth)
    try:
        job = job_store.prepare(_engine(args), os.environ, path, args.as_of, args.owner, args.now)
    except job_store.DigestSettingsError as error:
        raise UsageError(f"digest: {error}") from None
    if args.dry_run:
        sys.stdout.write(job.text())
        return EXIT_OK
    return EXIT_BAD_INPUT if job.send() else EXIT_OK


def cmd_user_digest(args: argparse.Namespace) -> int:
    from lib.accounts import digest_prefs

    path = settings.auth_file(args.auth)
    try:
        prefs = digest_prefs.set_prefs(
            path, args.username, args.channels, args.hour, args.timezone, args.slack_user
        )
    except auth.AuthError as error:
        raise BadInput(f"user digest: {error}") from None
    print(f"{args.username}'s digest: {prefs.describe}.")
    return EXIT_OK


# -------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="onboarding", description="The onboarding console's command line."
    )
    parser.add_argument("--db", metavar="URL", help="SQLAlchemy database URL")
    parser.add_argument("--auth", metavar="FILE", help="login file (YAML)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    init = commands.add_parser("init", help="create or migrate the schema")
    init.set_defaults(func=cmd_init)

    demo = commands.add_parser("demo", help="load the deterministic demo data set")
    demo.add_argument(
        "--customers", type=_positive_int, default=300, metavar="N", help="how many (300)"
    )
    demo.add_argument("--seed", type=int, default=7, metavar="S", help="same seed, same data (7)")
    demo.add_argument(
        "--as-of", type=_iso_date, dest="as_of", metavar="DATE", help="the data's today"
    )
    demo.add_argument("--if-empty", action="store_true", help="do nothing if customers exist")
    demo.add_argument("--replace", action="store_true", help="wipe existing data first")
    demo.add_argument("--csv-dir", metavar="DIR", help="write the five CSVs instead of loading")
    demo.set_defaults(func=cmd_demo)

    imp = commands.add_parser("import", help="import CSV files or folders (all-or-nothing)")
    imp.add_argument("paths", nargs="+", metavar="PATH")
    imp.add_argument("--user", default="cli", help="who the audit log names (default: cli)")
    imp.set_defaults(func=cmd_import)

    rep = commands.add_parser("report", help="print the per-customer report")
    rep.add_argument("--as-of", type=_iso_date, dest="as_of", metavar="DATE", help="default: today")
    rep.add_argument("--customer", metavar="ID", help="one customer's object, not the array")
    rep.add_argument("--json", action="store_true", help="JSON on standard output (required)")
    rep.set_defaults(func=cmd_report)

    sync = commands.add_parser("sync", help="pull data from a source (posthog, mail)")
    sources = sync.add_subparsers(dest="sync_source", metavar="SOURCE", required=True)
    posthog = sources.add_parser("posthog", help="usage via PostHog's query API (HogQL)")
    posthog.add_argument(
        "--since",
        type=_iso_date,
        metavar="DATE",
        help="re-fetch from this day (default: after the last sync)",
    )
    posthog.add_argument(
        "--dry-run",
        action="store_true",
        dest="dry_run",
        help="show what would change; write nothing",
    )
    posthog.add_argument("--user", default="cli", help="who the audit log names (default: cli)")
    posthog.set_defaults(func=cmd_sync_posthog)
    mail = sources.add_parser("mail", help="customers' replies from the team's IMAP mailbox")
    mail.add_argument(
        "--since",
        type=_iso_date,
        metavar="DATE",
        help="messages received from this day (default: the last 30 days)",
    )
    mail.add_argument(
        "--dry-run", action="store_true", dest="dry_run", help="show what would be recorded"
    )
    mail.add_argument("--user", default="cli", help="who the audit log names (default: cli)")
    mail.set_defaults(func=cmd_sync_mail)

    digest_options.add_digest(commands, cmd_digest, _iso_date)

    user = commands.add_parser("user", help="manage logins")
    user_commands = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = user_commands.add_parser("add", help="create or update a login (password on stdin)")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=["admin", "team", "leadership"])
    add.add_argument("--name")
    add.add_argument("--email")
    add.add_argument(
        "--revops",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="one of revenue operations' refund approvers (team or admin); "
        "--no-revops: no longer (default: unchanged)",
    )
    add.set_defaults(func=cmd_user_add)
    listing = user_commands.add_parser("list", help="list logins")
    listing.set_defaults(func=cmd_user_list)
    ensure = user_commands.add_parser(
        "ensure-admin", help="first run only: create 'admin' with a random password"
    )
    ensure.set_defaults(func=cmd_user_ensure_admin)
    unlock = user_commands.add_parser(
        "unlock", help="clear the failed sign-ins that lock a username or an address"
    )
    unlock.add_argument("username", nargs="?", help="the username to unlock")
    unlock.add_argument("--address", metavar="ADDRESS", help="a client address to unlock instead")
    unlock.add_argument("--user", default="cli", help="who the audit log names (default: cli)")
    unlock.set_defaults(func=cmd_user_unlock)
    digest_options.add_user_digest(user_commands, cmd_user_digest)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    try:
        return int(args.func(args))
    except UsageError as error:
        print(f"onboarding: {error}", file=sys.stderr)
        return EXIT_USAGE
    except db.DatabaseUrlError as error:  # the URL itself: a usage error, like a bad option
        print(f"onboarding: {error}", file=sys.stderr)
        return EXIT_USAGE
    except UserError as error:  # BadInput and every refusal from lib
        print(f"onboarding: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except sqlalchemy.exc.ArgumentError as error:
        print(f"onboarding: --db: not a database URL ({error})", file=sys.stderr)
        return EXIT_USAGE
    except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError) as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        print(f"onboarding: cannot use the database: {reason}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:
        print(f"onboarding: {error.strerror or error}: {error.filename or ''}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("onboarding: interrupted; nothing was written", file=sys.stderr)
        return 130
