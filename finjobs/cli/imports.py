"""`finjobs import preview|enqueue|status|list|undo`: bank CSV imports."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import typer

from finjobs.cli import context
from finjobs.errors import InputError

app = typer.Typer(help="Bank CSV imports.", no_args_is_help=True)

PRESET = typer.Option(None, "--preset", help="A named column preset (see `finjobs import preset list`).")
ACCOUNT_TYPE = typer.Option(
    "checking", "--account-type", help="checking | savings | credit (flips card signs)."
)
MAP = typer.Option(
    None, "--map", help="Explicit columns, e.g. date=Buchungstag,amount=Betrag,description=Text."
)
JSON = typer.Option(False, "--json", help="Print one JSON document.")
LOCALE = typer.Option(
    None, "--locale", help="e.g. en_GB or en_US: the date order when every date fits both orders."
)


@app.command()
def preview(
    file: Path,
    preset: str | None = PRESET,
    account_type: str = ACCOUNT_TYPE,
    column_map: str | None = MAP,
    user: str | None = typer.Option(
        None, "--user", "-u", help="Whose saved presets --preset may name, and whose account history answers."
    ),
    account: str = typer.Option(
        "default",
        "--account",
        "-a",
        help="With --user: the account whose earlier imports answer open questions.",
    ),
    limit: int = typer.Option(20, help="Rows to show (JSON: all rows with --limit 0)."),
    locale: str | None = LOCALE,
    json_out: bool = JSON,
) -> None:
    """Show the detected format, why each column got its role, each open question with the answer an import
    would use (the account's history with --user, the preset, the locale) and the rows. Writes nothing."""
    from finjobs.adapters.statement_files import structured_preview
    from finjobs.domain.statements import parse_column_map
    from finjobs.domain.statements import preview as run_preview
    from finjobs.services.imports import check_options

    opts = check_options({"preset": preset, "account_type": account_type, "column_map": column_map})
    chosen, answers = _preview_answers(preset, user, account, locale)
    data = context.read_input(file)
    rows_limit = (limit or None) if json_out else limit
    # an OFX/QFX or CAMT file previews through its own reader (adapters/statement_files.py)
    doc = structured_preview(lambda: io.BytesIO(data), source=str(file), limit=rows_limit) or run_preview(
        lambda: io.BytesIO(data),
        source=str(file),
        preset=chosen,
        column_map=parse_column_map(column_map) if column_map else None,
        account_type=opts["account_type"],
        limit=rows_limit,
        **answers.as_options(),
    )
    fmt = doc.get("format") or {}
    doc["questions"] = [
        {"question": q, "answer": a}
        for q, a in zip(fmt.get("open_questions") or [], fmt.get("assumptions") or [], strict=False)
    ]
    if json_out:
        context.emit_json(doc)
        return
    from rich.table import Table

    _print_format(doc["format"])
    table = Table(title=f"rows (first {limit})", title_justify="left")
    for col in ("date", "amount", "description"):
        table.add_column(col, justify="right" if col == "amount" else "left")
    for row in doc["rows"]:
        table.add_row(row["date"], row["amount"], row["description"])
    context.console.print(table)
    for skipped in doc["skipped"][:limit]:
        context.console.print(
            f"[yellow]skipped line {skipped['line']}[/yellow]: {skipped['reason']}", highlight=False
        )


def _preview_answers(
    preset: str | None, user: str | None, account: str, locale: str | None
) -> tuple[Any, Any]:
    """(the preset, the answers an import would use): with --user the account's history (services
    statement_choices, as the import itself), else the preset and the locale alone."""
    from finjobs.domain.statement_roles import locale_date_order
    from finjobs.services.imports import resolve_preset
    from finjobs.services.statement_choices import Answers, account_answers, preset_sign
    from finjobs.services.users import get_user

    if user is None:
        chosen = None
        if preset:
            with context.session() as s:
                chosen = resolve_preset(s, None, preset)
        locale = locale or context.settings().locale
        order = locale_date_order(locale) if locale else None
        return chosen, Answers(
            date_order=(order, f"locale {locale}") if order else None, sign=preset_sign(chosen)
        )
    with context.session() as s:
        user_id = get_user(s, user).id
        chosen = resolve_preset(s, user_id, preset) if preset else None
        answers = account_answers(
            s, user_id, account, settings=context.settings(), locale=locale, preset=chosen
        )
    return chosen, answers


def _print_format(fmt: dict[str, Any]) -> None:
    """The format's settings, then per role the chosen column and its evidence, then each open question
    with the answer taken (and where it came from)."""
    evidence = fmt.get("evidence") or {}
    for key, value in fmt.items():
        if key not in ("columns", "evidence", "open_questions", "assumptions"):
            context.console.print(f"[bold]{key}[/bold]: {value}", highlight=False)
    for role, cols in fmt["columns"].items():
        why = evidence.get(role, "")
        context.console.print(f"[bold]{role}[/bold]: {cols}  [dim]{why}[/dim]", highlight=False)
    questions, answers = fmt.get("open_questions") or [], fmt.get("assumptions") or []
    for i in range(max(len(questions), len(answers))):
        if i < len(questions):
            context.console.print(f"[yellow]open question[/yellow]: {questions[i]}", highlight=False)
        if i < len(answers):
            context.console.print(f"  [yellow]assumed[/yellow]: {answers[i]}", highlight=False)


@app.command("enqueue")
def enqueue_cmd(
    file: Path,
    user: str = typer.Option(..., "--user", "-u", help="User id or email."),
    account: str = typer.Option("default", "--account", "-a", help="Account name (part of de-duplication)."),
    preset: str | None = PRESET,
    account_type: str = ACCOUNT_TYPE,
    column_map: str | None = MAP,
    locale: str | None = LOCALE,
    wait: bool = typer.Option(False, "--wait", help="Follow the import with a progress bar."),
    timeout: float = typer.Option(3600, help="Seconds to wait with --wait."),
    json_out: bool = JSON,
) -> None:
    """Store the file in the database and queue its import (csv-import)."""
    from finjobs.services.imports import accept_import, enqueue_import
    from finjobs.services.users import get_user

    data = context.read_input(file)
    with context.session() as s:
        user_id = get_user(s, user).id
        log = accept_import(
            s,
            user_id,
            file.name,
            data,
            settings=context.settings(),
            account=account,
            options={
                "preset": preset,
                "account_type": account_type,
                "column_map": column_map,
                "locale": locale,
            },
        )
        import_id = log.id
    job = enqueue_import(context.redis(), import_id)
    doc: dict[str, Any] = {"id": import_id, "job_id": job.id, "status": "accepted"}
    if wait:
        follow(import_id, timeout=timeout, quiet=json_out)
        doc = _status(import_id)
    if json_out:
        context.emit_json(doc)
    else:
        context.console.print(_line(doc), highlight=False)
    if wait and doc["status"] != "completed":
        raise typer.Exit(1)


def _status(import_id: int) -> dict[str, Any]:
    from finjobs.services.imports import import_status

    with context.session() as s:
        return import_status(s, context.redis(), import_id)


def _line(doc: dict[str, Any]) -> str:
    counts = " ".join(
        f"{k}={doc.get(k)}" for k in ("processed", "imported", "skipped", "duplicates") if k in doc
    )
    if by := doc.get("categorised"):
        counts += " categorised " + " ".join(f"by_{k}={n}" for k, n in by.items())
    tail = f" ({doc['error_message']})" if doc.get("error_message") else ""
    tail += "".join(f" [assumed: {a}]" for a in doc.get("assumptions") or [])
    return f"import {doc['id']}: {doc['status']} {counts}{tail}"


def follow(import_id: int, *, timeout: float, quiet: bool) -> None:
    """A live progress bar over import_status() (the same read the API serves) until it is final."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from finjobs.services.imports import FINAL

    deadline = time.monotonic() + timeout
    cols = (
        TextColumn("import {task.fields[id]} {task.fields[status]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(
            "imported={task.fields[imported]} skipped={task.fields[skipped]} "
            "duplicates={task.fields[duplicates]}"
        ),
        TimeElapsedColumn(),
    )
    with Progress(*cols, console=context.err_console, disable=quiet) as bar:
        task = bar.add_task(
            "import", total=None, id=import_id, status="accepted", imported=0, skipped=0, duplicates=0
        )
        while True:
            doc = _status(import_id)
            bar.update(
                task,
                completed=doc.get("processed") or 0,
                total=doc.get("total"),
                status=doc["status"],
                imported=doc.get("imported"),
                skipped=doc.get("skipped"),
                duplicates=doc.get("duplicates"),
            )
            if doc["status"] in FINAL:
                return
            if doc.get("job_status") == "failed" and doc["status"] not in FINAL:
                context.err_console.print(
                    f"[red]import {import_id}: its job failed[/red] (see `finjobs jobs failed`)"
                )
                return
            if time.monotonic() > deadline:
                raise InputError(f"import {import_id} still {doc['status']} after {timeout:.0f} s")
            time.sleep(0.25)


@app.command()
def status(import_id: int, json_out: bool = JSON) -> None:
    """An import's status and counts (live while it runs)."""
    doc = _status(import_id)
    if json_out:
        context.emit_json(doc)
        return
    context.console.print(_line(doc), highlight=False)
    for err in doc.get("errors") or []:
        context.console.print(f"  line {err.get('line')}: {err.get('reason')}", highlight=False)


@app.command("list")
def list_cmd(user: str = typer.Option(..., "--user", "-u"), json_out: bool = JSON) -> None:
    """A user's recent imports."""
    from finjobs.services.imports import list_imports
    from finjobs.services.users import get_user

    with context.session() as s:
        docs = list_imports(s, get_user(s, user).id)
    if json_out:
        context.emit_json({"imports": docs})
        return
    for doc in docs:
        context.console.print(_line(doc), highlight=False)


@app.command()
def undo(import_id: int, json_out: bool = JSON) -> None:
    """Remove exactly the transactions this import created."""
    from finjobs.services.imports import undo_import

    with context.session() as s:
        doc = undo_import(s, context.redis(), import_id)
    if json_out:
        context.emit_json(doc)
    else:
        context.console.print(f"import {import_id} undone: removed {doc['removed']} transaction(s)")


preset_app = typer.Typer(help="Column presets: built-in ones and a user's saved ones.", no_args_is_help=True)
app.add_typer(preset_app, name="preset")


@preset_app.command("save")
def preset_save(
    name: str,
    user: str = typer.Option(..., "--user", "-u", help="User id or email."),
    column_map: str = typer.Option(..., "--map", help="Columns, e.g. date=Buchungstag,amount=Betrag."),
    account_type: str | None = typer.Option(None, "--account-type", help="checking | savings | credit."),
    date_order: str | None = typer.Option(None, "--date-order", help="DMY | MDY | YMD."),
    decimal_sep: str | None = typer.Option(None, "--decimal-sep", help="'.' or ','."),
    delimiter: str | None = typer.Option(None, "--delimiter", help="',' ';' '|' or 'tab'."),
    currency: str | None = typer.Option(None, "--currency", help="ISO code when the file names none."),
    json_out: bool = JSON,
) -> None:
    """Save (or replace) a preset for reuse with `--preset NAME` (imports, previews and the API)."""
    from finjobs.domain.statements import ColumnPreset, parse_column_map
    from finjobs.services.imports import save_preset
    from finjobs.services.users import get_user

    columns = {role: names.split("|") for role, names in parse_column_map(column_map).items()}
    preset = ColumnPreset.from_dict(
        {
            "name": name,
            "columns": columns,
            "account_type": account_type,
            "date_order": date_order,
            "decimal_sep": decimal_sep,
            "delimiter": "\t" if delimiter == "tab" else delimiter,
            "currency": currency.upper() if currency else None,
        }
    )
    with context.session() as s:
        doc = save_preset(s, get_user(s, user).id, preset)
    if json_out:
        context.emit_json(doc)
    else:
        context.console.print(f"saved preset [bold]{name}[/bold]: {doc['columns']}", highlight=False)


@preset_app.command("list")
def preset_list(
    user: str | None = typer.Option(None, "--user", "-u", help="Also this user's saved presets."),
    json_out: bool = JSON,
) -> None:
    """Saved presets (with --user) and the built-in ones."""
    from finjobs.services.imports import list_presets
    from finjobs.services.users import get_user

    with context.session() as s:
        docs = list_presets(s, get_user(s, user).id if user else None)
    if json_out:
        context.emit_json({"presets": docs})
        return
    for doc in docs:
        context.console.print(
            f"[bold]{doc['name']}[/bold] ({doc['source']}): {doc['columns']}", highlight=False
        )


@preset_app.command("delete")
def preset_delete(name: str, user: str = typer.Option(..., "--user", "-u"), json_out: bool = JSON) -> None:
    """Delete one of the user's saved presets."""
    from finjobs.services.imports import delete_preset
    from finjobs.services.users import get_user

    with context.session() as s:
        delete_preset(s, get_user(s, user).id, name)
    if json_out:
        context.emit_json({"deleted": name})
    else:
        context.console.print(f"deleted preset {name}")
